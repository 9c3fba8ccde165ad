/** A call's record as the engine keeps it. Transitions are decided by machine.ts. */
import type { MediaValue } from '@callwire/protocol';
import type { Session } from '../ws/session.js';
import type { CallState, Party } from './machine.js';
import type { SignalKind } from '../events.js';

export interface HeldSignal {
  readonly signal: SignalKind;
  readonly payload: unknown;
}

export interface Call {
  readonly id: string;
  readonly caller: Session;
  readonly callee: Session;
  state: CallState;
  media: MediaValue;
  /** Caller signals held while ringing, delivered in order on accept. */
  held: HeldSignal[];
  /** The callee has been told it rings (`incoming`); one2one callees need the offer first. */
  calleeNotified: boolean;
  ringTimer: NodeJS.Timeout | undefined;
  readonly createdAtMs: number;
  answeredAtMs: number | undefined;
  room: string | undefined;
  /**
   * Cluster only: this is a shadow of a call whose home (state machine, timers) is that node;
   * the local party's commands are carried there. Absent on the home node and on one node.
   */
  readonly home?: string;
}

export function partyOf(call: Call, session: Session): Party | undefined {
  if (call.caller === session) return 'caller';
  if (call.callee === session) return 'callee';
  return undefined;
}

export function peerOf(call: Call, session: Session): Session {
  return call.caller === session ? call.callee : call.caller;
}
