/**
 * How a call event reaches a party whose node is not this one: stripped of its object
 * references (the call becomes its id, the sender is implied), carried, and rebuilt around the
 * receiving node's own copy of the call. What an event does to that copy is said here, once
 * per event type, in a table keyed by every event: adding an event to CallOutEvent does not
 * compile until it says how it travels, and then it crosses nodes with no change to cluster/.
 */
import { peerOf, type Call } from './call.js';
import type { CallOutEvent, Party } from './model.js';

/**
 * What an event means for the copy of its call on the party's node:
 * - `rings`: the callee is rung now (the copy notes it);
 * - `connects`: the call was accepted (the copy is connected);
 * - `ends`: the call is over (the copy goes);
 * - `none`: it only informs the party;
 * - `local`: it never goes to a party on another node (the party's own node says it).
 */
export type TravelEffect = 'rings' | 'connects' | 'ends' | 'none' | 'local';

interface Travel {
  readonly effect: TravelEffect;
  /** The event names its call by reference (`call`), to be rebuilt around the local copy. */
  readonly call: boolean;
  /** The event has a sender (`from`): the other party of the call. */
  readonly from: boolean;
}

export const TRAVEL = {
  ringing: { effect: 'local', call: true, from: false },
  incoming: { effect: 'rings', call: true, from: false },
  accepted: { effect: 'connects', call: true, from: false },
  signal: { effect: 'none', call: true, from: true },
  hold: { effect: 'none', call: true, from: true },
  restart: { effect: 'none', call: true, from: true },
  ended: { effect: 'ends', call: false, from: false },
  'peer-state': { effect: 'none', call: false, from: false },
  joined: { effect: 'local', call: false, from: false },
  error: { effect: 'none', call: false, from: false },
} as const satisfies Record<CallOutEvent['t'], Travel>;

/** The event types that may go to a party on another node. */
export const TRAVELLING = (Object.keys(TRAVEL) as Array<CallOutEvent['t']>).filter(
  (t) => TRAVEL[t].effect !== 'local',
);

type Detached<E> = E extends { readonly call: Call }
  ? Omit<E, 'call' | 'from'> & { readonly callId: string }
  : E;

/** A call event as it crosses nodes: plain data. */
export type WireEvent = Detached<CallOutEvent>;

/** The event without object references; undefined for an event that never leaves its node. */
export function detach(event: CallOutEvent): WireEvent | undefined {
  const travel = TRAVEL[event.t];
  if (travel.effect === 'local') return undefined;
  if (!('call' in event)) return event;
  const { call, ...rest } = event;
  if ('from' in rest) {
    const { from: _sender, ...data } = rest;
    return { ...data, callId: call.id };
  }
  return { ...rest, callId: call.id };
}

/** Rebuild an event for `to` around its node's copy of the call. */
export function attach(wire: WireEvent, call: Call, to: Party): CallOutEvent {
  const travel = TRAVEL[wire.t];
  if (!travel.call) return { ...wire, callId: call.id } as CallOutEvent;
  const { callId: _id, ...data } = wire as WireEvent & { callId: string };
  return (
    travel.from ? { ...data, call, from: peerOf(call, to) } : { ...data, call }
  ) as CallOutEvent;
}
