/**
 * A call's record. Transitions are decided by machine.ts; the record is written only by the
 * call book (book.ts), which builds every call through `newCall` below.
 */
import type { MediaValue } from '@callwire/protocol';
import type { CallState, Role } from './machine.js';
import type { Party } from './party.js';

export type SignalKind = 'offer' | 'answer' | 'candidate';

export interface QueuedSignal {
  readonly signal: SignalKind;
  readonly payload: unknown;
}

export interface Call {
  readonly id: string;
  /** Fixed for the call's life, except when a stand-in gives way to the party it stood for. */
  caller: Party;
  callee: Party;
  state: CallState;
  readonly media: MediaValue;
  /** Caller signals queued while ringing, delivered in order on accept. */
  queued: QueuedSignal[];
  /** The callee has been told it rings (`incoming`); one2one callees need the offer first. */
  calleeNotified: boolean;
  ringTimer: NodeJS.Timeout | undefined;
  readonly createdAtMs: number;
  answeredAtMs: number | undefined;
  readonly room: string | undefined;
  /**
   * Where the call's state machine and timers run when that is not here (the node id of the
   * caller's node, in a cluster): the local party's commands are carried there. Undefined for
   * a call driven here.
   */
  readonly home: string | undefined;
}

export interface CallSpec {
  readonly id: string;
  readonly caller: Party;
  readonly callee: Party;
  readonly state: 'ringing' | 'connected';
  readonly media: MediaValue;
  readonly createdAtMs: number;
  readonly answeredAtMs?: number | undefined;
  readonly calleeNotified: boolean;
  readonly queued?: readonly QueuedSignal[];
  readonly room?: string | undefined;
  readonly home?: string | undefined;
}

export function newCall(spec: CallSpec): Call {
  return {
    id: spec.id,
    caller: spec.caller,
    callee: spec.callee,
    state: spec.state,
    media: spec.media,
    queued: spec.queued === undefined ? [] : [...spec.queued],
    calleeNotified: spec.calleeNotified,
    ringTimer: undefined,
    createdAtMs: spec.createdAtMs,
    answeredAtMs: spec.answeredAtMs,
    room: spec.room,
    home: spec.home,
  };
}

export function roleOf(call: Call, party: Party): Role | undefined {
  if (call.caller === party) return 'caller';
  if (call.callee === party) return 'callee';
  return undefined;
}

export function peerOf(call: Call, party: Party): Party {
  return call.caller === party ? call.callee : call.caller;
}
