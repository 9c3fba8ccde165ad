/**
 * Inbound frames on `/` and `/ws`: the native protocol and the tutorial protocol it extends.
 * The frame has been validated against its schema before anything here looks at it.
 */
import { clientDecoder, type ClientMessage } from '@callwire/protocol';
import { assertNever } from '../calls/machine.js';
import type { Context } from '../context.js';
import { guestLogin, guestMayNot } from '../guest-login.js';
import { login } from '../login.js';
import type { Session } from '../ws/session.js';
import { nativeDialect, tutorialDialect } from './native.js';

export function handleNativeFrame(ctx: Context, session: Session, text: string): void {
  const decoded = clientDecoder.decode(text);
  if (!decoded.ok) {
    ctx.stats.error(decoded.code);
    session.send({ t: 'error', code: decoded.code, message: decoded.message, ref: decoded.ref });
    return;
  }
  dispatch(ctx, session, decoded.msg);
}

function dispatch(ctx: Context, session: Session, msg: ClientMessage): void {
  if (session.state !== 'active' && msg.type !== 'login' && msg.type !== 'ping') {
    ctx.stats.error('not_logged_in');
    session.send({ t: 'error', code: 'not_logged_in', ref: msg.ref });
    return;
  }
  if (session.guest && guestMayNot(session, msg)) {
    ctx.stats.error('guest_forbidden');
    session.send({ t: 'error', code: 'guest_forbidden', ref: msg.ref });
    return;
  }
  const { engine } = ctx;
  switch (msg.type) {
    case 'login':
      if (msg.guest === true) return guestLogin(ctx, session, msg, nativeOrTutorial(msg));
      return login(ctx, session, msg, nativeOrTutorial(msg));
    case 'call':
      return engine.invite(session, msg.to, msg.media, msg.offer, msg.ref);
    case 'accept':
      return engine.accept(session, msg.callId, msg.ref, undefined);
    case 'decline':
      return engine.decline(session, msg.callId, msg.reason === 'busy', msg.ref);
    case 'cancel':
      return engine.cancel(session, msg.callId, msg.ref);
    case 'hangup':
    case 'leave':
      return engine.hangup(session, msg, msg.ref);
    case 'offer':
      return engine.signal(session, 'offer', msg, msg.offer, msg.ref);
    case 'answer':
      return engine.signal(session, 'answer', msg, msg.answer, msg.ref);
    case 'candidate':
      return engine.signal(session, 'candidate', msg, msg.candidate, msg.ref);
    case 'users':
      return ctx.directory.users(session, msg.query, msg.limit ?? 50, msg.cursor, msg.ref);
    case 'watch':
      return ctx.hub.watch(session, msg.names);
    case 'join':
      if (ctx.config.rooms === 'off') {
        ctx.stats.error('rooms_disabled');
        return session.send({ t: 'error', code: 'rooms_disabled', ref: msg.ref });
      }
      return engine.join(session, msg.room, msg.media, msg.ref);
    case 'ping':
      return session.send({ t: 'pong', ref: msg.ref });
    case 'report':
      return engine.report(session, msg.callId, msg.path, msg.ref);
    case 'hold':
      return engine.hold(session, msg.callId, msg.held, msg.ref);
    case 'restart':
      return engine.restart(session, msg.callId, msg.ref);
    case 'move':
      return engine.move(session, msg.callId, msg.ref);
    default:
      return assertNever(msg);
  }
}

const nativeOrTutorial = (msg: { readonly protocol?: 1 | undefined }) =>
  msg.protocol === 1 ? nativeDialect : tutorialDialect;
