/**
 * The callee's side of a call across nodes. The call's home is the caller's node; here the
 * callee's session holds a *shadow* of it (a Call with `home` set, the caller stood in for by a
 * RemoteSession), so that everything the callee's client sends names the call as usual. The
 * engine forwards the callee's commands to the home (through `forward`); the home's events
 * (accepted, the caller's signals, ended) update the shadow and reach the callee here.
 *
 * When the home node dies, or this node learns it was presumed dead, shadows end here with
 * `disconnected`, as a call ends when the peer disconnects.
 */
import type { EndReason } from '@callwire/protocol';
import { peerOf, type Call } from '../calls/call.js';
import type { Engine } from '../calls/engine.js';
import type { RemoteCommand } from '../calls/remote.js';
import type { Hub } from '../hub.js';
import type { Stats } from '../metrics.js';
import type { Session } from '../ws/session.js';
import type { Bus } from './bus.js';
import { RemoteSession } from './remote-session.js';
import type { EventDto, NodeMessage, RingResult } from './wire.js';

type RingMessage = Extract<NodeMessage, { op: 'ring' }>;

export interface ShadowDeps {
  readonly engine: Engine;
  readonly hub: Hub;
  readonly stats: Stats;
  readonly bus: Bus;
  /** Whom the session is calling on another node right now, if anyone (it counts as busy). */
  readonly locatingTarget: (session: Session) => string | undefined;
}

export class ShadowCalls {
  private readonly shadows = new Map<string, Call>();

  constructor(private readonly deps: ShadowDeps) {}

  get size(): number {
    return this.shadows.size;
  }

  /**
   * May a call from another node ring this user? Answered as one node decides at invite time:
   * gone (not here, or not active), busy (in a call or room, or calling out themselves), or
   * ok, and then the user is held for this call (a shadow, not yet rung) until it rings or ends.
   */
  ring(msg: RingMessage): void {
    const { engine, hub, bus } = this.deps;
    const answer = (result: RingResult) =>
      bus.send(msg.from, { op: 'rang', from: bus.nodeId, callId: msg.callId, result });
    if (this.shadows.has(msg.callId)) return;
    const session = hub.get(msg.to);
    if (session === undefined || session.state !== 'active') return void answer('gone');
    if (session.call !== null || session.room !== null) return void answer('busy');
    const calling = this.deps.locatingTarget(session);
    // Both calling each other at once: one call. The invite of the smaller name key goes on;
    // the other caller's own invite then finds this call ringing for them and accepts it.
    if (calling !== undefined && !(calling === msg.callerKey && msg.callerKey < session.key)) {
      return void answer('busy');
    }
    const caller = new RemoteSession(msg.from, msg.callerKey, msg.caller, 'native', bus.toRemote);
    const call: Call = {
      id: msg.callId,
      caller,
      callee: session,
      state: 'ringing',
      media: msg.media,
      held: [],
      calleeNotified: false,
      ringTimer: undefined,
      createdAtMs: Date.now(),
      answeredAtMs: undefined,
      room: undefined,
      home: msg.from,
    };
    caller.call = call;
    session.call = call;
    engine.adoptCall(call);
    this.shadows.set(call.id, call);
    hub.publish(session, 'busy');
    answer('ok');
  }

  /** The home rings the held user now. */
  private incoming(call: Call, session: Session, e: Extract<EventDto, { t: 'incoming' }>): void {
    if (call.calleeNotified) return;
    call.calleeNotified = true;
    if (e.offer !== undefined) call.held = [{ signal: 'offer', payload: e.offer }];
    session.send({ t: 'incoming', call });
    // A tutorial client has no ringing step: its node accepts for it, as a single node does.
    if (session.dialect.autoAccept) this.deps.engine.accept(session, call.id, undefined, undefined);
  }

  /** An event from the home node for the local party of a shadow. */
  event(e: EventDto, call: Call, session: Session): void {
    switch (e.t) {
      case 'incoming':
        return this.incoming(call, session, e);
      case 'accepted':
        call.state = 'connected';
        call.answeredAtMs = Date.now();
        call.held = [];
        session.send({ t: 'accepted', call, role: e.role, ref: e.ref });
        return;
      case 'signal':
        session.send({
          t: 'signal',
          call,
          from: peerOf(call, session),
          signal: e.signal,
          payload: e.payload,
        });
        return;
      case 'ended':
        this.drop(call);
        // Held but never rung (a reservation undone, a one2one callee still waiting for the
        // offer): nothing to tell them, as on one node.
        if (!call.calleeNotified && !e.wasConnected) return this.announce(session);
        session.send({
          t: 'ended',
          callId: call.id,
          peerName: e.peerName,
          role: e.role,
          reason: e.reason,
          missed: e.missed,
          self: e.self,
          wasConnected: e.wasConnected,
          ref: e.ref,
        });
        this.announce(session);
        return;
      case 'peer-state':
        session.send({
          t: 'peer-state',
          callId: call.id,
          name: peerOf(call, session).name,
          away: e.away,
        });
        return;
      case 'error':
        return; // handled before a call is looked up
      default:
        return;
    }
  }

  /** The engine's forward: a command from the local party goes to the call's home. */
  forward(call: Call, session: Session, command: RemoteCommand): void {
    const { bus } = this.deps;
    const home = call.home!;
    const msg: NodeMessage = {
      op: 'cmd',
      from: bus.nodeId,
      by: session.key,
      callId: call.id,
      c: command,
    };
    if (command.k === 'disconnect') {
      // The session is gone: its shadow goes now; the home hears of it as soon as it can.
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
      session.send({
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

  /** Start keeping a shadow made elsewhere (a session resumed here from a drained node). */
  track(call: Call): void {
    this.shadows.set(call.id, call);
    this.deps.engine.adoptCall(call);
  }

  /** This node became the call's home (adopt): the shadow is replaced, nobody is told. */
  forget(call: Call): void {
    this.shadows.delete(call.id);
    this.deps.engine.dropCall(call);
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

  private drop(call: Call): void {
    this.shadows.delete(call.id);
    this.deps.engine.dropCall(call);
    call.state = 'ended';
    call.held = [];
    if (call.callee.call === call) call.callee.call = null;
    if (call.caller.call === call) call.caller.call = null;
    // A meet-by-link room's call: leaving the call leaves the room.
    if (call.room !== undefined) {
      call.caller.room = null;
      call.callee.room = null;
    }
  }

  private announce(session: Session): void {
    if (session.state === 'active') this.deps.hub.publish(session, this.deps.hub.statusOf(session));
  }
}

/** The party of a shadow that is on this node (the other one stands for the home). */
function localOf(call: Call): Session {
  return call.caller instanceof RemoteSession ? call.callee : call.caller;
}
