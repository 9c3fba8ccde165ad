/**
 * A call's record is built here and only here (`newCall`, used by the call book); the book
 * (book.ts) is its only writer. Transitions are decided by machine.ts.
 */
import type { Call, CallSpec, Party } from './model.js';
import type { Role } from './machine.js';

export type { Call, CallSpec, QueuedSignal, SignalKind } from './model.js';

export function newCall(spec: CallSpec): Call {
  return {
    id: spec.id,
    caller: spec.caller,
    callee: spec.callee,
    ringing: spec.state === 'ringing' ? [...(spec.ringing ?? [spec.callee])] : [],
    held: { caller: false, callee: false },
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
  if (call.callee === party || call.ringing.includes(party)) return 'callee';
  return undefined;
}

export function peerOf(call: Call, party: Party): Party {
  return call.caller === party ? call.callee : call.caller;
}
