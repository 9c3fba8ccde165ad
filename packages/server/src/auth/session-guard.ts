/**
 * Keeps signed-in sessions authorized for as long as they last, not only at login: a session
 * whose token expires, or whose account is removed or gets a new password (`callwire users
 * remove|passwd`, possibly from another process), is closed with 4001.
 *
 * Account changes are noticed by polling the store's users revision (one cheap read every
 * `--user-check-interval-ms`); only when it moves are the signed-in password sessions checked
 * against their accounts. A store that is down postpones the check; it never closes sessions.
 */
import { CLOSE } from '@callwire/protocol';
import type { Logger } from 'pino';
import type { Store } from '../stores/store.js';
import type { Session } from '../ws/session.js';
import type { Identity } from './authenticator.js';

/** setTimeout cannot wait longer than 2^31-1 ms; longer expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class SessionGuard {
  private readonly tracked = new Map<Session, Identity>();
  private readonly timers = new Map<Session, NodeJS.Timeout>();
  /** Sessions signed in since the last check: checked once even if the revision did not move. */
  private fresh = new Set<Session>();
  private lastRevision: number | undefined;
  private polling = false;
  private readonly pollTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    intervalMs: number,
    watchAccounts: boolean,
  ) {
    if (watchAccounts) {
      this.pollTimer = setInterval(() => void this.poll(), intervalMs);
      this.pollTimer.unref();
    }
  }

  get size(): number {
    return this.tracked.size;
  }

  /** Watch a session that has just signed in with `identity`. */
  track(session: Session, identity: Identity): void {
    if (identity.mode === 'open') return;
    this.tracked.set(session, identity);
    if (identity.mode === 'password') this.fresh.add(session);
    if (identity.expiresAtMs !== undefined) this.armExpiry(session, identity.expiresAtMs);
    session.ws.once('close', () => this.untrack(session));
  }

  close(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.tracked.clear();
    this.fresh.clear();
  }

  /** One check: exported for tests that do not want to wait for the interval. */
  async poll(): Promise<void> {
    if (this.polling) return;
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
        if (user === undefined || user.epoch !== identity.epoch)
          this.revoke(session, 'account removed or changed');
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
    this.log.info({ session: session.id, name: session.name, why }, 'session no longer authorized');
    this.untrack(session);
    session.close(CLOSE.unauthorized, why);
  }

  private untrack(session: Session): void {
    this.tracked.delete(session);
    this.fresh.delete(session);
    const t = this.timers.get(session);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(session);
  }
}
