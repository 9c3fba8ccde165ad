/**
 * The call engine: carries out what the state machine decides. It owns the call registry,
 * ring timers, the held-signal queues and meet-by-link rooms, and it is the only place that
 * decides who may talk to whom: signals are relayed only between the two parties of one call,
 * with the sender stamped here, never taken from the client.
 */
import { randomUUID } from 'node:crypto';
import {
  normalizeName,
  type EndReason,
  type ErrorCode,
  type MediaValue,
} from '@callwire/protocol';
import type { Logger } from 'pino';
import type { SignalKind } from '../events.js';
import type { Hub } from '../hub.js';
import type { Stats } from '../metrics.js';
import type { Session } from '../ws/session.js';
import { take, newBucket, type BucketSpec } from '../ws/rate-limit.js';
import { partyOf, peerOf, type Call } from './call.js';
import { transition, type CallEvent } from './machine.js';
import type { RemoteCalls } from './remote.js';

export interface EngineOptions {
  readonly ringTimeoutMs: number;
  readonly heldMax: number;
  readonly invites: BucketSpec;
  /** Told once per call when it ends, or when it is refused before ringing (call records). */
  readonly onCallEnded?: ((end: CallEnd) => void) | undefined;
}

/** A finished call as the engine saw it: what call records are made from. */
export interface CallEnd {
  readonly callId: string;
  readonly caller: { readonly key: string; readonly name: string };
  readonly callee: { readonly key: string; readonly name: string };
  readonly startedAtMs: number;
  readonly answeredAtMs: number | undefined;
  readonly endedAtMs: number;
  readonly callerReason: EndReason;
  readonly calleeReason: EndReason;
  /** The callee never answered nor declined. */
  readonly missed: boolean;
  /** The callee had a session when the call was placed. */
  readonly calleeOnline: boolean;
  /** The callee was rung (told live), so a miss was already shown to them. */
  readonly calleeNotified: boolean;
  readonly room: string | undefined;
  readonly media: MediaValue;
}

/** How a message names its call: by id, by the peer's name (tutorial), or neither (the only call). */
export interface CallSelector {
  readonly callId?: string | undefined;
  readonly name?: string | undefined;
}

const DEFAULT_MEDIA: MediaValue = { audio: true, video: true };

export class Engine {
  private readonly calls = new Map<string, Call>();
  /** Meet-by-link rooms: the person waiting, or the call the room holds. */
  private readonly rooms = new Map<string, Session | Call>();
  /** Set when this node is part of a cluster (cluster/); the single-node path never reads it. */
  private remote: RemoteCalls | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly stats: Stats,
    private readonly log: Logger,
    private readonly options: EngineOptions,
  ) {}

  get activeCalls(): number {
    return this.calls.size;
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  /** Join a cluster: callees on other nodes, shadow calls whose home is elsewhere. */
  attachRemote(remote: RemoteCalls): void {
    this.remote = remote;
  }

  /** A call by id (home or shadow), for the cluster's message handlers. */
  callById(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /**
   * Cluster: keep a call built elsewhere: a shadow of a call homed on another node, or a call
   * this node becomes the home of (handed over by a draining node).
   */
  adoptCall(call: Call): void {
    this.calls.set(call.id, call);
  }

  /** Cluster: forget a call without ending it (its shadow ended, or it moved to another node). */
  dropCall(call: Call): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
  }

  invite(
    caller: Session,
    toRaw: string,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
  ): void {
    const target = normalizeName(toRaw);
    const existing = caller.call;
    if (existing !== null) {
      // Crossing invites: the person I call is already calling me. One call, accepted.
      if (
        target.ok &&
        existing.state === 'ringing' &&
        existing.callee === caller &&
        existing.caller.key === target.key
      ) {
        this.accept(caller, existing.id, ref, undefined);
        return;
      }
      return this.error(caller, 'invalid_state', ref, existing.id);
    }
    if (caller.room !== null) return this.error(caller, 'invalid_state', ref);
    if (target.ok && target.key === caller.key) return this.error(caller, 'self_call', ref);
    const now = Date.now();
    caller.inviteBucket ??= newBucket(this.options.invites, now);
    if (!take(caller.inviteBucket, this.options.invites, now)) {
      return this.error(caller, 'rate_limited', ref, undefined, 'Too many call invites.');
    }

    const callee = target.ok ? this.hub.get(target.key) : undefined;
    if (callee === undefined && target.ok && this.remote !== undefined) {
      // Maybe on another node: the cluster looks and comes back through completeInvite.
      return this.remote.invite(caller, target.key, target.display, media, offer, ref);
    }
    // Offline and unknown names get the same answer, so accounts cannot be probed.
    if (callee === undefined || callee.state !== 'active') {
      const key = target.ok ? target.key : undefined;
      return this.refuse(caller, target.ok ? target.display : toRaw, 'unavailable', ref, key, media);
    }
    if (callee.call !== null || callee.room !== null || this.remote?.isLocating(callee) === true) {
      return this.refuse(caller, callee.name, 'busy', ref, callee.key, media);
    }
    this.place(caller, callee, media, offer, ref, now);
  }

  /**
   * Cluster: the end of an invite whose callee was looked up on the other nodes. `callee` is
   * their proxy (a RemoteSession), or undefined when nobody has that name; `busy` when their
   * node says they are in a call. `callId` is the id their node reserved the callee for.
   */
  completeInvite(
    caller: Session,
    target: { readonly key: string; readonly display: string },
    callee: Session | undefined,
    busy: boolean,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
    callId: string,
  ): void {
    // The caller left while we looked: nobody to ring for.
    if (caller.state !== 'active' && caller.state !== 'away') return;
    const existing = caller.call;
    if (existing !== null) {
      // Crossing invites across nodes: the one I called rang me meanwhile. One call, accepted.
      if (existing.state === 'ringing' && existing.callee === caller && existing.caller.key === target.key) {
        return this.accept(caller, existing.id, ref, undefined);
      }
      return this.error(caller, 'invalid_state', ref, existing.id);
    }
    if (caller.room !== null) return this.error(caller, 'invalid_state', ref);
    if (callee === undefined) {
      return this.refuse(caller, target.display, 'unavailable', ref, target.key, media);
    }
    if (busy) return this.refuse(caller, callee.name, 'busy', ref, callee.key, media);
    this.place(caller, callee, media, offer, ref, Date.now(), callId);
  }

  private place(
    caller: Session,
    callee: Session,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
    now: number,
    callId: string = randomUUID(),
  ): void {
    const call: Call = {
      id: callId,
      caller,
      callee,
      state: 'ringing',
      media: media ?? DEFAULT_MEDIA,
      held: offer === undefined ? [] : [{ signal: 'offer', payload: offer }],
      calleeNotified: false,
      ringTimer: undefined,
      createdAtMs: now,
      answeredAtMs: undefined,
      room: undefined,
    };
    this.calls.set(call.id, call);
    caller.call = call;
    callee.call = call;
    this.stats.callsStarted++;
    this.hub.publish(caller, 'busy');
    this.hub.publish(callee, 'busy');

    const needsOffer = callee.dialect.ringsWithOffer && offer === undefined;
    caller.send({ t: 'ringing', call, sendOffer: needsOffer, ref });
    if (callee.dialect.autoAccept) {
      this.connect(call, undefined);
      return;
    }
    if (!needsOffer) {
      call.calleeNotified = true;
      callee.send({ t: 'incoming', call });
    }
    call.ringTimer = setTimeout(() => this.end(call, { kind: 'timeout' }), this.options.ringTimeoutMs);
    call.ringTimer.unref();
  }

  accept(session: Session, callId: string, ref: string | undefined, answer: unknown): void {
    const call = this.resolve(session, { callId });
    if (call === undefined) return this.error(session, 'not_in_call', ref, callId);
    if (call.home !== undefined) return this.remote!.forward(call, session, { k: 'accept', ref, answer });
    const t = transition(call.state, { kind: 'accept', by: partyOf(call, session)! });
    if (t.action !== 'accept') {
      return this.error(session, t.action === 'reject' ? t.code : 'invalid_state', ref, call.id);
    }
    this.connect(call, ref);
    if (answer !== undefined) this.relay(call, session, 'answer', answer);
  }

  decline(session: Session, callId: string, busy: boolean, ref: string | undefined): void {
    const call = this.resolve(session, { callId });
    if (call === undefined) return this.error(session, 'not_in_call', ref, callId);
    if (call.home !== undefined) return this.remote!.forward(call, session, { k: 'decline', busy, ref });
    this.end(call, { kind: 'decline', by: partyOf(call, session)!, busy }, session, ref);
  }

  cancel(session: Session, callId: string, ref: string | undefined): void {
    const call = this.resolve(session, { callId });
    if (call === undefined) return this.error(session, 'not_in_call', ref, callId);
    if (call.home !== undefined) return this.remote!.forward(call, session, { k: 'cancel', ref });
    this.end(call, { kind: 'cancel', by: partyOf(call, session)! }, session, ref);
  }

  hangup(session: Session, selector: CallSelector, ref: string | undefined): void {
    const call = this.resolve(session, selector);
    if (call === undefined) {
      if (selector.callId === undefined && session.room !== null) return this.leaveRoom(session, ref);
      return this.error(session, 'not_in_call', ref, selector.callId);
    }
    if (call.home !== undefined) return this.remote!.forward(call, session, { k: 'hangup', ref });
    this.end(call, { kind: 'hangup', by: partyOf(call, session)! }, session, ref);
  }

  /** An offer, answer or candidate from `session`. An offer to a name opens a call implicitly. */
  signal(
    session: Session,
    signal: SignalKind,
    selector: CallSelector,
    payload: unknown,
    ref: string | undefined,
  ): void {
    const call = this.resolve(session, selector);
    if (call === undefined) {
      if (signal === 'offer' && selector.callId === undefined && selector.name !== undefined) {
        if (session.call === null) return this.invite(session, selector.name, undefined, payload, ref);
      }
      return this.error(session, 'not_in_call', ref, selector.callId);
    }
    // The hot path: a connected call relays (what transition() answers for every signal in
    // that state), without building the event.
    // (A connected shadow relays the same way: its peer is a RemoteSession that carries the
    // signal to the other node.)
    if (call.state === 'connected') return this.relay(call, session, signal, payload);
    if (call.home !== undefined) {
      return this.remote!.forward(call, session, { k: 'signal', signal, payload, ref });
    }
    const by = partyOf(call, session)!;
    const t = transition(call.state, { kind: 'signal', by, signal });
    switch (t.action) {
      case 'relay':
        this.relay(call, session, signal, payload);
        return;
      case 'hold':
        if (call.held.length >= this.options.heldMax) {
          return this.error(session, 'queue_full', ref, call.id);
        }
        call.held.push({ signal, payload });
        if (!call.calleeNotified && signal === 'offer') {
          // A callee that rings with the offer (one2one) can be rung now.
          call.calleeNotified = true;
          call.callee.send({ t: 'incoming', call });
        }
        return;
      case 'reject':
        return this.error(session, t.code, ref, call.id);
      default:
        return this.error(session, 'invalid_state', ref, call.id);
    }
  }

  /** Meet by link: the first person waits, the second starts the call. */
  join(session: Session, room: string, media: MediaValue | undefined, ref: string | undefined): void {
    if (session.call !== null || session.room !== null) {
      return this.error(session, 'invalid_state', ref);
    }
    const there = this.rooms.get(room);
    // Cluster: the room may be open on another node; the cluster finds out, then comes back
    // through waitInRoom or (on that node) joinFromElsewhere.
    if (there === undefined && this.remote !== undefined) return this.remote.join(session, room, media, ref);
    if (there === undefined || (!('caller' in there) && there.state !== 'active')) {
      return this.waitInRoom(session, room, ref);
    }
    if ('caller' in there) return this.error(session, 'room_full', ref);
    this.startRoomCall(there, session, room, media, ref, randomUUID());
  }

  /** The first person in a room waits for the second. */
  waitInRoom(session: Session, room: string, ref: string | undefined): void {
    this.rooms.set(room, session);
    session.room = room;
    this.hub.publish(session, 'busy');
    session.send({ t: 'joined', room, ref });
  }

  /** Cluster: who waits in `room` on this node, if anyone can be joined (else why not). */
  roomWaiter(room: string): Session | 'full' | undefined {
    const there = this.rooms.get(room);
    if (there === undefined) return undefined;
    if ('caller' in there) return 'full';
    return there.state === 'active' ? there : undefined;
  }

  /** Cluster: `joiner` (on another node) joins the person waiting here in `room`. */
  joinFromElsewhere(
    waiting: Session,
    joiner: Session,
    room: string,
    media: MediaValue | undefined,
    ref: string | undefined,
    callId: string,
  ): void {
    this.startRoomCall(waiting, joiner, room, media, ref, callId);
  }

  private startRoomCall(
    waiting: Session,
    session: Session,
    room: string,
    media: MediaValue | undefined,
    ref: string | undefined,
    callId: string,
  ): void {
    const call: Call = {
      id: callId,
      caller: waiting,
      callee: session,
      state: 'ringing',
      media: media ?? DEFAULT_MEDIA,
      held: [],
      calleeNotified: true,
      ringTimer: undefined,
      createdAtMs: Date.now(),
      answeredAtMs: undefined,
      room,
    };
    this.calls.set(call.id, call);
    this.rooms.set(room, call);
    waiting.call = call;
    session.call = call;
    session.room = room;
    this.stats.callsStarted++;
    this.hub.publish(session, 'busy');
    this.connect(call, ref);
  }

  /** The socket of `session` is gone: end its call and free its room. */
  disconnect(session: Session): void {
    const call = session.call;
    if (call !== null && call.home !== undefined) this.remote!.forward(call, session, { k: 'disconnect' });
    else if (call !== null) this.end(call, { kind: 'disconnect', by: partyOf(call, session)! }, session);
    if (session.room !== null) this.leaveRoom(session, undefined);
  }

  private connect(call: Call, ref: string | undefined): void {
    clearTimeout(call.ringTimer);
    call.ringTimer = undefined;
    call.state = 'connected';
    call.answeredAtMs = Date.now();
    call.caller.send({ t: 'accepted', call, role: 'caller' });
    call.callee.send({ t: 'accepted', call, role: 'callee', ref });
    const held = call.held;
    call.held = [];
    for (const h of held) this.relay(call, call.caller, h.signal, h.payload);
    this.log.info({ callId: call.id, caller: call.caller.name, callee: call.callee.name }, 'call connected');
  }

  private relay(call: Call, from: Session, signal: SignalKind, payload: unknown): void {
    peerOf(call, from).send({ t: 'signal', call, from, signal, payload });
    this.stats.relayed++;
  }

  private end(call: Call, event: CallEvent, initiator?: Session, ref?: string): void {
    const t = transition(call.state, event);
    if (t.action !== 'end') {
      if (initiator && t.action === 'reject') this.error(initiator, t.code, ref, call.id);
      return;
    }
    const wasConnected = call.state === 'connected';
    clearTimeout(call.ringTimer);
    call.ringTimer = undefined;
    call.state = 'ended';
    call.held = [];
    this.calls.delete(call.id);
    for (const party of [call.caller, call.callee]) {
      if (party.call === call) party.call = null;
    }
    if (call.room !== undefined) {
      if (this.rooms.get(call.room) === call) {
        this.rooms.delete(call.room);
        this.remote?.roomClosed(call.room);
      }
      call.caller.room = null;
      call.callee.room = null;
    }
    const notify = (party: Session, role: 'caller' | 'callee', reason: EndReason): void => {
      party.send({
        t: 'ended',
        callId: call.id,
        peerName: (role === 'caller' ? call.callee : call.caller).name,
        role,
        reason,
        missed: role === 'callee' && t.missed,
        self: party === initiator,
        wasConnected,
        ref: party === initiator ? ref : undefined,
      });
    };
    notify(call.caller, 'caller', t.reasons.caller);
    // A callee that was never rung (a one2one client still waiting for the caller's offer)
    // has nothing to be told.
    if (call.calleeNotified || wasConnected) notify(call.callee, 'callee', t.reasons.callee);
    // Cluster: a callee on another node holds the call even before it is rung.
    this.remote?.callEnded(call, wasConnected);
    for (const party of [call.caller, call.callee]) {
      if (party.state === 'active') this.hub.publish(party, this.hub.statusOf(party));
    }
    this.stats.callEnded(t.reasons.caller);
    this.emitEnded({
      callId: call.id,
      caller: call.caller,
      callee: call.callee,
      startedAtMs: call.createdAtMs,
      answeredAtMs: call.answeredAtMs,
      endedAtMs: Date.now(),
      callerReason: t.reasons.caller,
      calleeReason: t.reasons.callee,
      missed: t.missed,
      calleeOnline: true,
      calleeNotified: call.calleeNotified,
      room: call.room,
      media: call.media,
    });
    this.log.info(
      {
        callId: call.id,
        caller: call.caller.name,
        callee: call.callee.name,
        reason: t.reasons.caller,
        durationMs: call.answeredAtMs === undefined ? 0 : Date.now() - call.answeredAtMs,
      },
      'call ended',
    );
  }

  /** A call that never started: tell the caller why, with the same shape as an ended call. */
  private refuse(
    caller: Session,
    peerName: string,
    reason: 'unavailable' | 'busy',
    ref: string | undefined,
    peerKey: string | undefined,
    media: MediaValue | undefined,
  ): void {
    const callId = randomUUID();
    caller.send({
      t: 'ended',
      callId,
      peerName,
      role: 'caller',
      reason,
      missed: false,
      self: false,
      wasConnected: false,
      ref,
    });
    this.stats.callEnded(reason);
    if (peerKey === undefined) return;
    const now = Date.now();
    this.emitEnded({
      callId,
      caller,
      callee: { key: peerKey, name: peerName },
      startedAtMs: now,
      answeredAtMs: undefined,
      endedAtMs: now,
      callerReason: reason,
      // The callee never saw it ring: a missed call, because they were offline or busy.
      calleeReason: reason,
      missed: true,
      calleeOnline: reason === 'busy',
      calleeNotified: false,
      room: undefined,
      media: media ?? DEFAULT_MEDIA,
    });
  }

  /** A listener that throws must not break the engine. */
  private emitEnded(end: CallEnd): void {
    try {
      this.options.onCallEnded?.({ ...end, caller: pick(end.caller), callee: pick(end.callee) });
    } catch (err) {
      this.log.error({ err, callId: end.callId }, 'onCallEnded listener failed');
    }
  }

  private leaveRoom(session: Session, ref: string | undefined): void {
    const room = session.room;
    if (room === null) return this.error(session, 'not_in_call', ref);
    if (this.rooms.get(room) === session) {
      this.rooms.delete(room);
      this.remote?.roomClosed(room);
    }
    session.room = null;
    if (session.state === 'active') this.hub.publish(session, this.hub.statusOf(session));
  }

  private resolve(session: Session, selector: CallSelector): Call | undefined {
    if (selector.callId !== undefined) {
      const call = this.calls.get(selector.callId);
      return call !== undefined && partyOf(call, session) !== undefined ? call : undefined;
    }
    const call = session.call;
    if (call === null) return undefined;
    if (selector.name !== undefined) {
      const peer = peerOf(call, session);
      // Tutorial clients name the peer on every candidate, almost always spelled as the peer
      // logged in: compare that first and normalize only when it differs.
      if (selector.name === peer.name) return call;
      const n = normalizeName(selector.name);
      return n.ok && peer.key === n.key ? call : undefined;
    }
    return call;
  }

  private error(
    session: Session,
    code: ErrorCode,
    ref: string | undefined,
    callId?: string,
    message?: string,
  ): void {
    this.stats.error(code);
    session.send({ t: 'error', code, message, callId, ref });
  }
}

const pick = (p: { readonly key: string; readonly name: string }) => ({ key: p.key, name: p.name });
