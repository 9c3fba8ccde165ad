/**
 * Who is online: people by name key (a Map, so `__proto__` is an ordinary name), each with the
 * sessions they are signed in on (their devices, in sign-in order), presence fan-out, and the
 * paged online list. Presence is per person: online while any device is, busy while any
 * device is in a call or a room. Presence never costs O(N^2) at scale: while fewer than
 * `broadcastBelow` users are online every native session hears every change; above that only
 * the sessions that watch a name hear about it.
 */
import type { UserEntryValue } from '@callwire/protocol';
import { nameKey, normalizeName } from '@callwire/protocol';
import type { Party } from './calls/model.js';
import type { Session } from './ws/session.js';
import {
  hearsPresence,
  PRESENCE_SLICE,
  tickDelayMs,
  recipients,
  TickFrames,
  type PresenceChange,
  type PresenceStatus,
} from './presence-fanout.js';

export type { PresenceStatus } from './presence-fanout.js';

/**
 * Cluster (cluster/presence-relay.ts): where status changes of this node's users also go, and
 * how many are online across all nodes (which decides between broadcast and watchers).
 */
export interface PresenceSink {
  changed(session: Session, status: PresenceStatus): void;
  /** One of a person's devices here signed out while others remain (they stay online). */
  left(session: Session): void;
  onlineTotal(): number;
}

export interface HubOptions {
  readonly presence: boolean;
  readonly broadcastBelow: number;
  /** How long presence changes are gathered before they go out (presence-fanout.ts). */
  readonly tickMs: number;
  readonly loginListMax: number;
}

const NONE: readonly Session[] = [];

const partyStatus = (party: Party): 'online' | 'busy' =>
  party.call === null && party.room === null ? 'online' : 'busy';

export class Hub {
  private readonly byKey = new Map<string, Session[]>();
  /** What each person was last announced as, so a second device does not announce again. */
  private readonly announced = new Map<string, PresenceStatus>();
  /** name key -> sessions watching it. */
  private readonly watchers = new Map<string, Set<Session>>();
  private sink: PresenceSink | undefined;
  /**
   * Presence changes not yet fanned out, by name key, latest status only. Presence is state,
   * not a log: a user who goes busy and back within one tick is simply online.
   */
  private readonly changes = new Map<string, { name: string; status: PresenceStatus }>();
  private flushScheduled = false;
  /** How long the last tick's writes took: a busy fan-out stretches the next tick (tickDelayMs). */
  private lastTickBusyMs = 0;
  /** The tick being written out, slice by slice. */
  private delivering: {
    readonly frames: TickFrames;
    readonly to: IterableIterator<[Session, number[] | undefined]>;
  } | null = null;
  private guests = 0;
  /**
   * The first `loginListMax + 1` people in sign-in order, as a login reply lists them, kept
   * until one of them changes (signs out, changes status) or a sign-in could join them. Most
   * logins then share one array, which the encoder turns into JSON once (dialects/native.ts):
   * a login with many online costs what the login itself costs, not a walk and an encoding of
   * the list.
   */
  private firstPage: {
    readonly keys: ReadonlySet<string>;
    readonly order: readonly string[];
    readonly users: readonly UserEntryValue[];
    /** The reply's list for anyone not in it: the first `loginListMax` of `users`. */
    readonly shared: readonly UserEntryValue[];
  } | null = null;

  constructor(private readonly options: HubOptions) {}

  /** Join a cluster: presence goes to (and comes from) the other nodes too. */
  attachCluster(sink: PresenceSink): void {
    this.sink = sink;
  }

  /** Signed-in users (guests are not counted: they are in no list). */
  get size(): number {
    return this.byKey.size - this.guests;
  }

  /** The person's first device (one device per person: tutorial, one2one, a cluster). */
  get(key: string): Session | undefined {
    return this.byKey.get(key)?.[0];
  }

  /** Every device the person is signed in on here, in sign-in order. */
  devices(key: string): readonly Session[] {
    return this.byKey.get(key) ?? NONE;
  }

  /** Look up an online user by a raw (client-supplied) name. */
  find(rawName: string): Session | undefined {
    const n = normalizeName(rawName);
    return n.ok ? this.get(n.key) : undefined;
  }

  /**
   * Sign a session in as one more device of its person; false when the person already has
   * `maxDevices` (1: the name is simply taken).
   */
  add(session: Session, maxDevices = 1): boolean {
    const devices = this.byKey.get(session.key);
    if (devices === undefined) {
      this.byKey.set(session.key, [session]);
      if (session.guest) this.guests++;
      // A newcomer goes last in sign-in order: it changes the first page only if that is short.
      else if (this.firstPage !== null && this.firstPage.users.length <= this.options.loginListMax)
        this.forgetFirstPage();
    } else {
      if (devices.length >= maxDevices) return false;
      devices.push(session);
    }
    this.publish(session, this.statusOf(session));
    this.onDevices?.(session.key, true);
    return true;
  }

  remove(session: Session): void {
    const devices = this.byKey.get(session.key);
    const at = devices === undefined ? -1 : devices.indexOf(session);
    if (at < 0) return;
    devices!.splice(at, 1);
    if (this.firstPage?.keys.has(session.key)) this.forgetFirstPage();
    this.unwatchAll(session);
    if (devices!.length > 0) {
      this.sink?.left(session);
      this.publish(devices![0]!, this.statusOf(devices![0]!));
      this.onDevices?.(session.key, true);
      return;
    }
    this.byKey.delete(session.key);
    if (session.guest) this.guests--;
    this.announced.delete(session.key);
    this.announce(session, 'offline');
  }

  /** A person's status: busy while any of their devices here is in a call or a room. */
  statusOf(party: Party): 'online' | 'busy' {
    const devices = this.byKey.get(party.key);
    if (devices === undefined || !devices.includes(party as Session)) return partyStatus(party);
    return devices.some((d) => partyStatus(d) === 'busy') ? 'busy' : 'online';
  }

  /**
   * Tell interested sessions that `session` changed status. Only this node's own users are
   * announced here: a party on another node is announced by its node.
   */
  publish(party: Party, status: PresenceStatus): void {
    const devices = this.byKey.get(party.key);
    if (devices === undefined || !devices.includes(party as Session)) return;
    if (this.announced.get(party.key) === status) return;
    this.announced.set(party.key, status);
    if (this.firstPage?.keys.has(party.key)) this.forgetFirstPage();
    this.announce(devices[0]!, status);
  }

  /** A party entered or left a call or a room (the engine's `onPartyStatus`). */
  refresh(party: Party): void {
    if (this.firstPage?.keys.has(party.key)) this.forgetFirstPage();
    this.publish(party, this.statusOf(party));
    this.onDevices?.(party.key, false);
  }

  /**
   * Told when a person's devices change: one signed in or out (`membership`), or one entered
   * or left a call or a room.
   */
  onDevices: ((key: string, membership: boolean) => void) | undefined;

  /** Number of devices signed in here (sessions), for metrics. */
  get sessions(): number {
    let n = 0;
    for (const devices of this.byKey.values()) n += devices.length;
    return n;
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
   * Changes wait for the next tick (presence-fanout.ts): each recipient then gets one write for
   * all of them, and a burst of changes (calls starting, logins) never queues a call's
   * signalling behind one write per change per recipient.
   */
  private queue(key: string, name: string, status: PresenceStatus): void {
    this.changes.delete(key); // re-inserted last: the order of changes is kept
    this.changes.set(key, { name, status });
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled || this.delivering !== null || this.changes.size === 0) return;
    this.flushScheduled = true;
    setTimeout(this.flush, tickDelayMs(this.options.tickMs, this.lastTickBusyMs)).unref();
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const changes: PresenceChange[] = [];
    for (const [key, c] of this.changes) changes.push({ key, name: c.name, status: c.status });
    this.changes.clear();
    const online = this.sink === undefined ? this.byKey.size : this.sink.onlineTotal();
    const to = recipients(
      changes,
      online < this.options.broadcastBelow ? this.all() : null,
      (key) => this.watchers.get(key),
    );
    this.lastTickBusyMs = 0;
    this.delivering = { frames: new TickFrames(changes), to: to.entries() };
    this.writeSlice();
  };

  /** Write one slice of the tick's recipients; the rest after the next I/O phase. */
  private readonly writeSlice = (): void => {
    const run = this.delivering;
    if (run === null) return;
    const started = performance.now();
    let sent = 0;
    for (let next = run.to.next(); !next.done; next = run.to.next()) {
      const [session, indexes] = next.value;
      if (!hearsPresence(session)) continue;
      session.sendTexts(run.frames.frames(session, indexes));
      if (++sent >= PRESENCE_SLICE) {
        this.lastTickBusyMs += performance.now() - started;
        setImmediate(this.writeSlice);
        return;
      }
    }
    this.lastTickBusyMs += performance.now() - started;
    this.delivering = null;
    this.schedule();
  };

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

  /**
   * The first users for a login reply, in sign-in order, without `exclude` itself. O(limit) when
   * the list changed since the last login, O(1) otherwise: the same array is returned until
   * then, so that its encoding can be shared too.
   */
  firstUsers(exclude: Session): readonly UserEntryValue[] {
    const limit = this.options.loginListMax;
    let page = this.firstPage;
    if (page === null) {
      const order: string[] = [];
      const users: UserEntryValue[] = [];
      for (const [key, devices] of this.byKey) {
        if (users.length > limit) break;
        const first = devices[0]!;
        if (first.guest) continue;
        order.push(key);
        users.push({ name: first.name, status: this.statusOf(first) });
      }
      const shared = users.length > limit ? users.slice(0, limit) : users;
      this.firstPage = page = { keys: new Set(order), order, users, shared };
    }
    if (!page.keys.has(exclude.key)) return page.shared;
    const { order } = page;
    return page.users.filter((_, i) => order[i] !== exclude.key).slice(0, limit);
  }

  private forgetFirstPage(): void {
    this.firstPage = null;
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
    for (const [, devices] of this.byKey) {
      const s = devices[0]!;
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
      for (const [key, devices] of this.byKey) {
        if (!devices[0]!.guest && (!needle || key.includes(needle)) && key > last.key) {
          more = true;
          break;
        }
      }
    }
    return more && last ? { users, total, cursor: last.name } : { users, total };
  }

  *all(): IterableIterator<Session> {
    for (const devices of this.byKey.values()) yield* devices;
  }
}
