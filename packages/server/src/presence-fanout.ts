/**
 * One tick's presence changes, delivered: every recipient gets one write for the whole tick.
 *
 * Why ticks: presence fan-out is the costliest thing a quiet server does. Below the broadcast
 * threshold a call that starts makes two people busy, and each change went to everyone online
 * as its own frame and its own socket write; with 200 clients and calls starting every
 * millisecond that was 400 writes per call, and call setup (three round trips) queued behind
 * them for a third of a second. Gathered for a tick (`--presence-tick-ms`, 25 ms), the changes cost one
 * write per recipient per tick whatever their number: one `presences` frame for a client that
 * asked for batches at login, and for an older client its `presence` frames, one per change,
 * corked into one write.
 */
import type { OutEvent } from './events.js';
import type { Session } from './ws/session.js';

export type PresenceStatus = 'online' | 'busy' | 'offline';

/**
 * Recipients written to per slice before the fan-out yields to I/O: a call's signalling never
 * waits behind more than one slice (a few ms of writes on a 2-core machine).
 */
export const PRESENCE_SLICE = 128;

/** The longest a busy fan-out stretches a tick to (unless the configured tick is longer). */
export const PRESENCE_TICK_MAX_MS = 250;

/**
 * The share of the event loop presence may take while many people come and go: a tick's writes
 * are timed, and the next tick waits until they are this small a part of the time since. Call
 * signalling shares the loop with presence, and a person feels a call that takes a few ms more
 * to set up sooner than a contact list that updates 100 ms later.
 */
export const PRESENCE_LOOP_SHARE = 0.05;

/**
 * The wait before the next tick: the configured tick, stretched (up to PRESENCE_TICK_MAX_MS)
 * while the last tick's writes took long, so that presence keeps to PRESENCE_LOOP_SHARE of the
 * loop (on a 2-core machine a tick that wrote to 200 sessions, everyone online in broadcast
 * mode, took about 5 ms and is followed by a 100 ms tick). Every recipient still gets one write
 * per tick; only fewer ticks happen while many people come and go.
 */
export function tickDelayMs(tickMs: number, lastTickBusyMs: number): number {
  return Math.max(
    tickMs,
    Math.min(PRESENCE_TICK_MAX_MS, Math.ceil(lastTickBusyMs / PRESENCE_LOOP_SHARE)),
  );
}

export interface PresenceChange {
  readonly key: string;
  readonly name: string;
  readonly status: PresenceStatus;
}

/** May `to` hear presence at all (and not about itself)? */
export const hearsPresence = (to: Session): boolean =>
  to.state === 'active' && to.dialect.presence && !to.guest;

/**
 * The frames of one tick, encoded at most once each: the single `presence` frame of each change
 * (for clients without batches), and the `presences` frame of all changes, which every batching
 * recipient that is not itself among the changes shares (every one of them, in broadcast mode).
 */
export class TickFrames {
  private readonly single: (string | null | undefined)[];
  private all: string | null | undefined;
  /** The changes as `presences` entries, one array for every recipient of the tick. */
  private entries: PresencesEvent['users'] | undefined;

  constructor(readonly changes: readonly PresenceChange[]) {
    this.single = new Array<string | null | undefined>(changes.length);
  }

  /** What `to` is sent for the changes at `indexes` (undefined: all of them). */
  frames(to: Session, indexes: readonly number[] | undefined): string[] {
    const { changes } = this;
    if (to.presenceBatch) {
      if (indexes !== undefined && indexes.length === 0) return [];
      this.entries ??= changes.map((c) => ({ name: c.name, status: c.status }));
      if (indexes === undefined) {
        if (this.all === undefined)
          this.all = to.dialect.encode({ t: 'presences', users: this.entries }, to);
        return this.all === null ? [] : [this.all];
      }
      const text = to.dialect.encode({ t: 'presences', users: this.entries, only: indexes }, to);
      return text === null ? [] : [text];
    }
    const out: string[] = [];
    const count = indexes === undefined ? changes.length : indexes.length;
    for (let n = 0; n < count; n++) {
      const i = indexes === undefined ? n : indexes[n]!;
      let text = this.single[i];
      if (text === undefined) {
        const c = changes[i]!;
        text = this.single[i] = to.dialect.encode(
          { t: 'presence', name: c.name, status: c.status },
          to,
        );
      }
      if (text !== null) out.push(text);
    }
    return out;
  }
}

type PresencesEvent = Extract<OutEvent, { t: 'presences' }>;

/**
 * Who hears which change of a tick. In broadcast mode everyone eligible hears everything but
 * their own change (undefined = all changes); otherwise each change goes to its watchers.
 * O(recipients + changes x watchers), never O(online x changes).
 */
export function recipients(
  changes: readonly PresenceChange[],
  broadcast: Iterable<Session> | null,
  watchersOf: (key: string) => Iterable<Session> | undefined,
): Map<Session, number[] | undefined> {
  const out = new Map<Session, number[] | undefined>();
  if (broadcast !== null) {
    const changed = new Map<string, number>();
    changes.forEach((c, i) => changed.set(c.key, i));
    for (const to of broadcast) {
      if (!hearsPresence(to)) continue;
      const own = changed.get(to.key);
      out.set(to, own === undefined ? undefined : without(changes.length, own));
    }
    return out;
  }
  changes.forEach((c, i) => {
    const watching = watchersOf(c.key);
    if (watching === undefined) return;
    for (const to of watching) {
      if (to.key === c.key || !hearsPresence(to)) continue;
      const list = out.get(to);
      if (list === undefined) out.set(to, [i]);
      else list.push(i);
    }
  });
  return out;
}

function without(count: number, skip: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (i !== skip) out.push(i);
  return out;
}
