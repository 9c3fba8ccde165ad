/**
 * Receiving calls from a draining node (the other half is handoff.ts). A node that is drained
 * hands each connected call of its resumable users to another node, and those users' clients
 * resume on whichever node the load balancer sends them to:
 *
 * - `adopt`: this node becomes the call's home. A party that was on the drained node is
 *   *parked* (its RemoteParty keeps what is sent to it); a party on this node turns from a
 *   shadow's local party into a home call's party.
 * - `park`: a call already homed here loses its party's node: that party is parked.
 * - `moved`: a parked party resumed on another node: what was kept goes there, in order, and
 *   the other party hears `reconnected`. A parked party that does not come back within the
 *   resume grace period disconnects, as a session that does not resume on one node does.
 */
import type { Call } from '../calls/call.js';
import type { Engine } from '../calls/engine.js';
import type { Party } from '../calls/model.js';
import { announcePeerState } from '../calls/resume-view.js';
import type { Hub } from '../hub.js';
import type { Session } from '../ws/session.js';
import type { Bus } from './bus.js';
import type { HomeCalls } from './home-calls.js';
import { RemoteParty } from './remote-party.js';
import type { ShadowCalls } from './shadow-calls.js';
import type { NodeMessageOf, PartyDto } from './wire.js';

type AdoptMessage = NodeMessageOf<'adopt'>;
type MovedMessage = NodeMessageOf<'moved'>;

export interface MigrationDeps {
  readonly engine: Engine;
  readonly hub: Hub;
  readonly bus: Bus;
  readonly home: HomeCalls;
  readonly shadows: ShadowCalls;
  readonly graceMs: number;
  readonly queueMax: number;
  /** A session's device id, with accounts (its node delivers to that device). */
  readonly deviceOf: (session: Session) => string | undefined;
}

export class Migration {
  /** Parked parties of calls homed here, by `<callId>\n<key>`, with their grace timers. */
  private readonly parked = new Map<string, { rs: RemoteParty; timer: NodeJS.Timeout }>();

  constructor(private readonly deps: MigrationDeps) {}

  adopt(msg: AdoptMessage): void {
    const { engine, hub, bus, home, shadows } = this.deps;
    const self = bus.nodeId;
    const shadow = engine.book.get(msg.callId);
    const party = (dto: PartyDto): Party | undefined => {
      if (dto.node !== self)
        return new RemoteParty(
          dto.node ?? msg.from,
          dto.key,
          dto.name,
          dto.dialect,
          bus.toRemote,
          dto.dev,
        );
      // Our own user, in a shadow of this very call homed on the node that hands it over
      // (with accounts, the one of their devices here that is in it).
      if (shadow === undefined || shadow.home !== msg.from) return undefined;
      return hub.devices(dto.key).find((s) => shadow.caller === s || shadow.callee === s);
    };
    const caller = party(msg.caller);
    const callee = party(msg.callee);
    // Our user left meanwhile: no call to adopt (the parked party will find none and end).
    if (caller !== undefined && callee !== undefined) {
      if (shadow !== undefined) shadows.forget(shadow);
      const call = engine.book.open({
        id: msg.callId,
        caller,
        callee,
        state: 'connected',
        media: msg.media,
        calleeNotified: true,
        createdAtMs: msg.createdAtMs,
        answeredAtMs: msg.answeredAtMs,
      });
      for (const [p, dto] of [
        [caller, msg.caller],
        [callee, msg.callee],
      ] as const) {
        if (!(p instanceof RemoteParty)) continue;
        home.track(p);
        if (dto.node === null) this.parkIn(call, p, dto.away === true);
      }
    }
    bus.send(msg.from, { op: 'ack', from: self, callId: msg.callId });
  }

  park(msg: NodeMessageOf<'park'>): void {
    const { engine, bus } = this.deps;
    const call = engine.book.get(msg.callId);
    if (call !== undefined && call.home === undefined) {
      for (const p of [call.caller, call.callee]) {
        if (p instanceof RemoteParty && p.key === msg.key && p.node === msg.from)
          this.parkIn(call, p, msg.away === true);
      }
    }
    bus.send(msg.from, { op: 'ack', from: bus.nodeId, callId: msg.callId });
  }

  moved(msg: MovedMessage): void {
    const { bus } = this.deps;
    const k = `${msg.callId}\n${msg.key}`;
    const entry = this.parked.get(k);
    if (entry === undefined) {
      bus.send(msg.from, { op: 'gone', from: bus.nodeId, callId: msg.callId });
      return;
    }
    this.parked.delete(k);
    clearTimeout(entry.timer);
    entry.rs.unpark(msg.from);
    // (A call that ended meanwhile has just sent its end along with the rest.)
    if (entry.rs.call !== null) announcePeerState(entry.rs, false);
  }

  /**
   * The parked party `fresh.key` of a call homed here resumed on this very node: it takes the
   * stand-in's place in the call. Returns what was kept for it, encoded for its client (to go
   * out after the login reply), or undefined when no such party is parked here.
   */
  takeOver(callId: string, fresh: Session): string[] | undefined {
    const k = `${callId}\n${fresh.key}`;
    const entry = this.parked.get(k);
    if (entry === undefined) return undefined;
    this.parked.delete(k);
    clearTimeout(entry.timer);
    const { rs } = entry;
    const call = rs.call;
    const queued = rs.takeQueued();
    // The call's parties are fixed for its life except here, where a stand-in gives way to
    // the session it stood for.
    if (call !== null) this.deps.engine.book.replaceParty(call, rs, fresh);
    const texts: string[] = [];
    for (const event of queued) {
      const text = fresh.dialect.encode(event, fresh);
      if (text !== null) texts.push(text);
    }
    if (call !== null) announcePeerState(fresh, false);
    return texts;
  }

  /**
   * A session of this node leaves for another node (its client resumed there) while the other
   * party of its call stays here: the call stays here too, with the leaving party parked in it.
   */
  parkInPlace(call: Call, party: Session): void {
    const { bus, home, engine } = this.deps;
    const rs = new RemoteParty(
      bus.nodeId,
      party.key,
      party.name,
      party.dialect.name,
      bus.toRemote,
      this.deps.deviceOf(party),
    );
    engine.book.replaceParty(call, party, rs);
    home.track(rs);
    this.parkIn(call, rs, party.state === 'away');
  }

  close(): void {
    for (const { timer } of this.parked.values()) clearTimeout(timer);
    this.parked.clear();
  }

  /** Park `rs` in `call`; its peer hears `reconnecting` unless it was told already. */
  private parkIn(call: Call, rs: RemoteParty, told: boolean): void {
    const { engine, graceMs, queueMax } = this.deps;
    const disconnect = () => {
      if (rs.call !== null) engine.disconnect(rs);
    };
    rs.park(queueMax, () => setImmediate(disconnect));
    const k = `${call.id}\n${rs.key}`;
    const timer = setTimeout(() => {
      this.parked.delete(k);
      if (rs.parked) disconnect();
    }, graceMs);
    timer.unref();
    this.parked.set(k, { rs, timer });
    if (!told) announcePeerState(rs, true);
  }
}
