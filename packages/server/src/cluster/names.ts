/**
 * Names are unique across the cluster: a login claims `name:<key>` in Redis (SET NX with an
 * expiry) together with its place in the online list, and the node refreshes the expiry of
 * every name it holds while the session lives. A node that dies without cleaning up loses its
 * names when a survivor buries it (node-registry.ts), or at the latest when they expire.
 *
 * This node's own view (`claims`) is what it re-claims after Redis comes back empty or after it
 * was presumed dead; a name someone else holds by then is lost, and its session is closed.
 *
 * With accounts (password and jwt modes, `maxDevices` > 1) a person may be signed in on several
 * devices on any nodes: each device claims its entry in the account's `devs:<key>` hash instead
 * (at most `maxDevices` across the cluster, counted in Redis by the claim script), and the
 * person is online while any entry remains, busy while any node says so (`pstat:<key>`).
 */
import type { Logger } from 'pino';
import type { PresenceStatus } from '../hub.js';
import type { Session } from '../ws/session.js';
import { K, nameValue, parseNameValue, type NameRecord } from './keys.js';
import type { RedisLink } from './redis-link.js';
import {
  CLAIM,
  DEVICE_CLAIM,
  DEVICE_REFRESH,
  DEVICE_RELEASE,
  DEVICE_STATUS,
  REFRESH,
  RELEASE,
  SET_STATUS,
} from './scripts.js';

/** A login's claim: held, taken (by another session), or refused (too many devices). */
export type ClaimResult = 'held' | 'taken' | 'full';

/** One device of an account, as recorded in Redis. */
export interface DeviceRecord extends NameRecord {
  readonly dev: string;
}

const CHUNK = 1000;
/**
 * Names per script in the periodic refresh. Small: a script holds Redis, and so every PUBLISH
 * between nodes, until it ends, and its arguments and reply hold this node's loop; 1,000 names
 * in one script stalled cross-node messages by several ms every refresh (bench/cluster.js), 100
 * cost about a tenth of that each, with other work in between.
 */
const REFRESH_CHUNK = 100;
const UNRELEASED_MAX = 100_000;

export interface NamesOptions {
  readonly nodeId: string;
  readonly nameTtlMs: number;
  /** Publish status changes on the presence channel (off with --presence off). */
  readonly presence: boolean;
  /** Devices per account across the cluster; 1: a name is one session (open mode). */
  readonly maxDevices: number;
}

interface Claim {
  readonly value: string;
  readonly session: Session;
  /** The device id, for a device of an account (its entry in devs:<key>). */
  readonly dev: string | undefined;
}

export class Names {
  private readonly claims = new Map<string, Claim>();
  /** Names let go while Redis was unreachable, still to be released there. */
  private readonly unreleased = new Map<
    string,
    { value: string; name: string; key: string; dev: string | undefined }
  >();

  constructor(
    private readonly link: RedisLink,
    private readonly options: NamesOptions,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.claims.size;
  }

  /** Several devices per account: claims are per device (devs:<key>). */
  get multi(): boolean {
    return this.options.maxDevices > 1;
  }

  owns(session: Session): boolean {
    return this.claims.get(this.claimId(session))?.session === session;
  }

  /** The device id a session claims under, with accounts; undefined in open mode. */
  deviceOf(session: Session): string | undefined {
    return this.multi ? session.device?.id : undefined;
  }

  /** What a session's claim is filed under here: its name, or its name and device. */
  private claimId(session: Session): string {
    const dev = this.deviceOf(session);
    return dev === undefined ? session.key : `${session.key}\n${dev}`;
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

  /** Claim `session`'s name (or its device) for a login. Rejects when Redis cannot be reached. */
  async claim(session: Session): Promise<ClaimResult> {
    const value = this.valueOf(session);
    const dev = this.deviceOf(session);
    if (dev !== undefined) {
      const r = await this.claimDevice(session, dev, 'online', 'new');
      return r === 1 ? 'held' : r === -1 ? 'full' : 'taken';
    }
    const r = await CLAIM.run(this.link.cmd, this.keysOf(session), [
      value,
      this.options.nameTtlMs,
      session.key,
      session.name,
      'online',
      'new',
    ]);
    return r === 1 ? 'held' : 'taken';
  }

  private async claimDevice(
    s: Session,
    dev: string,
    status: PresenceStatus,
    mode: 'new' | 'again',
  ): Promise<number> {
    return Number(
      await DEVICE_CLAIM.run(
        this.link.cmd,
        [K.devs(s.key), K.online, K.status, K.names(this.options.nodeId), K.pstat(s.key)],
        [
          dev,
          this.valueOf(s),
          this.options.nameTtlMs,
          s.key,
          s.name,
          status,
          this.options.maxDevices,
          mode,
          this.options.nodeId,
        ],
      ),
    );
  }

  /** The claimed name now belongs to a live session of this node. */
  keep(session: Session): void {
    this.claims.set(this.claimId(session), {
      value: this.valueOf(session),
      session,
      dev: this.deviceOf(session),
    });
  }

  /**
   * Give a name back (logout, or a login that did not complete). Never throws. `lastHere`: this
   * node has no other device of the account (with accounts).
   */
  release(session: Session, lastHere = true): void {
    const id = this.claimId(session);
    const claim = this.claims.get(id);
    // Another session of this node holds the name now: it is not this one's to give back.
    if (claim !== undefined && claim.session !== session) return;
    this.claims.delete(id);
    const value = claim?.value ?? this.valueOf(session);
    const dev = claim?.dev ?? this.deviceOf(session);
    if (dev !== undefined) {
      if (!this.link.up) {
        this.keepUnreleased(id, { value, name: session.name, key: session.key, dev });
        return;
      }
      this.releaseDevice(session.key, dev, session.name, value, lastHere).catch((err: unknown) =>
        this.log.debug({ err: (err as Error).message }, 'cluster: release failed'),
      );
      return;
    }
    if (!this.link.up) {
      // Redis is away: the name would expire, but its place in the online list would not.
      // Released for real once Redis is back (resync.ts), unless this node holds it again.
      this.keepUnreleased(id, { value, name: session.name, key: session.key, dev: undefined });
      return;
    }
    this.releaseNow(session.key, session.name, value).catch((err: unknown) =>
      this.log.debug(
        { err: (err as Error).message, name: session.name },
        'cluster: release failed',
      ),
    );
  }

  private keepUnreleased(
    id: string,
    entry: { value: string; name: string; key: string; dev: string | undefined },
  ): void {
    if (this.unreleased.size >= UNRELEASED_MAX) {
      this.unreleased.delete(this.unreleased.keys().next().value!);
    }
    this.unreleased.set(id, entry);
  }

  private releaseDevice(
    key: string,
    dev: string,
    name: string,
    value: string,
    lastHere: boolean,
  ): Promise<unknown> {
    const node = this.options.nodeId;
    const mine = [...this.claims.values()].some((c) => c.session.key === key);
    return DEVICE_RELEASE.run(
      this.link.cmd,
      [K.devs(key), K.online, K.status, K.names(node), K.pstat(key)],
      [
        dev,
        value,
        key,
        this.options.presence ? K.presence : '',
        name,
        node,
        lastHere && !mine ? '1' : '0',
      ],
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
        .filter(([id]) => !this.claims.has(id))
        .map(([, { value, name, key, dev }]) =>
          dev === undefined
            ? this.releaseNow(key, name, value)
            : this.releaseDevice(key, dev, name, value, true),
        ),
    );
  }

  /** A claimed name's status changed (online/busy): record it and tell the other nodes. */
  setStatus(session: Session, status: PresenceStatus): void {
    const claim = this.claims.get(this.claimId(session));
    if (claim === undefined || claim.session !== session || !this.link.up) return;
    if (claim.dev !== undefined) {
      const node = this.options.nodeId;
      DEVICE_STATUS.run(
        this.link.cmd,
        [K.devs(session.key), K.status, K.pstat(session.key)],
        [
          claim.dev,
          claim.value,
          session.key,
          node,
          status,
          this.options.presence ? K.presence : '',
          session.name,
        ],
      ).catch((err: unknown) =>
        this.log.debug({ err: (err as Error).message }, 'cluster: status update failed'),
      );
      return;
    }
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
    const all = [...this.claims.entries()];
    const devices = all.filter(([, h]) => h.dev !== undefined);
    for (let i = 0; i < devices.length; i += REFRESH_CHUNK) {
      const chunk = devices.slice(i, i + REFRESH_CHUNK);
      const r = (await DEVICE_REFRESH.run(
        this.link.cmd,
        chunk.flatMap(([, h]) => [K.devs(h.session.key), K.pstat(h.session.key)]),
        [this.options.nameTtlMs, ...chunk.flatMap(([, h]) => [h.dev!, h.value])],
      )) as number[];
      chunk.forEach(([, h], j) => {
        if (r[j] === -1) lost.push(h.session);
        else if (r[j] === 0) missing.push(h.session);
      });
    }
    const entries = all.filter(([, h]) => h.dev === undefined);
    for (let i = 0; i < entries.length; i += REFRESH_CHUNK) {
      const chunk = entries.slice(i, i + REFRESH_CHUNK);
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
          const dev = this.deviceOf(s);
          if (dev !== undefined) {
            const held = (await this.claimDevice(s, dev, status, 'again')) === 1;
            if (held) this.setStatus(s, status);
            return held;
          }
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
      const id = this.claimId(s);
      if (this.claims.get(id)?.session === s) this.claims.delete(id);
    }
    return lost;
  }

  /** Whether a node's heartbeat is still there. */
  async nodeAlive(id: string): Promise<boolean> {
    return (await this.link.cmd.exists(K.node(id))) === 1;
  }

  /**
   * Where the devices of account `key` are (with accounts), parked ones included. Rejects when
   * Redis cannot be reached.
   */
  async devices(key: string): Promise<DeviceRecord[]> {
    const h = await this.link.cmd.hgetall(K.devs(key));
    return Object.entries(h).flatMap(([dev, value]) => {
      const r = parseNameValue(value);
      return r === undefined ? [] : [{ ...r, dev }];
    });
  }

  /** Who holds `key` (and so which node to ask). Rejects when Redis cannot be reached. */
  async locate(key: string): Promise<{ record: NameRecord | undefined }> {
    const value = await this.link.cmd.get(K.name(key));
    return { record: value === null ? undefined : parseNameValue(value) };
  }
}
