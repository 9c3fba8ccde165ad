/**
 * Sessions that outlive their socket. A native client that asked for it at login gets a
 * resume token; when its socket drops, its session, name and calls are kept for the grace
 * period while whatever is sent to it is kept, in order, and its peers are told it is
 * reconnecting. The media path is peer to peer, so a signaling blip must never end a call.
 *
 * Tokens are 256-bit random values, single use: each resume rotates the token.
 */
import { createHash } from 'node:crypto';
import { randomToken } from './random.js';
import type { Session } from './ws/session.js';

/** How a token is kept where it outlives the process (the store): never in the clear. */
export const tokenDigest = (token: string): string =>
  createHash('sha256').update(token).digest('base64url');

export class Resumer {
  private readonly byToken = new Map<string, Session>();
  /** Sessions brought back after a restart (ws/restart.ts), known by their token's digest. */
  private readonly byDigest = new Map<string, Session>();
  /** Sessions without a socket, waiting for their client (or the end of their grace). */
  private readonly away = new Set<Session>();

  constructor(
    readonly graceMs: number,
  ) {}

  get enabled(): boolean {
    return this.graceMs > 0;
  }

  get awayCount(): number {
    return this.away.size;
  }

  /** A fresh token for `session`; any previous one stops working. */
  issue(session: Session): string {
    if (session.resumeToken !== null) this.byToken.delete(session.resumeToken);
    this.dropDigest(session);
    const token = randomToken(32);
    session.resumeToken = token;
    this.byToken.set(token, session);
    return token;
  }

  /** The socket of a resumable session dropped: keep the session for the grace period. */
  suspend(session: Session, nowMs: number): void {
    session.state = 'away';
    session.awayUntilMs = nowMs + this.graceMs;
    // A session parked for a restart has been keeping what was sent to it since the drain.
    session.backlog ??= [];
    this.away.add(session);
  }

  /**
   * A session brought back from the store after a restart, away until `untilMs`; its client
   * resumes with the token whose digest was kept.
   */
  restore(session: Session, digest: string, untilMs: number): void {
    session.state = 'away';
    session.awayUntilMs = untilMs;
    session.backlog ??= [];
    session.resumeToken = null;
    this.byDigest.set(digest, session);
    this.away.add(session);
  }

  /** The digest under which `session` can be found, for keeping it across a restart. */
  digestOf(session: Session): string | undefined {
    if (session.resumeToken !== null) return tokenDigest(session.resumeToken);
    for (const [digest, s] of this.byDigest) if (s === session) return digest;
    return undefined;
  }

  /**
   * The session a token belongs to, if it can still be taken over: away within its grace, or
   * still active on a socket the server has not yet noticed is dead.
   */
  find(token: string): Session | undefined {
    const session = this.byToken.get(token) ?? this.byDigest.get(tokenDigest(token));
    if (session === undefined) return undefined;
    if (session.state === 'away' || session.state === 'active') return session;
    return undefined;
  }

  /** The client is back: the session leaves the away list. */
  reclaim(session: Session): void {
    this.away.delete(session);
  }

  /** Forget a session for good (it ended). */
  forget(session: Session): void {
    this.away.delete(session);
    if (session.resumeToken !== null) this.byToken.delete(session.resumeToken);
    this.dropDigest(session);
    session.resumeToken = null;
    session.backlog = null;
  }

  /** Sessions whose grace is over, or whose backlog overflowed. */
  *expired(nowMs: number): Generator<Session> {
    for (const session of this.away) {
      if (nowMs >= session.awayUntilMs || session.backlogOverflowed) yield session;
    }
  }

  private dropDigest(session: Session): void {
    if (this.byDigest.size === 0) return;
    for (const [digest, s] of this.byDigest) if (s === session) this.byDigest.delete(digest);
  }

  /** Everyone away (for shutdown). */
  all(): Session[] {
    return [...this.away];
  }
}
