/**
 * Inbound frames on `/call` and `/one2one`, translated into the engine's operations. The
 * sample's `from` fields are never trusted: the caller is the session that sent `call`, and
 * `incomingCallResponse.from` only selects which of the session's own calls is meant.
 */
import { normalizeName, one2oneDecoder, type One2OneClientMessage } from '@callwire/protocol';
import { assertNever } from '../calls/machine.js';
import type { Context } from '../context.js';
import { login } from '../login.js';
import type { Session } from '../ws/session.js';
import { one2oneDialect } from './one2one-encode.js';

const LIST_MAX = 1000;

export function handleOne2OneFrame(ctx: Context, session: Session, text: string): void {
  const decoded = one2oneDecoder.decode(text);
  if (!decoded.ok) {
    ctx.stats.error(decoded.code);
    session.send({ t: 'error', code: decoded.code, message: decoded.message });
    return;
  }
  dispatch(ctx, session, decoded.msg);
}

/**
 * The sample's server answers `list` before `register`, and clients written for it may list
 * first. Without accounts the names online are no secret (anyone can register and list), so
 * open mode answers as the sample does; with accounts a list is for signed-in users only.
 */
function listsAnonymously(ctx: Context, msg: One2OneClientMessage): boolean {
  return msg.id === 'list' && ctx.config.auth === 'open';
}

function dispatch(ctx: Context, session: Session, msg: One2OneClientMessage): void {
  if (session.state !== 'active' && msg.id !== 'register' && msg.id !== 'ping' && !listsAnonymously(ctx, msg)) {
    ctx.stats.error('not_logged_in');
    session.send({ t: 'error', code: 'not_logged_in' });
    return;
  }
  const { engine } = ctx;
  switch (msg.id) {
    case 'register':
      return login(ctx, session, { name: msg.name, password: msg.password, token: msg.token }, one2oneDialect);
    case 'list':
      return ctx.directory.list(session, LIST_MAX);
    case 'call':
      return engine.invite(session, msg.to, undefined, msg.sdpOffer, undefined);
    case 'incomingCallResponse': {
      const call = session.call;
      const from = normalizeName(msg.from);
      // Only a call that rings for this session, from the named caller, can be answered.
      if (
        call === null ||
        call.callee !== session ||
        // A call this client was never rung for (its caller has not sent the offer yet) cannot
        // be answered by guessing the caller's name.
        !call.calleeNotified ||
        !from.ok ||
        call.caller.key !== from.key
      ) {
        ctx.stats.error('not_in_call');
        return session.send({ t: 'error', code: 'not_in_call' });
      }
      if (msg.callResponse === 'accept') return engine.accept(session, call.id, undefined, msg.sdpOffer);
      return engine.decline(session, call.id, false, undefined);
    }
    case 'onIceCandidate':
      return engine.signal(session, 'candidate', {}, msg.candidate, undefined);
    case 'stop':
      return engine.hangup(session, {}, undefined);
    case 'ping':
      return session.send({ t: 'pong' });
    default:
      return assertNever(msg);
  }
}
