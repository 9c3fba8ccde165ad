/**
 * Who is online: sessions by name key (a Map, so `__proto__` is an ordinary name), presence
 * fan-out, and the paged online list. Presence never costs O(N^2) at scale: while fewer than
 * `broadcastBelow` users are online every native session hears every change; above that only
 * the sessions that watch a name hear about it.
 */
import type { UserEntryValue } from '@callwire/protocol';
import { nameKey, normalizeName } from '@callwire/protocol';
import type { Party } from './calls/model.js';
import type { OutEvent } from './events.js';
import type { Session } from './ws/session.js';

export type PresenceStatus = 'online' | 'busy' | 'offline';

/**
 * Cluster (cluster/presence-relay.ts): where status changes of this node's users also go, and
 * how many are online across all nodes (which decides between broadcast and watchers).
 */
export interface PresenceSink {
  changed(session: Session, status: PresenceStatus): void;
  onlineTotal(): number;
}

export interface HubOptions {
  readonly presence: boolean;
  readonly broadcastBelow: number;
  readonly loginListMax: number;
}

/**
 * Presence messages sent per slice before the hub yields to I/O. A call's signalling never
 * waits behind more than one slice of a fan-out (about 10 ms of writes on a 2-core machine).
 */
const PRESENCE_SLICE = 1024;

export class Hub {
  private readonly byKey = new Map<string, Session>();
  /** name key -> sessions watching it. */
  private readonly watchers = new Map<string, Set<Session>>();
  private sink: PresenceSink | undefined;
  /**
   * Presence changes not yet fanned out, by name key, latest status only. Presence is state,
   * not a log: a user who goes busy and back within one tick is simply online.
   */
  private readonly changes = new Map<string, { name: string; status: PresenceStatus }>();
  private flushScheduled = false;
  private guests = 0;

  constructor(private readonly options: HubOptions) {}

  /** Join a cluster: presence goes to (and comes from) the other nodes too. */
  attachCluster(sink: PresenceSink): void {
    this.sink = sink;
  }

  /** Signed-in users (guests are not counted: they are in no list). */
  get size(): number {
    return this.byKey.size - this.guests;
  }

  get(key: string): Session | undefined {
    return this.byKey.get(key);
  }

  /** Look up an online user by a raw (client-supplied) name. */
  find(rawName: string): Session | undefined {
    const n = normalizeName(rawName);
    return n.ok ? this.byKey.get(n.key) : undefined;
  }

  /** Claim a name; false when it is taken. */
  add(session: Session): boolean {
    if (this.byKey.has(session.key)) return false;
    this.byKey.set(session.key, session);
    if (session.guest) this.guests++;
    this.publish(session, 'online');
    return true;
  }

  remove(session: Session): void {
    if (this.byKey.get(session.key) !== session) return;
    this.byKey.delete(session.key);
    if (session.guest) this.guests--;
    this.unwatchAll(session);
    this.announce(session, 'offline');
  }

  statusOf(party: Party): 'online' | 'busy' {
    return party.call === null && party.room === null ? 'online' : 'busy';
  }

  /**
   * Tell interested sessions that `session` changed status. Only this node's own users are
   * announced here: a party on another node is announced by its node.
   */
  publish(party: Party, status: PresenceStatus): void {
    const session = this.byKey.get(party.key);
    if (session !== party) return;
    this.announce(session, status);
  }

  /** A party entered or left a call or a room (the engine's `onPartyStatus`). */
  refresh(party: Party): void {
    this.publish(party, this.statusOf(party));
  }

  /** A user on another node changed status (cluster): tell this node's interested sessions. */
  deliver(name: string, key: string, status: PresenceStatus): void {
    if (this.options.presence) this.queue(key, name, status);
  }

  private announce(session: Session, status: PresenceStatus): void {
    // Guests are nobody's contacts: they come and go unannounced (guest-login.ts).
    if (session.guest) return;
    this.sink?.changed(session, status);
    if (this.options.presence) this.queue(session.key, session.name, status);
  }

  /**
   * Fan-outs wait for the end of the current I/O phase and then go out in slices: below the
   * broadcast threshold one call that starts costs two messages to everyone online, and the
   * frames of other calls' setup must not queue behind them.
   */
  private queue(key: string, name: string, status: PresenceStatus): void {
    this.changes.delete(key); // re-inserted last: the order of changes is kept
    this.changes.set(key, { name, status });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    let sent = 0;
    for (const [key, change] of this.changes) {
      this.changes.delete(key);
      sent += this.fanOut({ t: 'presence', name: change.name, status: change.status }, key);
      if (sent >= PRESENCE_SLICE && this.changes.size > 0) {
        this.flushScheduled = true;
        setImmediate(this.flush);
        return;
      }
    }
  };

  /** Send one change to whoever hears about `key` (never to `key` itself); returns how many. */
  private fanOut(event: OutEvent, key: string): number {
    let text: string | null = null;
    let sent = 0;
    const deliver = (to: Session): void => {
      if (to.key === key || to.state !== 'active' || !to.dialect.presence || to.guest) return;
      text ??= to.dialect.encode(event, to);
      if (text === null) return;
      to.sendText(text);
      sent++;
    };
    const online = this.sink === undefined ? this.byKey.size : this.sink.onlineTotal();
    if (online < this.options.broadcastBelow) {
      for (const to of this.byKey.values()) deliver(to);
      return sent;
    }
    const watching = this.watchers.get(key);
    if (watching) for (const to of watching) deliver(to);
    return sent;
  }

  /** Replace what `session` watches. Unknown or invalid names are simply never online. */
  watch(session: Session, rawNames: readonly string[]): void {
    this.unwatchAll(session);
    const keys = new Set<string>();
    for (const raw of rawNames) {
      const n = normalizeName(raw);
      if (n.ok) keys.add(n.key);
    }
    session.watching = keys;
    for (const key of keys) {
      let set = this.watchers.get(key);
      if (!set) this.watchers.set(key, (set = new Set()));
      set.add(session);
    }
  }

  private unwatchAll(session: Session): void {
    if (!session.watching) return;
    for (const key of session.watching) {
      const set = this.watchers.get(key);
      if (!set) continue;
      set.delete(session);
      if (set.size === 0) this.watchers.delete(key);
    }
    session.watching = null;
  }

  /** The first users for a login reply (in login order; O(limit), not O(N)). */
  firstUsers(exclude: Session): UserEntryValue[] {
    const out: UserEntryValue[] = [];
    for (const s of this.byKey.values()) {
      if (out.length >= this.options.loginListMax) break;
      if (s !== exclude && !s.guest) out.push({ name: s.name, status: this.statusOf(s) });
    }
    return out;
  }

  /**
   * One page of the online list sorted by name key, filtered by a case-insensitive substring,
   * starting after `cursor`. O(N log limit) per page.
   */
  page(
    query: string | undefined,
    limit: number,
    cursor: string | undefined,
  ): { users: UserEntryValue[]; total: number; cursor?: string } {
    const needle = query ? nameKey(query.normalize('NFKC')) : '';
    const after = cursor ? nameKey(cursor.normalize('NFKC')) : '';
    let total = 0;
    let best: Session[] = [];
    for (const s of this.byKey.values()) {
      if (s.guest || (needle && !s.key.includes(needle))) continue;
      total++;
      if (after && s.key <= after) continue;
      if (best.length < limit || s.key < best[best.length - 1]!.key) {
        best.push(s);
        best.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        if (best.length > limit) best = best.slice(0, limit);
      }
    }
    const users = best.map((s) => ({ name: s.name, status: this.statusOf(s) }));
    const last = best[best.length - 1];
    let more = false;
    if (last && best.length === limit) {
      for (const s of this.byKey.values()) {
        if (!s.guest && (!needle || s.key.includes(needle)) && s.key > last.key) {
          more = true;
          break;
        }
      }
    }
    return more && last ? { users, total, cursor: last.name } : { users, total };
  }

  all(): IterableIterator<Session> {
    return this.byKey.values();
  }
}
