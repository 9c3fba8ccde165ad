/**
 * The call book: every call this node knows and every meet-by-link room it holds, and the only
 * writer of a call's state and of a party's current call and room. The engine decides (with
 * machine.ts) and the cluster keeps its copies of calls driven elsewhere in step; both write
 * through here, so what a party is in can never disagree with what the book holds.
 */
import { newCall, type Call, type CallSpec, type QueuedSignal } from './call.js';
import type { Party } from './model.js';

export class CallBook {
  private readonly calls = new Map<string, Call>();
  /** Meet-by-link rooms: the party waiting, or the call the room holds. */
  private readonly rooms = new Map<string, Party | Call>();

  get size(): number {
    return this.calls.size;
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  get(callId: string): Call | undefined {
    return this.calls.get(callId);
  }

  /** Record a call and put its parties (and, for a room's call, the room) in it. */
  open(spec: CallSpec): Call {
    const call = newCall(spec);
    this.calls.set(call.id, call);
    attach(call.caller, call);
    attach(call.callee, call);
    for (const device of call.ringing) attach(device, call);
    if (call.room !== undefined) {
      call.caller.room = call.room;
      call.callee.room = call.room;
      if (call.home === undefined) this.rooms.set(call.room, call);
    }
    return call;
  }

  /** The callee has been rung. */
  rung(call: Call): void {
    call.calleeNotified = true;
  }

  queue(call: Call, signal: QueuedSignal): void {
    call.queued.push(signal);
  }

  /** The caller started over on a new peer connection while ringing: what it queued is void. */
  dropQueued(call: Call): void {
    call.queued = [];
  }

  /** Ringing is over (accepted, or ended): stop its timer. */
  setRingTimer(call: Call, timer: NodeJS.Timeout | undefined): void {
    clearTimeout(call.ringTimer);
    call.ringTimer = timer;
  }

  /** The call is accepted; returns what the caller queued while it rang, to deliver now. */
  connect(call: Call, nowMs: number): QueuedSignal[] {
    this.setRingTimer(call, undefined);
    call.state = 'connected';
    call.ringing = [];
    call.answeredAtMs = nowMs;
    const queued = call.queued;
    call.queued = [];
    return queued;
  }

  /**
   * `device`, one of the callee's devices being rung, answers: it becomes the callee, and the
   * others stop ringing. Returns those others (to be told the call was answered elsewhere).
   */
  answer(call: Call, device: Party): Party[] {
    const others = call.ringing.filter((d) => d !== device);
    call.callee = device;
    call.ringing = [device];
    for (const other of others) release(other, call);
    return others;
  }

  /**
   * One of several devices rung stops ringing (it went away). Returns false when it was the
   * last one: then the call itself must end.
   */
  unring(call: Call, device: Party): boolean {
    const rest = call.ringing.filter((d) => d !== device);
    if (rest.length === 0) return false;
    call.ringing = rest;
    if (call.callee === device) call.callee = rest[0]!;
    release(device, call);
    return true;
  }

  setHeld(call: Call, role: 'caller' | 'callee', held: boolean): void {
    call.held[role] = held;
  }

  /**
   * `party` turns to its second call (`other`): a waiting call it answers, or a held call it
   * takes back. The call it was in goes behind it.
   */
  swap(party: Party): void {
    const front = party.other;
    if (front === null) return;
    party.other = party.call;
    party.call = front;
  }

  /**
   * The call is over: forget it and free its parties and its room. Returns the room it freed
   * on this node, if any (its claim elsewhere may need releasing).
   */
  close(call: Call): string | undefined {
    this.setRingTimer(call, undefined);
    call.state = 'ended';
    call.queued = [];
    this.detach(call);
    if (call.room === undefined) return undefined;
    for (const party of [call.caller, call.callee]) if (party.room === call.room) party.room = null;
    if (this.rooms.get(call.room) !== call) return undefined;
    this.rooms.delete(call.room);
    return call.room;
  }

  /** The call goes on, but no longer here (its home moved): forget it without ending it. */
  detach(call: Call): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
    for (const party of [call.caller, call.callee, ...call.ringing]) release(party, call);
  }

  /** A stand-in gives way to the party it stood for (or the other way round). */
  replaceParty(call: Call, old: Party, fresh: Party): void {
    if (call.caller === old) call.caller = fresh;
    else if (call.callee === old) call.callee = fresh;
    else return;
    release(old, call);
    attach(fresh, call);
  }

  /** Who waits in `room` (or the call it holds), on this node. */
  room(room: string): Party | Call | undefined {
    return this.rooms.get(room);
  }

  wait(party: Party, room: string): void {
    this.rooms.set(room, party);
    party.room = room;
  }

  /** `party` leaves its room; returns the room when it was the one waiting there. */
  leave(party: Party): string | undefined {
    const room = party.room;
    party.room = null;
    if (room === null || this.rooms.get(room) !== party) return undefined;
    this.rooms.delete(room);
    return room;
  }
}

/** `party` is in `call`: its call, or its second call when it is in another (call waiting). */
function attach(party: Party, call: Call): void {
  if (party.call === null || party.call === call) party.call = call;
  else if (party.other === null) party.other = call;
}

/** `party` is out of `call`; a second call it had takes the first one's place. */
function release(party: Party, call: Call): void {
  if (party.other === call) party.other = null;
  if (party.call !== call) return;
  party.call = party.other;
  party.other = null;
}
