/**
 * Names are unique across the cluster: a login claims `name:<key>` in Redis (SET NX with an
 * expiry) together with its place in the online list, and the node refreshes the expiry of
 * every name it holds while the session lives. A node that dies without cleaning up loses its
 * names when a survivor buries it (node-registry.ts), or at the latest when they expire.
 *
 * This node's own view (`claims`) is what it re-claims after Redis comes back empty or after it
 * was presumed dead; a name someone else holds by then is lost, and its session is closed.
 */
import type { Logger } from 'pino';
import type { PresenceStatus } from '../hub.js';
import type { Session } from '../ws/session.js';
import { K, nameValue, parseNameValue, type NameRecord } from './keys.js';
import type { RedisLink } from './redis-link.js';
import { CLAIM, REFRESH, RELEASE, SET_STATUS } from './scripts.js';

const CHUNK = 1000;
const UNRELEASED_MAX = 100_000;

export interface NamesOptions {
  readonly nodeId: string;
  readonly nameTtlMs: number;
  /** Publish status changes on the presence channel (off with --presence off). */
  readonly presence: boolean;
}

interface Claim {
  readonly value: string;
  readonly session: Session;
}

export class Names {
  private readonly claims = new Map<string, Claim>();
  /** Names let go while Redis was unreachable, still to be released there. */
  private readonly unreleased = new Map<string, { value: string; name: string }>();

  constructor(
    private readonly link: RedisLink,
    private readonly options: NamesOptions,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.claims.size;
  }

  owns(session: Session): boolean {
    return this.claims.get(session.key)?.session === session;
  }

  private valueOf(session: Session): string {
    return nameValue({
      node: this.options.nodeId,
      dialect: session.dialect.name,
      display: session.name,
    });
  }

  private keysOf(session: Session): string[] {
    return [K.name(session.key), K.online, K.status, K.names(this.options.nodeId)];
  }

  /** Claim `session`'s name for a login. Rejects when Redis cannot be reached. */
  async claim(session: Session): Promise<boolean> {
    const value = this.valueOf(session);
    const r = await CLAIM.run(this.link.cmd, this.keysOf(session), [
      value,
      this.options.nameTtlMs,
      session.key,
      session.name,
      'online',
      'new',
    ]);
    return r === 1;
  }

  /** The claimed name now belongs to a live session of this node. */
  keep(session: Session): void {
    this.claims.set(session.key, { value: this.valueOf(session), session });
  }

  /** Give a name back (logout, or a login that did not complete). Never throws. */
  release(session: Session): void {
    const claim = this.claims.get(session.key);
    // Another session of this node holds the name now: it is not this one's to give back.
    if (claim !== undefined && claim.session !== session) return;
    this.claims.delete(session.key);
    const value = claim?.value ?? this.valueOf(session);
    if (!this.link.up) {
      // Redis is away: the name would expire, but its place in the online list would not.
      // Released for real once Redis is back (resync.ts), unless this node holds it again.
      if (this.unreleased.size >= UNRELEASED_MAX) {
        this.unreleased.delete(this.unreleased.keys().next().value!);
      }
      this.unreleased.set(session.key, { value, name: session.name });
      return;
    }
    this.releaseNow(session.key, session.name, value).catch((err: unknown) =>
      this.log.debug(
        { err: (err as Error).message, name: session.name },
        'cluster: release failed',
      ),
    );
  }

  private releaseNow(key: string, name: string, value: string): Promise<unknown> {
    const json = this.options.presence
      ? JSON.stringify({ node: this.options.nodeId, name, key, status: 'offline' })
      : '';
    return RELEASE.run(
      this.link.cmd,
      [K.name(key), K.online, K.status, K.names(this.options.nodeId)],
      [value, key, json ? K.presence : '', json],
    );
  }

  /** Redis is back: release what was let go while it was away. */
  async flushReleases(): Promise<void> {
    const pending = [...this.unreleased];
    this.unreleased.clear();
    await Promise.all(
      pending
        .filter(([key]) => !this.claims.has(key))
        .map(([key, { value, name }]) => this.releaseNow(key, name, value)),
    );
  }

  /** A claimed name's status changed (online/busy): record it and tell the other nodes. */
  setStatus(session: Session, status: PresenceStatus): void {
    const claim = this.claims.get(session.key);
    if (claim === undefined || claim.session !== session || !this.link.up) return;
    const json = this.options.presence ? this.presenceJson(session, status) : '';
    SET_STATUS.run(
      this.link.cmd,
      [K.name(session.key), K.status],
      [claim.value, session.key, status, json ? K.presence : '', json],
    ).catch((err: unknown) =>
      this.log.debug({ err: (err as Error).message }, 'cluster: status update failed'),
    );
  }

  private presenceJson(session: Session, status: PresenceStatus): string {
    return JSON.stringify({
      node: this.options.nodeId,
      name: session.name,
      key: session.key,
      status,
    });
  }

  /**
   * Refresh the expiry of every claimed name. Returns the sessions whose name someone else holds
   * now (they must go); names that vanished are claimed again.
   */
  async refresh(statusOf: (s: Session) => PresenceStatus): Promise<Session[]> {
    const lost: Session[] = [];
    const missing: Session[] = [];
    const entries = [...this.claims.entries()];
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK);
      const r = (await REFRESH.run(
        this.link.cmd,
        chunk.map(([key]) => K.name(key)),
        [this.options.nameTtlMs, ...chunk.map(([, h]) => h.value)],
      )) as number[];
      chunk.forEach(([, h], j) => {
        if (r[j] === -1) lost.push(h.session);
        else if (r[j] === 0) missing.push(h.session);
      });
    }
    if (missing.length > 0) lost.push(...(await this.reclaim(missing, statusOf)));
    return lost;
  }

  /**
   * Claim again every name this node holds (Redis came back, maybe empty; or this node was
   * presumed dead and buried). Returns the sessions whose name is someone else's now.
   */
  async reclaimAll(statusOf: (s: Session) => PresenceStatus): Promise<Session[]> {
    return this.reclaim(
      [...this.claims.values()].map((h) => h.session),
      statusOf,
    );
  }

  private async reclaim(
    sessions: Session[],
    statusOf: (s: Session) => PresenceStatus,
  ): Promise<Session[]> {
    const lost: Session[] = [];
    for (let i = 0; i < sessions.length; i += CHUNK) {
      const chunk = sessions.slice(i, i + CHUNK);
      const results = await Promise.all(
        chunk.map(async (s) => {
          const status = statusOf(s);
          const ok = await CLAIM.run(this.link.cmd, this.keysOf(s), [
            this.valueOf(s),
            this.options.nameTtlMs,
            s.key,
            s.name,
            status,
            'again',
          ]);
          if (ok === 1) this.setStatus(s, status);
          return ok === 1;
        }),
      );
      chunk.forEach((s, j) => {
        if (!results[j]) lost.push(s);
      });
    }
    for (const s of lost) {
      if (this.claims.get(s.key)?.session === s) this.claims.delete(s.key);
    }
    return lost;
  }

  /** Whether a node's heartbeat is still there. */
  async nodeAlive(id: string): Promise<boolean> {
    return (await this.link.cmd.exists(K.node(id))) === 1;
  }

  /** Who holds `key` (and so which node to ask). Rejects when Redis cannot be reached. */
  async locate(key: string): Promise<{ record: NameRecord | undefined }> {
    const value = await this.link.cmd.get(K.name(key));
    return { record: value === null ? undefined : parseNameValue(value) };
  }
}
