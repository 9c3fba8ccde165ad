/**
 * Guests: meet by link without an account (`--rooms guests`, the default). A guest signs in with
 * a name only, in any `--auth` mode, and exists to join rooms; it must never pass for anybody:
 *
 * - Others see its name with ` (guest)` appended. Parentheses are not allowed in names, so no
 *   account can be called that, and nobody can call a guest by name.
 * - Its identity key is a fresh `guest:<uuid>`, never a name key: it claims no name, so two
 *   guests may share one, and it cannot collide with an account's key anywhere (hub, cluster).
 * - A name that is, or looks the same as (same confusable skeleton), an account's (password
 *   mode: asked of the store) or that of anybody signed in on this node is refused with
 *   `name_reserved`. This says whether an account of that name exists, as any sign-up form
 *   does; an operator who minds runs `--rooms accounts`.
 * - What it may do afterwards is limited by {@link guestMayNot} (the native router asks), and
 *   the hub keeps it out of the online list and presence.
 */
import { randomUUID } from 'node:crypto';
import { normalizeName } from '@callwire/protocol';
import type { ClientMessage } from '@callwire/protocol';
import type { Identity } from './auth/authenticator.js';
import type { Context } from './context.js';
import type { Dialect } from './dialects/dialect.js';
import { finish, mayLogIn, NO_EXTRAS, refuse, type LoginRequest } from './login.js';
import { isStoreUnavailable } from './stores/store.js';
import type { Session } from './ws/session.js';

export const GUEST_MARK = ' (guest)';

export function guestLogin(
  ctx: Context,
  session: Session,
  request: LoginRequest,
  dialect: Dialect,
): void {
  const { ref } = request;
  if (!mayLogIn(ctx, session, dialect, ref)) return;
  // Only the native protocol knows rooms; other dialects have nothing a guest could do.
  if (ctx.config.rooms !== 'guests' || dialect.name !== 'native') {
    return refuse(ctx, session, 'guests_disabled', ref);
  }
  const name = normalizeName(request.name);
  if (!name.ok) return refuse(ctx, session, 'name_invalid', ref);
  if (ctx.hub.get(name.key) !== undefined) return refuse(ctx, session, 'name_reserved', ref);

  ctx.loggingIn.add(session);
  void isAccount(ctx, name.key).then(
    (taken) => {
      ctx.loggingIn.delete(session);
      // The socket went while we were checking: nobody to answer.
      if (session.state !== 'anonymous' || session.ws.readyState !== 1) return;
      if (taken === 'unavailable') return refuse(ctx, session, 'service_unavailable', ref);
      if (taken || ctx.hub.get(name.key) !== undefined) {
        return refuse(ctx, session, 'name_reserved', ref);
      }
      session.guest = true;
      // Guests hold no credentials, so nothing watches them after login (the guard skips 'open').
      const identity: Identity = {
        key: `guest:${randomUUID()}`,
        display: `${name.display}${GUEST_MARK}`,
        mode: 'open',
      };
      ctx.log.debug({ session: session.id, name: identity.display }, 'guest login');
      finish(ctx, session, identity, NO_EXTRAS, ref, false);
    },
    (err: unknown) => {
      ctx.loggingIn.delete(session);
      ctx.log.error({ err, session: session.id }, 'guest login check failed');
      if (session.state === 'anonymous') refuse(ctx, session, 'internal_error', ref);
    },
  );
}

/** Is `key` an account's (password mode)? jwt accounts live at the operator's site: unknowable. */
async function isAccount(ctx: Context, key: string): Promise<boolean | 'unavailable'> {
  if (ctx.auth.mode !== 'password') return false;
  try {
    return (await ctx.store.getUser(key)) !== undefined;
  } catch (err) {
    if (isStoreUnavailable(err)) return 'unavailable';
    throw err;
  }
}

/**
 * A message a guest may not send: anything that finds people by name (a call, an offer that
 * would open one, the online list, presence). A guest's messages inside its room's call go on.
 */
export function guestMayNot(session: Session, msg: ClientMessage): boolean {
  switch (msg.type) {
    case 'call':
    case 'users':
    case 'watch':
      return true;
    case 'offer':
      // An offer outside a call opens one by name (the tutorial flow).
      return session.call === null;
    default:
      return false;
  }
}
