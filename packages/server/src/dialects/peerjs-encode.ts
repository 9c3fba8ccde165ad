/**
 * The PeerJS dialect's words for the events every session may be told. A PeerJS session is
 * never in a call (its frames are relayed by peerjs-relay.ts), so only errors have words here:
 * `ERROR` with the coded reason in `payload` (the PeerJS client reports it as `server-error`).
 */
import { ErrorCodes } from '@callwire/protocol';
import { assertNever } from '../calls/machine.js';
import type { OutEvent } from '../events.js';
import type { Dialect } from './dialect.js';

function encode(event: OutEvent): string | null {
  switch (event.t) {
    case 'error':
      return peerjsError(event.code, event.message ?? ErrorCodes[event.code]);
    case 'login-fail':
      return peerjsError(event.code, event.message);
    case 'signal':
    case 'incoming':
    case 'ended':
    case 'login-ok':
    case 'hold':
    case 'restart':
    case 'devices':
    case 'users':
    case 'pong':
    case 'peer-state':
    case 'ringing':
    case 'accepted':
    case 'presence':
    case 'presences':
    case 'joined':
    case 'reconnect':
    case 'ice-servers':
      return null;
    default:
      return assertNever(event);
  }
}

/** `{type:"ERROR"}` as the PeerJS server words it (`payload.msg`), plus callwire's code. */
export function peerjsError(code: string, msg: string): string {
  return JSON.stringify({ type: 'ERROR', payload: { msg, code } });
}

export const peerjsDialect: Dialect = {
  name: 'peerjs',
  ringsWithOffer: false,
  autoAccept: false,
  presence: false,
  encode,
};
