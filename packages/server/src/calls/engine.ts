/**
 * The call engine: parties' commands in, events out. It decides with the state machine
 * (machine.ts), keeps calls and rooms in the call book (book.ts), runs ring timers, and is the
 * only place that decides who may talk to whom: signals are relayed only between the two
 * parties of one call, with the sender stamped here, never taken from the client.
 *
 * It does not know where a party is. A call driven on another node is recognised by its `home`
 * at exactly one point (`execute`), and handed to the remote seam (remote.ts); everything
 * else (who is where, how an event reaches a party) is the parties' and the seam's business.
 */
import { randomUUID } from 'node:crypto';
import { normalizeName, type EndReason, type ErrorCode, type MediaValue } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Stats } from '../metrics.js';
import { take, newBucket, type Bucket, type BucketSpec } from '../rate-limit.js';
import { CallBook } from './book.js';
import { peerOf, roleOf, type Call, type SignalKind } from './call.js';
import type { CallCommand } from './commands.js';
import { assertNever, transition, type CallEvent } from './machine.js';
import type { CallOutEvent, Party } from './model.js';
import { SINGLE_NODE, type InviteTarget, type RemoteCalls } from './remote.js';

export interface EngineOptions {
  readonly ringTimeoutMs: number;
  /** Signals a caller may queue while its call rings. */
  readonly queueMax: number;
  readonly invites: BucketSpec;
  /** A party's presence status may have changed (it entered or left a call or a room). */
  readonly onPartyStatus: (party: Party) => void;
  /** Told once per call when it ends, or when it is refused before ringing (call records). */
  readonly onCallEnded?: ((end: CallEnd) => void) | undefined;
  /** A party reports how its call's media flows (call records). */
  readonly onReport?:
    | ((party: Party, callId: string, path: 'direct' | 'relay', ref: string | undefined) => void)
    | undefined;
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

/** The devices of a person on this node, by name key (the hub), in sign-in order. */
export type PartyLookup = (key: string) => readonly Party[];

const DEFAULT_MEDIA: MediaValue = { audio: true, video: true };

export class Engine {
  readonly book = new CallBook();
  private remote: RemoteCalls = SINGLE_NODE;
  private readonly inviteBuckets = new WeakMap<Party, Bucket>();

  constructor(
    private readonly lookup: PartyLookup,
    private readonly stats: Stats,
    private readonly log: Logger,
    private readonly options: EngineOptions,
  ) {}

  get activeCalls(): number {
    return this.book.size;
  }

  get roomCount(): number {
    return this.book.roomCount;
  }

  /** Join a cluster: callees and rooms on other nodes, calls driven elsewhere. */
  attachRemote(remote: RemoteCalls): void {
    this.remote = remote;
  }

  // ---- placing calls -------------------------------------------------------------------

  invite(
    caller: Party,
    toRaw: string,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
  ): void {
    const target = normalizeName(toRaw);
    if (!this.mayPlace(caller, target.ok ? target.key : undefined, ref)) return;
    if (target.ok && target.key === caller.key) return this.error(caller, 'self_call', ref);
    const now = Date.now();
    let bucket = this.inviteBuckets.get(caller);
    if (bucket === undefined)
      this.inviteBuckets.set(caller, (bucket = newBucket(this.options.invites, now)));
    if (!take(bucket, this.options.invites, now)) {
      return this.error(caller, 'rate_limited', ref, undefined, 'Too many call invites.');
    }
    if (!target.ok) return this.refuse(caller, toRaw, 'unavailable', ref, undefined, media);
    const devices = this.lookup(target.key);
    // A person's devices may also be on other nodes (accounts in a cluster): those ring too.
    if (
      (devices.length === 0 || this.remote.devicesAcrossNodes) &&
      this.remote.invite(caller, target, media, offer, ref)
    )
      return;
    this.placeWith(caller, target, [], false, media, offer, ref, randomUUID());
  }

  /**
   * Ring every device of the person that can take the call: this node's (a free one as usual,
   * one in a call that takes call waiting as a waiting call) and `remote`, those found free on
   * other nodes. `busy` only when none can (`remoteBusy`: a node found its devices busy).
   */
  private placeWith(
    caller: Party,
    target: InviteTarget,
    remote: readonly Party[],
    remoteBusy: boolean,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
    callId: string,
  ): void {
    const reachable = this.lookup(target.key).filter((d) => d.state === 'active');
    const free = reachable.filter(
      (d) => d.call === null && d.room === null && !this.remote.isPlacing(d),
    );
    const waiting = reachable.filter((d) => canWait(d) && !this.remote.isPlacing(d));
    const ringing = [...free, ...waiting, ...remote];
    if (ringing.length > 0) return this.place(caller, ringing, media, offer, ref, callId);
    if (reachable.length > 0 || remoteBusy) {
      const name = reachable[0]?.name ?? target.display;
      return this.refuse(caller, name, 'busy', ref, target.key, media);
    }
    // Offline and unknown names get the same answer, so accounts cannot be probed.
    return this.refuse(caller, target.display, 'unavailable', ref, target.key, media);
  }

  /**
   * The end of an invite whose callee was looked for elsewhere (`RemoteCalls.invite`):
   * `callees` stand for their devices there that ring (none: nobody by that name elsewhere, or
   * all busy: `busy`); their devices on this node ring with them. `callId` is the id their
   * nodes reserved the callees for.
   */
  placeFound(
    caller: Party,
    target: InviteTarget,
    callees: readonly Party[],
    busy: boolean,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
    callId: string,
  ): void {
    // The caller left while we looked: nobody to ring for.
    if (caller.state !== 'active' && caller.state !== 'away') return;
    if (!this.mayPlace(caller, target.key, ref)) return;
    this.placeWith(caller, target, callees, busy, media, offer, ref, callId);
  }

  /**
   * May `caller` place a call to `targetKey` now? Crossing invites (the person I call is
   * already calling me) become one call, accepted; otherwise a caller in a call or a room is
   * refused.
   */
  private mayPlace(caller: Party, targetKey: string | undefined, ref: string | undefined): boolean {
    const existing = caller.call;
    if (existing !== null) {
      if (
        existing.state === 'ringing' &&
        roleOf(existing, caller) === 'callee' &&
        existing.caller.key === targetKey
      ) {
        this.execute(caller, existing, { k: 'accept', ref });
      } else {
        this.error(caller, 'invalid_state', ref, existing.id);
      }
      return false;
    }
    if (caller.room !== null) {
      this.error(caller, 'invalid_state', ref);
      return false;
    }
    return true;
  }

  /** Open a call ringing `devices`, the free devices of one person (at least one). */
  private place(
    caller: Party,
    devices: readonly Party[],
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
    callId: string,
  ): void {
    // A client without a ringing step (tutorial) takes the call at once: it alone is rung.
    const auto = devices.find((d) => d.dialect.autoAccept);
    const ringing = auto === undefined ? devices : [auto];
    const callee = ringing[0]!;
    const call = this.book.open({
      id: callId,
      caller,
      callee,
      ringing,
      state: 'ringing',
      media: media ?? DEFAULT_MEDIA,
      createdAtMs: Date.now(),
      calleeNotified: false,
      queued: offer === undefined ? [] : [{ signal: 'offer', payload: offer }],
    });
    this.stats.callsStarted++;
    this.options.onPartyStatus(caller);
    for (const device of ringing) this.options.onPartyStatus(device);

    const needsOffer = offer === undefined && ringing.some((d) => d.dialect.ringsWithOffer);
    caller.send({ t: 'ringing', call, sendOffer: needsOffer, ref });
    if (auto !== undefined) {
      this.connect(call, undefined);
      return;
    }
    this.ring(call, offer !== undefined);
    const timer = setTimeout(() => this.end(call, { kind: 'timeout' }), this.options.ringTimeoutMs);
    timer.unref();
    this.book.setRingTimer(call, timer);
  }

  /**
   * Tell the callee's devices the call rings: those that ring with the caller's offer (one2one)
   * once it is here (`haveOffer`), the others at once.
   */
  private ring(call: Call, haveOffer: boolean): void {
    const offer = haveOffer ? call.queued.find((q) => q.signal === 'offer')?.payload : undefined;
    let rung = false;
    for (const device of call.ringing) {
      if (device.dialect.ringsWithOffer) {
        if (offer === undefined) continue;
        device.send({ t: 'incoming', call, offer });
      } else if (!call.calleeNotified) {
        device.send(
          device.other === call ? { t: 'incoming', call, waiting: true } : { t: 'incoming', call },
        );
      } else continue;
      rung = true;
    }
    if (rung) this.book.rung(call);
  }

  // ---- commands on a call --------------------------------------------------------------

  accept(party: Party, callId: string, ref: string | undefined, answer: unknown): void {
    this.command(party, { callId }, { k: 'accept', ref, answer });
  }

  decline(party: Party, callId: string, busy: boolean, ref: string | undefined): void {
    this.command(party, { callId }, { k: 'decline', busy, ref });
  }

  cancel(party: Party, callId: string, ref: string | undefined): void {
    this.command(party, { callId }, { k: 'cancel', ref });
  }

  hangup(party: Party, selector: CallSelector, ref: string | undefined): void {
    const call = this.resolve(party, selector);
    if (call === undefined && selector.callId === undefined && party.room !== null) {
      return this.leaveRoom(party, ref);
    }
    this.command(party, selector, { k: 'hangup', ref }, call);
  }

  /** An offer, answer or candidate from `party`. An offer to a name opens a call implicitly. */
  signal(
    party: Party,
    signal: SignalKind,
    selector: CallSelector,
    payload: unknown,
    ref: string | undefined,
  ): void {
    const call = this.resolve(party, selector);
    if (call === undefined) {
      if (signal === 'offer' && selector.callId === undefined && selector.name !== undefined) {
        if (party.call === null) return this.invite(party, selector.name, undefined, payload, ref);
      }
      return this.error(party, 'not_in_call', ref, selector.callId);
    }
    // The hot path: a connected call relays (what transition() answers for every signal in
    // that state) without building a command. A connected call driven elsewhere relays the
    // same way: its peer here stands for the other node and carries the signal there.
    if (call.state === 'connected') return this.relay(call, party, signal, payload);
    this.execute(party, call, { k: 'signal', signal, payload, ref });
  }

  restart(party: Party, callId: string, ref: string | undefined): void {
    this.command(party, { callId }, { k: 'restart', ref });
  }

  /**
   * Move a connected call to `device` from another device of the same person: `device` takes
   * that party's place, the device it leaves hears `moved`, and the peer is told to expect a
   * new peer connection (`restart`). Only a device of the same account can do it. A call driven
   * on another node, or unknown here (its devices are elsewhere), is the cluster's to move.
   */
  move(device: Party, callId: string, ref: string | undefined): void {
    const call = this.book.get(callId);
    const from =
      call === undefined
        ? undefined
        : call.caller.key === device.key
          ? call.caller
          : call.callee.key === device.key
            ? call.callee
            : undefined;
    const free = device.call === null && device.room === null;
    const elsewhere = call === undefined || (from !== undefined && call.home !== undefined);
    if (elsewhere && free && this.remote.move(device, callId, ref)) return;
    if (call === undefined || from === undefined || from === device) {
      return this.error(device, 'not_in_call', ref, callId);
    }
    if (call.state !== 'connected' || !free) {
      return this.error(device, 'invalid_state', ref, callId);
    }
    if (call.home !== undefined) {
      return this.error(
        device,
        'temporarily_unavailable',
        ref,
        callId,
        'This call cannot be moved from here.',
      );
    }
    // (`from` may be a device on another node: its node ends its copy when it hears `ended`.)
    this.handOver(call, from, device);
    device.send({ t: 'accepted', call, role: roleOf(call, device)!, ref });
    this.log.info({ callId: call.id, name: device.name }, 'call moved to another device');
  }

  /**
   * `to`, another device of the same person, takes `from`'s place in a connected call driven
   * here: `from` hears the call ended (`moved`) and the peer hears `restart` (a new peer
   * connection is coming, same call). Whoever moves it tells `to`: this node (`accepted`), or
   * for a device on another node, its own node, which makes its copy of the call first.
   */
  handOver(call: Call, from: Party, to: Party): void {
    const role = roleOf(call, from)!;
    this.book.replaceParty(call, from, to);
    from.send({
      t: 'ended',
      callId: call.id,
      peerName: peerOf(call, to).name,
      role,
      reason: 'moved',
      missed: false,
      self: false,
      wasConnected: true,
    });
    peerOf(call, to).send({ t: 'restart', call, from: to });
    if (from.state === 'active') this.options.onPartyStatus(from);
    this.options.onPartyStatus(to);
  }

  hold(party: Party, callId: string, held: boolean, ref: string | undefined): void {
    this.command(party, { callId }, { k: 'hold', held, ref });
  }

  /** How the media of `callId` flows, for its record (also after the call ended). */
  report(party: Party, callId: string, path: 'direct' | 'relay', ref: string | undefined): void {
    const call = party.call;
    if (call !== null && call.id === callId)
      return this.execute(party, call, { k: 'report', path, ref });
    this.options.onReport?.(party, callId, path, ref);
  }

  /** `party` is gone: end its calls (a waiting or held one too) and free its room. */
  disconnect(party: Party): void {
    for (const call of [party.call, party.other]) {
      if (call !== null && call.state !== 'ended') this.execute(party, call, { k: 'disconnect' });
    }
    if (party.room !== null) this.leaveRoom(party, undefined);
  }

  private command(
    party: Party,
    selector: CallSelector,
    command: CallCommand,
    call = this.resolve(party, selector),
  ): void {
    if (call === undefined) {
      return this.error(
        party,
        'not_in_call',
        'ref' in command ? command.ref : undefined,
        selector.callId,
      );
    }
    this.execute(party, call, command);
  }

  /** The one routing decision: a call driven here is applied here, any other goes to its home. */
  private execute(party: Party, call: Call, command: CallCommand): void {
    if (call.home !== undefined) return this.remote.forward(call, party, command);
    this.apply(party, call, command);
  }

  /**
   * Apply a party's command to a call driven here: from a party on this node, or carried from
   * another node for a party there.
   */
  apply(party: Party, call: Call, command: CallCommand): void {
    const by = roleOf(call, party)!;
    switch (command.k) {
      case 'accept': {
        const t = transition(call.state, { kind: 'accept', by });
        if (t.action !== 'accept') {
          return this.error(
            party,
            t.action === 'reject' ? t.code : 'invalid_state',
            command.ref,
            call.id,
          );
        }
        if (party.call !== call) {
          // A waiting call: the call this device is in must be on hold (by it) first, or over.
          const current = party.call;
          if (current !== null && !current.held[roleOf(current, party) ?? 'caller']) {
            return this.error(
              party,
              'invalid_state',
              command.ref,
              call.id,
              'Hold or end the call you are in before answering another.',
            );
          }
          this.book.swap(party);
        }
        // The first of the callee's devices to accept wins; the others stop ringing.
        for (const other of this.book.answer(call, party)) {
          this.tellCallee(call, other, 'answered_elsewhere', false, false);
        }
        this.connect(call, command.ref);
        if (command.answer !== undefined) this.relay(call, party, 'answer', command.answer);
        return;
      }
      case 'decline':
        return this.end(call, { kind: 'decline', by, busy: command.busy }, party, command.ref);
      case 'cancel':
        return this.end(call, { kind: 'cancel', by }, party, command.ref);
      case 'hangup':
        return this.end(call, { kind: 'hangup', by }, party, command.ref);
      case 'signal':
        return this.applySignal(party, call, by, command);
      case 'report':
        return this.options.onReport?.(party, call.id, command.path, command.ref);
      case 'hold':
        return this.applyHold(party, call, by, command.held, command.ref);
      case 'restart':
        // A caller that reloads while its call rings offers again on a new peer connection; the
        // callee has seen nothing yet (a native callee gets the queue on accept), so the old
        // offer and candidates are simply dropped.
        if (call.state === 'ringing' && by === 'caller') return this.book.dropQueued(call);
        if (call.state !== 'connected')
          return this.error(party, 'invalid_state', command.ref, call.id);
        return peerOf(call, party).send({ t: 'restart', call, from: party });
      case 'disconnect':
        // One of several devices rung went away: the others still ring.
        if (call.state === 'ringing' && by === 'callee' && this.book.unring(call, party)) {
          if (party.state === 'active') this.options.onPartyStatus(party);
          return;
        }
        return this.end(call, { kind: 'disconnect', by }, party);
      default:
        return assertNever(command);
    }
  }

  private applySignal(
    party: Party,
    call: Call,
    by: 'caller' | 'callee',
    command: Extract<CallCommand, { k: 'signal' }>,
  ): void {
    const { signal, payload, ref } = command;
    const t = transition(call.state, { kind: 'signal', by, signal });
    switch (t.action) {
      case 'relay':
        return this.relay(call, party, signal, payload);
      case 'queue':
        if (call.queued.length >= this.options.queueMax) {
          return this.error(party, 'queue_full', ref, call.id);
        }
        this.book.queue(call, { signal, payload });
        // A callee device that rings with the offer (one2one) can be rung now.
        if (signal === 'offer' && call.queued.filter((q) => q.signal === 'offer').length === 1)
          this.ring(call, true);
        return;
      case 'reject':
        return this.error(party, t.code, ref, call.id);
      case 'accept':
      case 'end':
        return this.error(party, 'invalid_state', ref, call.id);
      default:
        return assertNever(t);
    }
  }

  /**
   * Hold: the peer is told; the media pauses by renegotiation between the clients (a connected
   * call relays offers and answers), so the server only keeps who holds.
   */
  private applyHold(
    party: Party,
    call: Call,
    by: 'caller' | 'callee',
    held: boolean,
    ref: string | undefined,
  ): void {
    if (call.state !== 'connected') return this.error(party, 'invalid_state', ref, call.id);
    if (call.held[by] === held) return;
    this.book.setHeld(call, by, held);
    // Taking back a call held behind another makes it the one this device is in.
    if (!held && party.other === call) this.book.swap(party);
    peerOf(call, party).send({ t: 'hold', call, from: party, held });
  }

  /** A device of the callee that was rung and is no longer part of the call. */
  private tellCallee(
    call: Call,
    device: Party,
    reason: EndReason,
    missed: boolean,
    wasConnected: boolean,
  ): void {
    device.send({
      t: 'ended',
      callId: call.id,
      peerName: call.caller.name,
      role: 'callee',
      reason,
      missed,
      self: false,
      wasConnected,
    });
    if (device.state === 'active') this.options.onPartyStatus(device);
  }

  // ---- meet by link --------------------------------------------------------------------

  /** Meet by link: the first person waits, the second starts the call. */
  join(party: Party, room: string, media: MediaValue | undefined, ref: string | undefined): void {
    if (party.call !== null || party.room !== null) return this.error(party, 'invalid_state', ref);
    const there = this.book.room(room);
    if (there === undefined && this.remote.join(party, room, media, ref)) return;
    if (there === undefined || (!isCall(there) && there.state !== 'active')) {
      return this.waitInRoom(party, room, ref);
    }
    if (isCall(there)) return this.error(party, 'room_full', ref);
    this.startRoomCall(there, party, room, media, ref, randomUUID());
  }

  /** The first person in a room waits for the second. */
  waitInRoom(party: Party, room: string, ref: string | undefined): void {
    this.book.wait(party, room);
    this.options.onPartyStatus(party);
    party.send({ t: 'joined', room, ref });
  }

  /** Who waits in `room` on this node, if anyone can be joined (else why not). */
  roomWaiter(room: string): Party | 'full' | undefined {
    const there = this.book.room(room);
    if (there === undefined) return undefined;
    if (isCall(there)) return 'full';
    return there.state === 'active' ? there : undefined;
  }

  /** `joiner` joins `waiting` in `room`: the call starts at once (the waiter is the caller). */
  startRoomCall(
    waiting: Party,
    joiner: Party,
    room: string,
    media: MediaValue | undefined,
    ref: string | undefined,
    callId: string,
  ): void {
    const call = this.book.open({
      id: callId,
      caller: waiting,
      callee: joiner,
      state: 'ringing',
      media: media ?? DEFAULT_MEDIA,
      createdAtMs: Date.now(),
      calleeNotified: true,
      room,
    });
    this.stats.callsStarted++;
    this.options.onPartyStatus(joiner);
    this.connect(call, ref);
  }

  private leaveRoom(party: Party, ref: string | undefined): void {
    if (party.room === null) return this.error(party, 'not_in_call', ref);
    const freed = this.book.leave(party);
    if (freed !== undefined) this.remote.roomClosed(freed);
    if (party.state === 'active') this.options.onPartyStatus(party);
  }

  // ---- what commands lead to -----------------------------------------------------------

  private connect(call: Call, ref: string | undefined): void {
    const queued = this.book.connect(call, Date.now());
    call.caller.send({ t: 'accepted', call, role: 'caller' });
    // The callee's `accepted` and what the caller offered while it rang (the offer and usually
    // a few candidates) leave in one write.
    const from = call.caller;
    call.callee.sendAll([
      { t: 'accepted', call, role: 'callee', ref },
      ...queued.map((q): CallOutEvent => ({
        t: 'signal',
        call,
        from,
        signal: q.signal,
        payload: q.payload,
      })),
    ]);
    this.stats.relayed += queued.length;
    // Both people's other devices learn that a call is on ("in a call with bob on ...", and
    // "Move call here"): a device counts as in a call only once it was answered.
    this.options.onPartyStatus(call.caller);
    this.options.onPartyStatus(call.callee);
    this.log.info(
      { callId: call.id, caller: call.caller.name, callee: call.callee.name },
      'call connected',
    );
  }

  private relay(call: Call, from: Party, signal: SignalKind, payload: unknown): void {
    peerOf(call, from).send({ t: 'signal', call, from, signal, payload });
    this.stats.relayed++;
  }

  private end(call: Call, event: CallEvent, initiator?: Party, ref?: string): void {
    const t = transition(call.state, event);
    if (t.action !== 'end') {
      if (initiator && t.action === 'reject') this.error(initiator, t.code, ref, call.id);
      return;
    }
    const wasConnected = call.state === 'connected';
    const freedRoom = this.book.close(call);
    if (freedRoom !== undefined) this.remote.roomClosed(freedRoom);
    const notify = (party: Party, role: 'caller' | 'callee', reason: EndReason): void => {
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
    const calleeDevices = call.ringing.length > 0 ? call.ringing : [call.callee];
    // Declined (or hung up while ringing) by one of the callee's devices.
    const declinedBy =
      !wasConnected && initiator !== undefined && roleOf(call, initiator) === 'callee'
        ? initiator
        : undefined;
    notify(call.caller, 'caller', t.reasons.caller);
    // A callee that was never rung (a one2one client still waiting for the caller's offer)
    // has nothing to be told. A decline from one device is "declined elsewhere" to the others.
    if (call.calleeNotified || wasConnected) {
      for (const device of calleeDevices) {
        const elsewhere = declinedBy !== undefined && device !== declinedBy;
        if (elsewhere) this.tellCallee(call, device, 'declined_elsewhere', false, false);
        else notify(device, 'callee', t.reasons.callee);
      }
    }
    // A callee elsewhere holds the call even before it is rung.
    this.remote.callEnded(call, wasConnected);
    for (const party of [call.caller, ...calleeDevices]) {
      if (party.state === 'active') this.options.onPartyStatus(party);
    }
    this.stats.callEnded(t.reasons.caller);
    const now = Date.now();
    this.emitEnded({
      callId: call.id,
      caller: call.caller,
      callee: call.callee,
      startedAtMs: call.createdAtMs,
      answeredAtMs: call.answeredAtMs,
      endedAtMs: now,
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
        durationMs: call.answeredAtMs === undefined ? 0 : now - call.answeredAtMs,
      },
      'call ended',
    );
  }

  /** A call that never started: tell the caller why, with the same shape as an ended call. */
  private refuse(
    caller: Party,
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

  private resolve(party: Party, selector: CallSelector): Call | undefined {
    if (selector.callId !== undefined) {
      const call = this.book.get(selector.callId);
      return call !== undefined && roleOf(call, party) !== undefined ? call : undefined;
    }
    const call = party.call;
    if (call === null) return undefined;
    if (selector.name !== undefined) {
      const peer = peerOf(call, party);
      // Tutorial clients name the peer on every candidate, almost always spelled as the peer
      // logged in: compare that first and normalize only when it differs.
      if (selector.name === peer.name) return call;
      const n = normalizeName(selector.name);
      return n.ok && peer.key === n.key ? call : undefined;
    }
    return call;
  }

  private error(
    party: Party,
    code: ErrorCode,
    ref: string | undefined,
    callId?: string,
    message?: string,
  ): void {
    this.stats.error(code);
    party.send({ t: 'error', code, message, callId, ref });
  }
}

/**
 * May `device`, in a call, ring with a second one (call waiting)? Only a client that said it
 * takes call waiting, in a connected call driven here, with no second call already.
 */
function canWait(device: Party): boolean {
  const current = device.call;
  return (
    device.device?.callWaiting === true &&
    current !== null &&
    current.state === 'connected' &&
    current.home === undefined &&
    device.other === null &&
    device.room === null
  );
}

function isCall(there: Party | Call): there is Call {
  return 'caller' in there;
}

const pick = (p: { readonly key: string; readonly name: string }) => ({ key: p.key, name: p.name });
