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
