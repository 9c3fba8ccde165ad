/**
 * The one2one dialect's words for engine events (Kurento-style `id` vocabulary). Where the
 * original sample had bugs, the fixed behaviour is: a refusal reaches the caller, `stop`
 * reaches the peer, and a disconnect ends the call for the peer.
 */
import { ErrorCodes, type EndReason } from '@callwire/protocol';
import { assertNever } from '../calls/machine.js';
import type { OutEvent } from '../events.js';
import type { Party } from '../calls/model.js';
import type { Dialect } from './dialect.js';

const str = JSON.stringify;

const REASON_TEXT: Record<EndReason, string> = {
  hangup: 'The other side hung up',
  declined: 'Call rejected',
  busy: 'User is busy',
  no_answer: 'No answer',
  cancelled: 'Call cancelled',
  unavailable: 'User not registered',
  disconnected: 'The other side disconnected',
  failed: 'Call failed',
  answered_elsewhere: 'Call answered on another device',
  declined_elsewhere: 'Call declined on another device',
  moved: 'Call moved to another device',
};

function encode(event: OutEvent, session: Party): string | null {
  switch (event.t) {
    case 'signal': {
      const { call } = event;
      if (event.signal === 'candidate') return str({ id: 'iceCandidate', candidate: event.payload });
      if (event.signal === 'answer' && call.caller === session) {
        return str({ id: 'callResponse', response: 'accepted', sdpAnswer: event.payload });
      }
      if (event.signal === 'offer' && call.callee === session && !call.calleeNotified) {
        // Not reached: the engine rings one2one callees with the offer (`incoming`).
        return null;
      }
      // Renegotiation has no words in this dialect; the sample's clients never renegotiate.
      return null;
    }
    case 'incoming': {
      return str({ id: 'incomingCall', from: event.call.caller.name, offer: event.offer });
    }
    case 'ended':
      if (event.self) return null;
      if (event.role === 'caller' && !event.wasConnected) {
        return str({
          id: 'callResponse',
          response: 'rejected',
          message: REASON_TEXT[event.reason],
          reason: event.reason,
        });
      }
      return str({ id: 'stopCommunication', message: REASON_TEXT[event.reason], reason: event.reason });
    case 'hold':
    case 'restart':
    case 'devices':
      // The sample has no words for hold or devices.
      return null;
    case 'login-ok':
      return str({ id: 'registerResponse', response: 'accepted' });
    case 'login-fail':
      return str({ id: 'registerResponse', response: 'rejected', message: event.message, code: event.code });
    case 'users':
      return str({ id: 'listResponse', list: event.users.map((u) => u.name) });
    case 'pong':
      return '{"id":"pong"}';
    case 'error':
      return str({
        id: 'error',
        type: 'error',
        code: event.code,
        message: event.message ?? ErrorCodes[event.code],
      });
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

export const one2oneDialect: Dialect = {
  name: 'one2one',
  ringsWithOffer: true,
  autoAccept: false,
  presence: false,
  encode,
};
