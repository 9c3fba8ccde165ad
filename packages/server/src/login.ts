/**
 * Login, shared by every dialect: validate the name, check the credentials (per --auth mode),
 * claim the name, reply, announce presence. A failed login leaves the connection open and
 * anonymous, so the client can try again.
 *
 * In open mode this all happens at once. With accounts it waits for the store and the
 * password hash; meanwhile the session stays anonymous (other messages get `not_logged_in`
 * from the routers, another login `already_logged_in`), and the name is claimed only after
 * the check, only if the socket is still open: a client that leaves mid-login claims nothing.
 */
import {
  CLOSE,
  ErrorCodes,
  normalizeName,
  type ErrorCode,
  type MissedCallValue,
} from '@callwire/protocol';
import type { AuthOutcome, Identity } from './auth/authenticator.js';
import type { Context } from './context.js';
import type { Admission, Resumed } from './directory.js';
import type { Dialect } from './dialects/dialect.js';
import type { MissedRef } from './stores/store.js';
import type { Session } from './ws/session.js';
import { announcePeerState, resumedCalls } from './calls/resume-view.js';
import { deviceFor, type DeviceClaim } from './devices.js';

export interface LoginRequest {
  readonly name: string;
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  /** Native only: ask for a resume token / take a dropped session back with one. */
  readonly resume?: boolean | undefined;
  readonly resumeToken?: string | undefined;
  /** Native: which device this is (kept by the client across visits). */
  readonly device?: DeviceClaim | undefined;
  /** Native: the client takes a second call while in one (call waiting). */
  readonly callWaiting?: boolean | undefined;
  /** Native: presence as one `presences` batch per tick (also said again on a resume). */
  readonly presenceBatch?: boolean | undefined;
  readonly ref?: string | undefined;
}

export interface Extras {
  missed: MissedCallValue[] | undefined;
  refs: MissedRef[];
  sessionToken: string | undefined;
}

export const NO_EXTRAS: Extras = { missed: undefined, refs: [], sessionToken: undefined };

export function login(
  ctx: Context,
  session: Session,
  request: LoginRequest,
  dialect: Dialect,
): void {
  const { ref } = request;
  if (!mayLogIn(ctx, session, dialect, ref)) return;
  const name = normalizeName(request.name);
  if (!name.ok) return refuse(ctx, session, 'name_invalid', ref);
  // Taken from every login, a resume's too: the client that comes back says what it reads
  // (a restored or handed-over session has not kept it, and the page may have been updated).
  session.presenceBatch = dialect.name === 'native' && request.presenceBatch === true;
  if (request.resumeToken !== undefined)
    return resume(ctx, session, name.key, request.resumeToken, ref);
  session.device = deviceFor(
    dialect.name === 'native' ? request.device : undefined,
    dialect.name,
    Date.now(),
    dialect.name === 'native' && request.callWaiting === true,
  );
  if (ctx.auth.mode === 'open') {
    return finish(
      ctx,
      session,
      { key: name.key, display: name.display, mode: 'open' },
      NO_EXTRAS,
      ref,
      request.resume === true,
    );
  }

  ctx.loggingIn.add(session);
  void check(ctx, session, request, name.key, name.display).then(
    ({ outcome, extras }) => {
      ctx.loggingIn.delete(session);
      // The socket went while we were checking: nothing to claim, nobody to answer.
      if (session.state !== 'anonymous' || session.ws.readyState !== 1) return;
      if (!outcome.ok) {
        ctx.log.info(
          {
            session: session.id,
            name: name.display,
            ip: session.remoteAddress,
            code: outcome.code,
          },
          'login refused',
        );
        return refuse(ctx, session, outcome.code, ref, outcome.retryAfterMs);
      }
      finish(ctx, session, outcome.identity, extras, ref, request.resume === true);
    },
    (err: unknown) => {
      ctx.loggingIn.delete(session);
      ctx.log.error({ err, session: session.id }, 'login check failed');
      if (session.state === 'anonymous') refuse(ctx, session, 'internal_error', ref);
    },
  );
}

/**
 * The start of every login (also a guest's, guest-login.ts): one at a time per connection, and
 * the dialect is the one this login speaks.
 */
export function mayLogIn(
  ctx: Context,
  session: Session,
  dialect: Dialect,
  ref: string | undefined,
): boolean {
  if (session.state !== 'anonymous' || ctx.loggingIn.has(session)) {
    ctx.stats.error('already_logged_in');
    session.send({ t: 'error', code: 'already_logged_in', ref });
    return false;
  }
  session.dialect = dialect;
  session.guest = false;
  return true;
}

/** Credentials, then (on success, native sessions) missed calls and an API token. */
async function check(
  ctx: Context,
  session: Session,
  request: LoginRequest,
  key: string,
  display: string,
): Promise<{ outcome: AuthOutcome; extras: Extras }> {
  const outcome = await ctx.auth.authenticate(session, {
    key,
    display,
    password: request.password,
    token: request.token,
    address: session.remoteAddress,
  });
  if (!outcome.ok || session.dialect.name !== 'native') return { outcome, extras: NO_EXTRAS };
  const { identity } = outcome;
  const sessionToken = await ctx.sessionTokens.issue(
    {
      key: identity.key,
      display: identity.display,
      epoch: identity.epoch,
      device: session.device?.id,
    },
    identity.expiresAtMs,
  );
  try {
    const { calls, refs } = await ctx.records.pendingMissed(identity.key);
    return { outcome, extras: { missed: calls, refs, sessionToken } };
  } catch (err) {
    // Missed calls are a courtesy: they stay pending and come with a later login.
    ctx.log.warn({ err: (err as Error).message }, 'missed calls unavailable at login');
    return { outcome, extras: { missed: undefined, refs: [], sessionToken } };
  }
}

export function finish(
  ctx: Context,
  session: Session,
  identity: Identity,
  extras: Extras,
  ref: string | undefined,
  wantsResume: boolean,
): void {
  session.name = identity.display;
  session.key = identity.key;
  const admission = ctx.directory.admit(session, maxDevices(ctx));
  if (!(admission instanceof Promise)) {
    return admit(ctx, session, admission, identity, extras, ref, wantsResume);
  }
  // In a cluster the name is claimed across nodes first (a round trip to Redis); meanwhile the
  // session is still logging in, as with an account check.
  ctx.loggingIn.add(session);
  void admission.then((a) => {
    ctx.loggingIn.delete(session);
    admit(ctx, session, a, identity, extras, ref, wantsResume);
  });
}

function admit(
  ctx: Context,
  session: Session,
  admission: Admission,
  identity: Identity,
  extras: Extras,
  ref: string | undefined,
  wantsResume: boolean,
): void {
  if (!admission.ok) {
    session.name = '';
    session.key = '';
    if (session.ws.readyState === 1) refuse(ctx, session, admission.code, ref);
    return;
  }
  // The client left while its name was claimed: give the name back.
  if (session.state !== 'anonymous' || session.ws.readyState !== 1) {
    ctx.directory.release(session);
    return;
  }
  // The same device signing in afresh (its page lost the resume token) takes the place of
  // its previous session, which ends now (4003).
  const id = session.device?.id;
  const previous = ctx.hub.devices(session.key).find((d) => d.device?.id === id);
  if (previous !== undefined && maxDevices(ctx) > 1) {
    ctx.endSession(previous, CLOSE.sessionReplaced, 'signed in again on the same device');
  }
  // Activate and reply in one synchronous step: presence of other logins completing in the
  // meantime must not reach this session before its login reply.
  session.state = 'active';
  if (!ctx.hub.add(session, maxDevices(ctx))) {
    session.state = 'anonymous';
    ctx.directory.release(session);
    const code = ctx.hub.devices(session.key).length > 1 ? 'too_many_devices' : 'name_taken';
    session.name = '';
    session.key = '';
    return refuse(ctx, session, code, ref);
  }
  welcome(ctx, session, identity, extras, ref, wantsResume, admission);
}

/** The session is in: reply, and start what a signed-in session needs. */
function welcome(
  ctx: Context,
  session: Session,
  identity: Identity,
  extras: Extras,
  ref: string | undefined,
  wantsResume: boolean,
  admission: Extract<Admission, { ok: true }>,
): void {
  ctx.guard.track(session, identity);
  ctx.stats.logins++;
  ctx.log.debug(
    { session: session.id, name: session.name, dialect: session.dialect.name },
    'login',
  );
  session.send({
    t: 'login-ok',
    // A guest sees nobody (guest-login.ts): the online list is for people with accounts.
    users:
      session.dialect.presence && !session.guest
        ? (admission.users ?? ctx.hub.firstUsers(session))
        : [],
    usersTotal: session.guest ? 0 : (admission.total ?? ctx.hub.size) - 1,
    iceServers: ctx.iceServers(session.name),
    missed: extras.missed,
    sessionToken: extras.sessionToken,
    device: deviceReply(session),
    ...resumeFields(ctx, session, wantsResume),
    ref,
  });
  ctx.records.seen(identity.key, extras.refs);
}

/** Devices per account: with accounts, as configured; in open mode a name is one device. */
function maxDevices(ctx: Context): number {
  return ctx.auth.mode === 'open' ? 1 : ctx.config.maxDevices;
}

function deviceReply(session: Session): { id: string; label: string } | undefined {
  const device = session.device;
  return device?.aware === true ? { id: device.id, label: device.label } : undefined;
}

/** Only native clients can resume (tutorial and one2one clients expect a drop to end calls). */
function resumeFields(
  ctx: Context,
  session: Session,
  wanted: boolean,
): { resumeToken?: string; resumeGraceMs?: number } {
  // Guests do not resume: a resume names the session by its (marked) name, which is no name.
  if (!wanted || !ctx.resumer.enabled || session.dialect.name !== 'native' || session.guest)
    return {};
  return { resumeToken: ctx.resumer.issue(session), resumeGraceMs: ctx.resumer.graceMs };
}

/**
 * Take a dropped (or not yet noticed dead) session back: the new socket moves into the old
 * session, which keeps its name and calls; what was held for it is delivered in order, and the
 * peer of its call hears it is back. The token is the credential, and it is single use.
 */
function resume(
  ctx: Context,
  fresh: Session,
  key: string,
  token: string,
  ref: string | undefined,
): void {
  const { resumer } = ctx;
  const old = resumer.find(token);
  if (old === undefined && fresh.dialect.name === 'native') {
    const elsewhere = ctx.directory.resumeElsewhere(fresh, key, token);
    if (elsewhere !== undefined) return resumeFromElsewhere(ctx, elsewhere, fresh, ref);
  }
  if (old === undefined || old.key !== key || old.dialect.name !== fresh.dialect.name) {
    return refuse(ctx, fresh, 'resume_failed', ref);
  }
  const wasAway = old.state === 'away';
  const previous = old.ws;
  resumer.reclaim(old);
  old.ws = fresh.ws;
  old.presenceBatch = fresh.presenceBatch;
  old.state = 'active';
  old.lastSeenMs = Date.now();
  old.iceRefreshAtMs = 0;
  fresh.rebind(old);
  // The old socket may still be open (its death not yet noticed): it is replaced.
  if (!wasAway && previous.readyState <= 1)
    previous.close(CLOSE.sessionReplaced, 'session resumed elsewhere');
  ctx.log.debug({ session: old.id, name: old.name }, 'resumed');
  sendResumed(ctx, old, ref);
  old.flushBacklog();
  ctx.devices.tell(old);
  if (wasAway) announcePeerState(old, false);
}

/**
 * A token this node does not know may belong to a session on another node (a drained node
 * parked it for its client to resume anywhere): the directory rebuilds it here, calls included.
 */
function resumeFromElsewhere(
  ctx: Context,
  elsewhere: Promise<Resumed | undefined>,
  fresh: Session,
  ref: string | undefined,
): void {
  ctx.loggingIn.add(fresh);
  void elsewhere.then((resumed) => {
    ctx.loggingIn.delete(fresh);
    if (resumed === undefined) {
      if (fresh.state === 'anonymous' && fresh.ws.readyState === 1) refuse(ctx, fresh, 'resume_failed', ref);
      return;
    }
    ctx.guard.track(fresh, resumed.identity);
    ctx.log.debug({ session: fresh.id, name: fresh.name }, 'resumed from another node');
    sendResumed(ctx, fresh, ref);
    for (const text of resumed.backlog) fresh.sendText(text);
  });
}

/** The reply to a resume: the session's calls, a fresh token, and the current online list. */
function sendResumed(ctx: Context, session: Session, ref: string | undefined): void {
  ctx.stats.resumes++;
  session.send({
    t: 'login-ok',
    users: ctx.hub.firstUsers(session),
    usersTotal: ctx.hub.size - 1,
    iceServers: ctx.iceServers(session.name),
    resumed: true,
    calls: resumedCalls(session),
    device: deviceReply(session),
    resumeToken: ctx.resumer.issue(session),
    resumeGraceMs: ctx.resumer.graceMs,
    ref,
  });
}

export function refuse(
  ctx: Context,
  session: Session,
  code: ErrorCode,
  ref: string | undefined,
  retryAfterMs?: number,
): void {
  ctx.stats.loginFailures++;
  session.send({ t: 'login-fail', code, message: ErrorCodes[code], retryAfterMs, ref });
}
