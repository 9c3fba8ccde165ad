/**
 * The callee's side of a call across nodes. The call's home is the caller's node; here the
 * callee's session holds a *shadow* of it (a Call with `home` set, the caller stood in for by a
 * RemoteParty), so that everything the callee's client sends names the call as usual. The
 * engine forwards the callee's commands to the home (through `forward`); the home's events
 * (accepted, the caller's signals, ended) update the shadow, through the call book, and reach
 * the callee here.
 *
 * When the home node dies, or this node learns it was presumed dead, shadows end here with
 * `disconnected`, as a call ends when the peer disconnects.
 */
import type { EndReason } from '@callwire/protocol';
import type { CallBook } from '../calls/book.js';
import { peerOf, type Call } from '../calls/call.js';
import type { CallCommand } from '../calls/commands.js';
import { assertNever } from '../calls/machine.js';
import { TRAVEL, attach } from '../calls/travel.js';
import type { Party } from '../calls/model.js';
import type { Hub } from '../hub.js';
import type { Stats } from '../metrics.js';
import type { Bus } from './bus.js';
import { RemoteParty } from './remote-party.js';
import type { EventDto, NodeMessage, NodeMessageOf, RingResult } from './wire.js';

export interface ShadowDeps {
  readonly book: CallBook;
  /** The tutorial's ringing step, accepted on its client's behalf (Engine.accept). */
  readonly accept: (party: Party, callId: string) => void;
  readonly hub: Hub;
  readonly stats: Stats;
  readonly bus: Bus;
  /** Whom the party is calling on another node right now, if anyone (it counts as busy). */
  readonly locatingTarget: (party: Party) => string | undefined;
}

export class ShadowCalls {
  private readonly shadows = new Map<string, Call>();
  /** The devices each ringing shadow has rung here (several, with accounts). */
  private readonly rung = new Map<string, Set<Party>>();

  constructor(private readonly deps: ShadowDeps) {}

  get size(): number {
    return this.shadows.size;
  }

  /**
   * May a call from another node ring this user? Answered as one node decides at invite time:
   * gone (not here, or not active), busy (in a call or room, or calling out themselves), or
   * ok, and then the user is kept for this call (a shadow, not yet rung) until it rings or ends.
   */
  ring(msg: NodeMessageOf<'ring'>): void {
    const { hub, bus } = this.deps;
    const answer = (result: RingResult, devs?: string[]) =>
      bus.send(msg.from, {
        op: 'rang',
        from: bus.nodeId,
        callId: msg.callId,
        result,
        ...(devs === undefined ? {} : { devs }),
      });
    if (this.shadows.has(msg.callId)) return;
    // Every device of the person here that can take the call (one, in open mode).
    const active = hub.devices(msg.to).filter((s) => s.state === 'active');
    if (active.length === 0) return void answer('gone');
    const free = active.filter((session) => {
      if (session.call !== null || session.room !== null) return false;
      const calling = this.deps.locatingTarget(session);
      // Both calling each other at once: one call. The invite of the smaller name key goes on;
      // the other caller's own invite then finds this call ringing for them and accepts it.
      return calling === undefined || (calling === msg.callerKey && msg.callerKey < session.key);
    });
    if (free.length === 0) return void answer('busy');
    const caller = new RemoteParty(msg.from, msg.callerKey, msg.caller, 'native', bus.toRemote);
    this.track(
      this.deps.book.open({
        id: msg.callId,
        caller,
        callee: free[0]!,
        ringing: free,
        state: 'ringing',
        media: msg.media,
        createdAtMs: Date.now(),
        calleeNotified: false,
        home: msg.from,
      }),
    );
    hub.publish(free[0]!, 'busy');
    answer(
      'ok',
      free.flatMap((s) => (s.device === undefined ? [] : [s.device.id])),
    );
  }

  /**
   * An event from the home node for the local party of a shadow: what it means for the shadow
   * (calls/travel.ts) is applied, then the party hears it. `forDevice`: it names one of the
   * person's devices (accounts), so an end may be that device's alone.
   */
  event(e: EventDto, call: Call, session: Party, forDevice = false): void {
    const { book } = this.deps;
    const event = attach(e, call, session);
    const effect = TRAVEL[e.t].effect;
    switch (effect) {
      case 'rings':
        // The home rings the kept user now (each of their devices here, once).
        if (!this.firstRing(call, session)) return;
        book.rung(call);
        session.send(event);
        // A tutorial client has no ringing step: its node accepts for it, as a single node does.
        if (session.dialect.autoAccept) this.deps.accept(session, call.id);
        return;
      case 'connects':
        // This device answered (the others here were told it was answered elsewhere).
        if (call.ringing.length > 1) book.answer(call, session);
        book.connect(call, Date.now());
        this.rung.delete(call.id);
        session.send(event);
        // The person's other devices list this one as in the call (and may move it).
        this.announce(session);
        return;
      case 'ends': {
        // One of several devices here that rang for it stops ringing; the call goes on.
        if (forDevice && call.ringing.length > 1 && call.ringing.includes(session)) {
          book.unring(call, session);
          if (call.calleeNotified) session.send(event);
          this.announce(session);
          return;
        }
        const wasConnected = call.state === 'connected';
        this.drop(call);
        // Kept but never rung (a reservation undone, a one2one callee still waiting for the
        // offer): nothing to tell them, as on one node.
        if (call.calleeNotified || wasConnected) session.send(event);
        this.announce(session);
        return;
      }
      case 'none':
        session.send(event);
        return;
      case 'local':
        return;
      default:
        return assertNever(effect);
    }
  }

  /** The engine's forward: a command from the local party goes to the call's home. */
  forward(call: Call, party: Party, command: CallCommand): void {
    const { bus } = this.deps;
    const home = call.home!;
    const dev = party.device?.id;
    const msg: NodeMessage = {
      op: 'cmd',
      from: bus.nodeId,
      by: party.key,
      ...(dev === undefined ? {} : { dev }),
      callId: call.id,
      c: command,
    };
    if (command.k === 'disconnect' && call.ringing.length > 1 && call.ringing.includes(party)) {
      // One of several devices here that rang for it went: the others ring on.
      bus.sendEventually(home, msg);
      this.deps.book.unring(call, party);
      return;
    }
    if (command.k === 'disconnect') {
      // The party is gone: its shadow goes now; the home hears of it as soon as it can.
      bus.sendEventually(home, msg);
      this.drop(call);
      return;
    }
    if (command.k === 'hangup') {
      // Hanging up always works for the person hanging up: if the home cannot be reached now,
      // the call ends here and the home is told as soon as it can be.
      const endAnyway = () => {
        if (call.state === 'ended') return;
        bus.sendEventually(home, msg);
        this.endHere(call, call.state === 'connected' ? 'hangup' : 'declined', true, command.ref);
      };
      if (!bus.send(home, msg, endAnyway)) endAnyway();
      return;
    }
    const unreachable = () => {
      this.deps.stats.error('temporarily_unavailable');
      party.send({
        t: 'error',
        code: 'temporarily_unavailable',
        callId: call.id,
        ref: command.ref,
      });
    };
    if (!bus.send(home, msg, unreachable)) unreachable();
  }

  /** End shadows homed on `node` (dead), or all of them, here, as a peer disconnect would. */
  endWith(node: string | undefined, tellHome: boolean): number {
    let ended = 0;
    for (const call of [...this.shadows.values()]) {
      if (node !== undefined && call.home !== node) continue;
      if (tellHome) {
        const { bus } = this.deps;
        bus.sendEventually(call.home!, {
          op: 'cmd',
          from: bus.nodeId,
          by: localOf(call).key,
          callId: call.id,
          c: { k: 'disconnect' },
        });
      }
      this.endHere(call, 'disconnected', false, undefined);
      ended++;
    }
    return ended;
  }

  *peers(): Generator<string> {
    for (const call of this.shadows.values()) yield call.home!;
  }

  /** The home has no such call (any more, e.g. after a drain): end it here. */
  gone(callId: string, from: string): void {
    const call = this.shadows.get(callId);
    if (call !== undefined && call.home === from)
      this.endHere(call, 'disconnected', false, undefined);
  }

  /** Keep a shadow opened in the call book (by `ring`, a room join, or a resume from a drain). */
  track(call: Call): void {
    this.shadows.set(call.id, call);
  }

  /** The call moves on (this node became its home, or its party left): no shadow, nobody told. */
  forget(call: Call): void {
    this.shadows.delete(call.id);
    this.rung.delete(call.id);
    this.deps.book.detach(call);
  }

  private endHere(call: Call, reason: EndReason, self: boolean, ref: string | undefined): void {
    const session = localOf(call);
    const role = session === call.caller ? 'caller' : 'callee';
    const wasConnected = call.state === 'connected';
    this.drop(call);
    if (!call.calleeNotified && !wasConnected) return this.announce(session);
    session.send({
      t: 'ended',
      callId: call.id,
      peerName: peerOf(call, session).name,
      role,
      reason,
      // As on one node: a caller gone while it rang leaves a missed call.
      missed: !wasConnected && reason === 'disconnected',
      self,
      wasConnected,
      ref,
    });
    this.announce(session);
  }

  /** Whether `party` is rung for `call` for the first time (a repeat is dropped). */
  private firstRing(call: Call, party: Party): boolean {
    let rung = this.rung.get(call.id);
    if (rung === undefined) this.rung.set(call.id, (rung = new Set()));
    if (rung.has(party)) return false;
    rung.add(party);
    return true;
  }

  private drop(call: Call): void {
    this.shadows.delete(call.id);
    this.rung.delete(call.id);
    this.deps.book.close(call);
  }

  /** Presence and the person's devices lists follow the party's calls here. */
  private announce(party: Party): void {
    if (party.state === 'active') this.deps.hub.refresh(party);
  }
}

/** The party of a shadow that is on this node (the other one stands for the home). */
function localOf(call: Call): Party {
  return call.caller instanceof RemoteParty ? call.callee : call.caller;
}
