/**
 * Native protocol and the tutorial protocol it extends. Both share one encoder: the native
 * messages are a superset (same `type` names, extra fields), so a tutorial client reads what it
 * knows and ignores the rest. The tutorial dialect differs only where its clients would be
 * confused: it is never rung (offers arrive directly), never pushed presence, and not sent
 * its own `leave` back after it hung up.
 */
import { ErrorCodes, PROTOCOL_VERSION, type EndReason } from '@callwire/protocol';
import { assertNever } from '../calls/machine.js';
import type { OutEvent } from '../events.js';
import type { Party } from '../calls/model.js';
import type { Dialect } from './dialect.js';

const str = JSON.stringify;

/**
 * A login reply's online list, encoded once per list: the hub hands most logins the same array
 * (hub.ts `firstUsers`), and with 100 people in it the encoding was a fifth of a login's CPU.
 */
const encodedLists = new WeakMap<readonly unknown[], string>();

function listJson(list: readonly unknown[]): string {
  let json = encodedLists.get(list);
  if (json === undefined) encodedLists.set(list, (json = str(list)));
  return json;
}

/**
 * A presence tick's changes, each encoded once: in a burst of logins every newcomer hears all
 * the tick's changes but its own, and encoding the rest again for each of them made the tick
 * cost (changes x newcomers) encodes.
 */
const encodedEntries = new WeakMap<readonly unknown[], readonly string[]>();

function entriesJson(list: readonly unknown[]): readonly string[] {
  let entries = encodedEntries.get(list);
  if (entries === undefined) encodedEntries.set(list, (entries = list.map((entry) => str(entry))));
  return entries;
}

function someOfJson(list: readonly unknown[], only: readonly number[]): string {
  const entries = entriesJson(list);
  return `[${only.map((i) => entries[i]).join(',')}]`;
}

/**
 * Reasons a client that did not announce its device (`login.device`) cannot know: to it, a call
 * that went to another device simply stopped ringing, or ended.
 */
function reasonFor(reason: EndReason, session: Party): EndReason {
  if (session.device?.aware === true) return reason;
  switch (reason) {
    case 'answered_elsewhere':
    case 'declined_elsewhere':
      return 'cancelled';
    case 'moved':
      return 'hangup';
    default:
      return reason;
  }
}

function encode(event: OutEvent, session: Party, tutorial: boolean): string | null {
  switch (event.t) {
    case 'signal': {
      // Hot path: build the message by hand from allowlisted fields; the payload (SDP or
      // candidate) is re-serialized from the parsed value, which keeps every string intact.
      const from = str(event.from.name);
      return `{"type":"${event.signal}","callId":"${event.call.id}","name":${from},"from":${from},"${event.signal}":${str(event.payload)}}`;
    }
    case 'login-ok':
      if (tutorial) return str({ type: 'login', success: true, name: session.name });
      // The same fields in the same order as one `str` of the whole reply would give.
      return (
        `{"type":"login","success":true,"name":${str(session.name)},"protocol":${str(PROTOCOL_VERSION)},` +
        `"users":${listJson(event.users)},` +
        str({
          usersTotal: event.usersTotal,
          iceServers: event.iceServers,
          missed: event.missed,
          sessionToken: event.sessionToken,
          resumeToken: event.resumeToken,
          resumeGraceMs: event.resumeGraceMs,
          resumed: event.resumed,
          calls: event.calls,
          device: event.device,
          ref: event.ref,
        }).slice(1)
      );
    case 'peer-state':
      if (tutorial) return null;
      return str({
        type: event.away ? 'reconnecting' : 'reconnected',
        callId: event.callId,
        name: event.name,
      });
    case 'login-fail':
      return str({
        type: 'login',
        success: false,
        code: event.code,
        message: event.message,
        retryAfterMs: event.retryAfterMs,
        ref: event.ref,
      });
    case 'ringing':
      if (tutorial) return null;
      return str({
        type: 'ringing',
        callId: event.call.id,
        name: event.call.callee.name,
        sendOffer: event.sendOffer || undefined,
        ref: event.ref,
      });
    case 'incoming':
      if (tutorial) return null;
      return str({
        type: 'incoming',
        callId: event.call.id,
        from: event.call.caller.name,
        name: event.call.caller.name,
        media: event.call.media,
        waiting: event.waiting,
      });
    case 'accepted': {
      if (tutorial) return null;
      const peer = event.role === 'caller' ? event.call.callee : event.call.caller;
      return str({
        type: 'accepted',
        callId: event.call.id,
        name: peer.name,
        role: event.role,
        media: event.call.media,
        ref: event.ref,
      });
    }
    case 'ended':
      if (tutorial && event.self) return null;
      return str({
        type: 'leave',
        callId: event.callId,
        name: event.peerName,
        reason: reasonFor(event.reason, session),
        missed: event.missed || undefined,
        ref: event.ref,
      });
    case 'restart':
      if (tutorial) return null;
      return str({ type: 'restart', callId: event.call.id, name: event.from.name });
    case 'hold':
      if (tutorial) return null;
      return str({ type: 'hold', callId: event.call.id, name: event.from.name, held: event.held });
    case 'devices':
      if (tutorial) return null;
      return str({ type: 'devices', devices: event.devices });
    case 'presence':
      if (tutorial) return null;
      return str({ type: 'presence', name: event.name, status: event.status });
    case 'presences':
      if (tutorial) return null;
      return `{"type":"presences","users":${event.only === undefined ? listJson(event.users) : someOfJson(event.users, event.only)}}`;
    case 'users':
      return str({ type: 'users', users: event.users, total: event.total, cursor: event.cursor, ref: event.ref });
    case 'joined':
      return str({ type: 'joined', room: event.room, ref: event.ref });
    case 'pong':
      return event.ref === undefined ? '{"type":"pong"}' : str({ type: 'pong', ref: event.ref });
    case 'error':
      return str({
        type: 'error',
        code: event.code,
        message: event.message ?? ErrorCodes[event.code],
        callId: event.callId,
        ref: event.ref,
      });
    case 'reconnect':
      return str({ type: 'reconnect', afterMs: event.afterMs });
    case 'ice-servers':
      // Tutorial clients take no ICE servers from the server, so they are not sent new ones.
      if (tutorial) return null;
      return str({ type: 'iceServers', iceServers: event.iceServers });
    default:
      return assertNever(event);
  }
}

export const nativeDialect: Dialect = {
  name: 'native',
  ringsWithOffer: false,
  autoAccept: false,
  presence: true,
  encode: (event, session) => encode(event, session, false),
};

export const tutorialDialect: Dialect = {
  name: 'tutorial',
  ringsWithOffer: false,
  autoAccept: true,
  presence: false,
  encode: (event, session) => encode(event, session, true),
};
