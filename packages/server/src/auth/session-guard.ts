/**
 * Keeps signed-in sessions authorized for as long as they last, not only at login: a session
 * whose token expires, or whose account is removed or gets a new password (`callwire users
 * remove|passwd`, possibly from another process), is ended with 4001, also while it is away
 * waiting to resume (it must not come back with its resume token).
 *
 * Account changes are noticed by polling the store's users revision (one cheap read every
 * `--user-check-interval-ms`); only when it moves are the signed-in password sessions checked
 * against their accounts. A store that is down postpones the check; it never ends sessions.
 * The same tick forgets sessions that have ended (a session outlives its first socket when it
 * resumes, so socket events are not the end of it).
 */
import type { Logger } from 'pino';
import type { Store } from '../stores/store.js';
import type { Session } from '../ws/session.js';
import type { Identity } from './authenticator.js';

/** setTimeout cannot wait longer than 2^31-1 ms; longer expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Ends a session that is no longer authorized (the gateway closes it with 4001). */
export type EndSession = (session: Session, why: string) => void;

export class SessionGuard {
  private readonly tracked = new Map<Session, Identity>();
  private readonly timers = new Map<Session, NodeJS.Timeout>();
  /** Sessions signed in since the last check: checked once even if the revision did not move. */
  private fresh = new Set<Session>();
  private lastRevision: number | undefined;
  private polling = false;
  private readonly pollTimer: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    intervalMs: number,
    private readonly watchAccounts: boolean,
    private readonly end: EndSession,
  ) {
    this.pollTimer = setInterval(() => void this.poll(), intervalMs);
    this.pollTimer.unref();
  }

  get size(): number {
    return this.tracked.size;
  }

  /** The identity a watched session signed in with (a cluster moves it along on a drain). */
  identityOf(session: Session): Identity | undefined {
    return this.tracked.get(session);
  }

  /** Watch a session that has just signed in with `identity`. */
  track(session: Session, identity: Identity): void {
    if (identity.mode === 'open') return;
    this.tracked.set(session, identity);
    if (identity.mode === 'password') this.fresh.add(session);
    if (identity.expiresAtMs !== undefined) this.armExpiry(session, identity.expiresAtMs);
  }

  close(): void {
    clearInterval(this.pollTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.tracked.clear();
    this.fresh.clear();
  }

  /** One tick: forget ended sessions, then check accounts if they changed. */
  async poll(): Promise<void> {
    for (const session of this.tracked.keys())
      if (session.state === 'closed') this.untrack(session);
    if (!this.watchAccounts || this.polling) return;
    this.polling = true;
    try {
      const revision = await this.store.usersRevision();
      const moved = revision !== this.lastRevision;
      const toCheck = moved ? [...this.tracked.keys()] : [...this.fresh];
      this.fresh = new Set();
      for (const session of toCheck) {
        const identity = this.tracked.get(session);
        if (identity?.mode !== 'password') continue;
        const user = await this.store.getUser(identity.key);
        if (user === undefined || user.epoch !== identity.epoch) {
          this.revoke(session, 'account removed or changed');
        }
      }
      this.lastRevision = revision;
    } catch (err) {
      // The store is down (or failed mid-check): check everything again next time.
      this.lastRevision = undefined;
      this.log.debug({ err: (err as Error).message }, 'session check postponed');
    } finally {
      this.polling = false;
    }
  }

  private armExpiry(session: Session, atMs: number): void {
    const left = atMs - Date.now();
    const timer = setTimeout(
      () => {
        if (Date.now() >= atMs) this.revoke(session, 'token expired');
        else this.armExpiry(session, atMs);
      },
      Math.max(0, Math.min(left, MAX_TIMER_MS)),
    );
    timer.unref();
    this.timers.set(session, timer);
  }

  private revoke(session: Session, why: string): void {
    if (!this.tracked.has(session)) return;
    this.untrack(session);
    if (session.state === 'closed') return;
    this.log.info({ session: session.id, name: session.name, why }, 'session no longer authorized');
    this.end(session, why);
  }

  private untrack(session: Session): void {
    this.tracked.delete(session);
    this.fresh.delete(session);
    const t = this.timers.get(session);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(session);
  }
}
