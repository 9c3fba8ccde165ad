/**
 * Login, shared by every dialect: validate the name, claim it, reply, announce presence.
 * A failed login leaves the connection open and anonymous, so the client can try another name.
 */
import { normalizeName } from '@callwire/protocol';
import type { Context } from './context.js';
import type { Dialect } from './dialects/dialect.js';
import type { Session } from './ws/session.js';

export function login(
  ctx: Context,
  session: Session,
  rawName: string,
  dialect: Dialect,
  ref: string | undefined,
): void {
  if (session.state !== 'anonymous') {
    ctx.stats.error('already_logged_in');
    session.send({ t: 'error', code: 'already_logged_in', ref });
    return;
  }
  session.dialect = dialect;
  const name = normalizeName(rawName);
  if (!name.ok) return refuse(ctx, session, 'name_invalid', ref);
  session.name = name.display;
  session.key = name.key;
  session.state = 'active';
  if (!ctx.hub.add(session)) {
    session.state = 'anonymous';
    session.name = '';
    session.key = '';
    return refuse(ctx, session, 'name_taken', ref);
  }
  ctx.stats.logins++;
  ctx.log.debug({ session: session.id, name: session.name, dialect: dialect.name }, 'login');
  session.send({
    t: 'login-ok',
    users: dialect.presence ? ctx.hub.firstUsers(session) : [],
    usersTotal: ctx.hub.size - 1,
    iceServers: ctx.iceServers(session.name),
    ref,
  });
}

function refuse(
  ctx: Context,
  session: Session,
  code: 'name_invalid' | 'name_taken',
  ref: string | undefined,
): void {
  ctx.stats.loginFailures++;
  const message =
    code === 'name_taken' ? 'That name is already online.' : 'Names are 1-32 letters, digits, . _ - or spaces.';
  session.send({ t: 'login-fail', code, message, ref });
}
