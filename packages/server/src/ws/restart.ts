/**
 * A single node restarting without ending calls. A drained node (SIGTERM) keeps, in the store,
 * every session that may resume (native clients that asked for a resume token), what was sent
 * to each since it lost its socket, and the connected calls between them. The next process on
 * the same data directory (or Redis store) takes that document back at start: the sessions are
 * away again, with a fresh grace period, their names held and their calls up, so their clients
 * resume as after any dropped connection, and the media, which never went through the server,
 * keeps flowing. (A cluster hands sessions to the other nodes instead: cluster/handoff.ts.)
 *
 * Resume tokens are kept as SHA-256 digests, never in the clear. Calls that were still ringing,
 * and sessions that cannot resume, end at the drain as they always did.
 */
import type { WebSocket } from 'ws';
import type { MediaValue } from '@callwire/protocol';
import type { Identity } from '../auth/authenticator.js';
import type { AuthMode } from '../config.js';
import type { Context } from '../context.js';
import type { Session } from './session.js';

export const RESTART_STATE_VERSION = 1;

/**
 * How long after a drain its state may still be taken back. The clients were told to come back
 * within seconds; a node down for longer than this starts afresh.
 */
export const RESTART_STATE_TTL_MS = 5 * 60_000;

export interface SavedSession {
  readonly digest: string;
  readonly key: string;
  readonly name: string;
  readonly remoteAddress: string;
  readonly identity: {
    readonly mode: AuthMode;
    readonly epoch?: string;
    readonly expiresAtMs?: number;
  };
  /** Encoded frames for it, in order, delivered right after its resume reply. */
  readonly backlog: readonly string[];
}

export interface SavedCall {
  readonly id: string;
  /** The parties, by their sessions' digests (one person may be several sessions). */
  readonly caller: string;
  readonly callee: string;
  readonly media: MediaValue;
  readonly createdAtMs: number;
  readonly answeredAtMs?: number;
  readonly room?: string;
}

export interface RestartState {
  readonly v: typeof RESTART_STATE_VERSION;
  readonly savedAtMs: number;
  readonly sessions: readonly SavedSession[];
  readonly calls: readonly SavedCall[];
}

/** The document for `sessions` (away, resumable) and the connected calls among them. */
export function snapshot(
  sessions: readonly Session[],
  digestOf: (s: Session) => string | undefined,
  identityOf: (s: Session) => Identity | undefined,
  nowMs: number,
): RestartState {
  const saved: SavedSession[] = [];
  const digests = new Map<Session, string>();
  for (const s of sessions) {
    const digest = digestOf(s);
    if (digest === undefined || s.backlogOverflowed) continue;
    const identity = identityOf(s);
    saved.push({
      digest,
      key: s.key,
      name: s.name,
      remoteAddress: s.remoteAddress,
      identity: {
        mode: identity?.mode ?? 'open',
        ...(identity?.epoch !== undefined ? { epoch: identity.epoch } : {}),
        ...(identity?.expiresAtMs !== undefined ? { expiresAtMs: identity.expiresAtMs } : {}),
      },
      backlog: s.backlog ?? [],
    });
    digests.set(s, digest);
  }
  const calls: SavedCall[] = [];
  const seen = new Set<string>();
  for (const s of sessions) {
    // A call held behind another (call waiting) is kept too.
    for (const call of [s.call, s.other]) {
      if (call === null || seen.has(call.id) || call.state !== 'connected') continue;
      seen.add(call.id);
      const caller = digests.get(call.caller as Session);
      const callee = digests.get(call.callee as Session);
      if (caller === undefined || callee === undefined) continue;
      calls.push({
        id: call.id,
        caller,
        callee,
        media: call.media,
        createdAtMs: call.createdAtMs,
        ...(call.answeredAtMs !== undefined ? { answeredAtMs: call.answeredAtMs } : {}),
        ...(call.room !== undefined ? { room: call.room } : {}),
      });
    }
  }
  return { v: RESTART_STATE_VERSION, savedAtMs: nowMs, sessions: saved, calls };
}

/** The document read back, or undefined when it is not one this version wrote. */
export function parseRestartState(text: string): RestartState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<RestartState>;
  if (v.v !== RESTART_STATE_VERSION || !Array.isArray(v.sessions) || !Array.isArray(v.calls)) {
    return undefined;
  }
  const str = (x: unknown) => typeof x === 'string';
  const sessionsOk = v.sessions.every(
    (s: SavedSession) =>
      str(s.digest) &&
      str(s.key) &&
      str(s.name) &&
      str(s.remoteAddress) &&
      Array.isArray(s.backlog) &&
      s.backlog.every(str) &&
      typeof s.identity === 'object' &&
      s.identity !== null,
  );
  const callsOk = v.calls.every(
    (c: SavedCall) =>
      str(c.id) && str(c.caller) && str(c.callee) && typeof c.createdAtMs === 'number',
  );
  return sessionsOk && callsOk ? (v as RestartState) : undefined;
}

/**
 * The socket of a session brought back from the store: it has none until its client resumes
 * (login moves the client's new socket in). Closed, so nothing is ever written to it; the
 * session keeps what is sent to it while it is away, as any away session does.
 */
export const DETACHED_SOCKET = Object.freeze({
  readyState: 3,
  bufferedAmount: 0,
  send() {},
  close() {},
  terminate() {},
  ping() {},
}) as unknown as WebSocket;

/**
 * The drain's last step: write every session that may resume, and their calls, to the store for
 * the next start. A session that could not keep everything sent to it cannot resume in order:
 * `finish` ends it first.
 */
export async function parkSessions(
  ctx: Context,
  finish: (session: Session) => void,
): Promise<void> {
  const { resumer, guard, store, log } = ctx;
  for (const session of resumer.all()) if (session.backlogOverflowed) finish(session);
  const now = Date.now();
  const state = snapshot(
    resumer.all(),
    (s) => resumer.digestOf(s),
    (s) => guard.identityOf(s),
    now,
  );
  if (state.sessions.length === 0) return;
  try {
    await store.putRestartState(JSON.stringify(state), now + RESTART_STATE_TTL_MS);
    log.info(
      { sessions: state.sessions.length, calls: state.calls.length },
      'drain: sessions kept for the restart',
    );
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'drain: could not keep sessions for the restart');
  }
}

/**
 * At start: take back what the previous process on this store kept (parkSessions). Its
 * sessions are away, with a full grace period from now, their names held and their calls up.
 * `newSession` makes a native session without a socket (the gateway owns session ids).
 */
export async function restoreSessions(
  ctx: Context,
  newSession: (remoteAddress: string, nowMs: number) => Session,
): Promise<void> {
  const { store, log } = ctx;
  let text: string | undefined;
  try {
    text = await store.takeRestartState(Date.now());
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'restart: kept sessions unavailable');
    return;
  }
  if (text === undefined || !ctx.resumer.enabled) return;
  const state = parseRestartState(text);
  if (state === undefined) {
    log.warn('restart: kept sessions are in an unknown format; starting afresh');
    return;
  }
  const { sessions, calls } = restoreState(ctx, state, newSession);
  log.info({ sessions, calls }, 'restart: sessions taken back, waiting for their clients');
}

function restoreState(
  ctx: Context,
  state: RestartState,
  newSession: (remoteAddress: string, nowMs: number) => Session,
): { sessions: number; calls: number } {
  const { hub, resumer, guard, engine, config } = ctx;
  const now = Date.now();
  const until = now + config.resumeGraceMs;
  const byDigest = new Map<string, Session>();
  for (const saved of state.sessions) {
    const session = newSession(saved.remoteAddress, now);
    session.name = saved.name;
    session.key = saved.key;
    session.state = 'active';
    if (!hub.add(session)) continue;
    session.backlog = [...saved.backlog];
    resumer.restore(session, saved.digest, until);
    guard.track(session, { key: saved.key, display: saved.name, ...saved.identity });
    byDigest.set(saved.digest, session);
  }
  let restoredCalls = 0;
  for (const c of state.calls) {
    const caller = byDigest.get(c.caller);
    const callee = byDigest.get(c.callee);
    // Each party may be in two calls (call waiting: one held behind the other).
    if (
      caller === undefined ||
      callee === undefined ||
      caller.other !== null ||
      callee.other !== null
    ) {
      continue;
    }
    engine.book.open({
      id: c.id,
      caller,
      callee,
      state: 'connected',
      media: c.media,
      calleeNotified: true,
      createdAtMs: c.createdAtMs,
      answeredAtMs: c.answeredAtMs,
      room: c.room,
    });
    hub.refresh(caller);
    hub.refresh(callee);
    restoredCalls++;
  }
  return { sessions: byDigest.size, calls: restoredCalls };
}
