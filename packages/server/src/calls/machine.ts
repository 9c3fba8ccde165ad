/**
 * The call state machine, pure: no I/O, no timers, no sockets. The engine (engine.ts) feeds it
 * events and carries out what it decides. Keeping it pure lets the unit and property tests walk
 * every transition quickly.
 *
 *   ringing --accept(callee)--> connected --hangup/disconnect--> ended
 *      |--decline(callee) / cancel(caller) / hangup(any) / timeout / disconnect--> ended
 */
import type { EndReason, ErrorCode } from '@callwire/protocol';

export type CallState = 'ringing' | 'connected' | 'ended';
export type Role = 'caller' | 'callee';

export type CallEvent =
  | { readonly kind: 'accept'; readonly by: Role }
  | { readonly kind: 'decline'; readonly by: Role; readonly busy: boolean }
  | { readonly kind: 'cancel'; readonly by: Role }
  | { readonly kind: 'hangup'; readonly by: Role }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'disconnect'; readonly by: Role }
  | { readonly kind: 'failed' }
  | {
      readonly kind: 'signal';
      readonly by: Role;
      readonly signal: 'offer' | 'answer' | 'candidate';
    };

export type Transition =
  | { readonly action: 'accept'; readonly state: 'connected' }
  | {
      readonly action: 'end';
      readonly state: 'ended';
      readonly reasons: { readonly caller: EndReason; readonly callee: EndReason };
      /** The callee never answered: record a missed call. */
      readonly missed: boolean;
    }
  | { readonly action: 'relay'; readonly state: CallState }
  | { readonly action: 'queue'; readonly state: 'ringing' }
  | { readonly action: 'reject'; readonly state: CallState; readonly code: ErrorCode };

const both = (reason: EndReason) => ({ caller: reason, callee: reason });

function end(caller: EndReason, callee: EndReason = caller, missed = false): Transition {
  return { action: 'end', state: 'ended', reasons: { caller, callee }, missed };
}

/** Decide what an event does to a call in `state`. Total: every pair has an answer. */
export function transition(state: CallState, event: CallEvent): Transition {
  if (state === 'ended') return { action: 'reject', state, code: 'not_in_call' };
  switch (event.kind) {
    case 'accept':
      if (state === 'ringing' && event.by === 'callee')
        return { action: 'accept', state: 'connected' };
      return { action: 'reject', state, code: 'invalid_state' };
    case 'decline':
      if (state === 'ringing' && event.by === 'callee') {
        return end(event.busy ? 'busy' : 'declined');
      }
      return { action: 'reject', state, code: 'invalid_state' };
    case 'cancel':
      if (state === 'ringing' && event.by === 'caller') return end('cancelled', 'cancelled', true);
      return { action: 'reject', state, code: 'invalid_state' };
    case 'hangup':
      // Hanging up a call that still rings is what the person means by cancel (caller) or
      // decline (callee); the peer is told so rather than a bare "hangup".
      if (state === 'ringing') {
        return event.by === 'caller' ? end('cancelled', 'cancelled', true) : end('declined');
      }
      return { action: 'end', state: 'ended', reasons: both('hangup'), missed: false };
    case 'timeout':
      if (state === 'ringing') return end('no_answer', 'cancelled', true);
      return { action: 'reject', state, code: 'invalid_state' };
    case 'disconnect':
      return end('disconnected', 'disconnected', state === 'ringing' && event.by === 'caller');
    case 'failed':
      return end('failed');
    case 'signal':
      if (state === 'connected') return { action: 'relay', state };
      // While ringing only the caller may signal (its offer and candidates wait for accept);
      // a callee that has not accepted has nothing to negotiate yet.
      if (event.by === 'caller' && event.signal !== 'answer') return { action: 'queue', state };
      return { action: 'reject', state, code: 'invalid_state' };
    default:
      return assertNever(event);
  }
}

export function assertNever(value: never): never {
  throw new TypeError(`Unexpected value: ${JSON.stringify(value)}`);
}
