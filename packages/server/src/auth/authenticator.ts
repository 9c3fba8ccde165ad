/**
 * Who may sign in, per `--auth` mode:
 * - `open`: any valid name that is not online (as the tutorial).
 * - `password`: an account in the store whose argon2id hash matches. Unknown names are checked
 *   against a dummy hash with the same parameters, so both failures cost the same time and get
 *   the same reply (`invalid_credentials`). Failures are throttled per (account, client network)
 *   and per client network, so a third party cannot lock an owner out by failing on purpose;
 *   failures for an account from anywhere only slow its logins, by a capped delay. Hashes run
 *   through a bounded limiter. Instead of the password, a login may carry the `sessionToken` of
 *   an earlier login of the same account (how the web app stays signed in across a reload):
 *   valid until it expires, or at once no longer once the account is removed or its password
 *   changed (the epoch in the token no longer matches).
 * - `jwt`: a token from the operator's backend, in the login message or with the upgrade.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { AuthMode, Config } from '../config.js';
import { isStoreUnavailable, type Store, type UserRecord } from '../stores/store.js';
import type { Session } from '../ws/session.js';
import { HashLimiter } from './hash-limiter.js';
import { HashProcess, HashProcessError } from './hash-process.js';
import { JwtVerifier, upgradeToken, type VerifiedToken } from './jwt.js';
import { needsRehash, preparePassword, type Argon2Params } from './passwords.js';
import type { SessionTokens } from './session-tokens.js';
import { Throttle, networkKey, pairKey } from './throttle.js';

export interface Identity {
  readonly key: string;
  readonly display: string;
  readonly mode: AuthMode;
  /** Account epoch (password mode): a passwd or re-creation invalidates the session. */
  readonly epoch?: string | undefined;
  /** When the credentials stop being valid (jwt mode). */
  readonly expiresAtMs?: number | undefined;
}

export type AuthFailureCode = 'invalid_credentials' | 'rate_limited' | 'service_unavailable';

export type AuthOutcome =
  | { readonly ok: true; readonly identity: Identity }
  | {
      readonly ok: false;
      readonly code: AuthFailureCode;
      readonly retryAfterMs?: number | undefined;
    };

export interface LoginAttempt {
  readonly key: string;
  readonly display: string;
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  readonly address: string;
}

/** Failures for one account from one client network before that pair must wait. */
const PAIR_FAILURES_BEFORE_DELAY = 5;
/** Failures from one client network, whatever the accounts, before it must wait. */
const NETWORK_FAILURES_BEFORE_DELAY = 30;
/**
 * Failures for one account from all networks together before its logins are slowed. Slowing
 * (never refusing) is all the account-wide count does, and it is capped: OWASP's advice, since
 * a refusal keyed on the account alone lets anybody lock its owner out.
 */
const ACCOUNT_FAILURES_BEFORE_SLOWING = 10;
const ACCOUNT_SLOWING_MAX_MS = 2_000;
const MAX_DELAY_MS = 15 * 60_000;
const FORGET_AFTER_MS = 60 * 60_000;
/** Logins that may wait for a hashing slot before further ones are refused. */
const HASH_QUEUE_MAX = 64;

const fail = (code: AuthFailureCode, retryAfterMs?: number): AuthOutcome =>
  retryAfterMs === undefined ? { ok: false, code } : { ok: false, code, retryAfterMs };

export class Authenticator {
  readonly mode: AuthMode;
  readonly argon2: Argon2Params;
  readonly limiter: HashLimiter;
  /** Where hashes are computed: a niced child process, so relaying always comes first. */
  private readonly hasher: HashProcess;
  private readonly pairs: Throttle;
  private readonly networks: Throttle;
  private readonly accounts: Throttle;
  private readonly jwt: JwtVerifier | undefined;
  private dummyHash: Promise<string> | undefined;
  private readonly upgradeTokens = new WeakMap<object, VerifiedToken>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    config: Config,
    private readonly store: Store,
    private readonly log: Logger,
    /** Accepts session tokens in place of a password (password mode); none: passwords only. */
    private readonly sessionTokens?: SessionTokens,
  ) {
    this.mode = config.auth;
    this.argon2 = {
      memoryCost: config.argon2MemoryKib,
      timeCost: config.argon2TimeCost,
      parallelism: config.argon2Parallelism,
    };
    this.limiter = new HashLimiter(config.loginConcurrency, HASH_QUEUE_MAX);
    this.hasher = new HashProcess(log);
    const rule = { baseMs: config.loginThrottleMs, maxMs: MAX_DELAY_MS, forgetMs: FORGET_AFTER_MS };
    this.pairs = new Throttle({ ...rule, threshold: PAIR_FAILURES_BEFORE_DELAY });
    this.networks = new Throttle({ ...rule, threshold: NETWORK_FAILURES_BEFORE_DELAY });
    this.accounts = new Throttle({
      ...rule,
      threshold: ACCOUNT_FAILURES_BEFORE_SLOWING,
      maxMs: ACCOUNT_SLOWING_MAX_MS,
    });
    this.jwt =
      config.auth === 'jwt'
        ? new JwtVerifier({
            secret: config.jwtSecret,
            publicKeyFile: config.jwtPublicKey,
            audience: config.jwtAudience,
            issuer: config.jwtIssuer,
          })
        : undefined;
    if (config.auth === 'password') {
      // Made now, not at the first unknown name, so that first attempt is not slower.
      void this.dummy().catch(() => undefined);
    }
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      this.pairs.sweep(now);
      this.networks.sweep(now);
      this.accounts.sweep(now);
    }, 60_000);
    this.sweepTimer.unref();
  }

  /**
   * Before the upgrade (jwt mode): a token offered in the request must be valid, or the
   * request is refused with 401 before any WebSocket exists. undefined = nothing to check.
   */
  checkUpgrade(req: IncomingMessage): Promise<boolean> | undefined {
    if (this.jwt === undefined) return undefined;
    const token = upgradeToken(req.headers, req.url ?? '/');
    if (token === undefined) return undefined;
    return this.jwt.verify(token).then((verified) => {
      if (verified === null) return false;
      this.upgradeTokens.set(req, verified);
      return true;
    });
  }

  /** Carry an identity proven at the upgrade over to the session made from that request. */
  attach(session: Session, req: IncomingMessage): void {
    const verified = this.upgradeTokens.get(req);
    if (verified !== undefined) this.upgradeTokens.set(session, verified);
  }

  /**
   * The identity proven by a token offered with this session's upgrade (jwt mode), if any. A
   * dialect that signs in at the upgrade (PeerJS: the token is in the URL) reads it here, at
   * once, rather than through a login message.
   */
  upgradeIdentity(session: Session): Identity | undefined {
    const verified = this.upgradeTokens.get(session);
    if (verified === undefined || verified.expiresAtMs <= Date.now()) return undefined;
    return {
      key: verified.key,
      display: verified.display,
      mode: 'jwt',
      expiresAtMs: verified.expiresAtMs,
    };
  }

  async authenticate(session: Session, attempt: LoginAttempt): Promise<AuthOutcome> {
    switch (this.mode) {
      case 'open':
        return { ok: true, identity: { key: attempt.key, display: attempt.display, mode: 'open' } };
      case 'jwt':
        return this.byToken(session, attempt);
      case 'password':
        return this.byPassword(session, attempt);
    }
  }

  close(): void {
    clearInterval(this.sweepTimer);
    this.hasher.close();
  }

  /** The hash unknown names are checked against; made again if making it failed. */
  private dummy(): Promise<string> {
    if (this.dummyHash === undefined) {
      const made = this.hasher.hash(randomBytes(18).toString('base64'), this.argon2);
      this.dummyHash = made;
      made.catch((err: unknown) => {
        if (this.dummyHash === made) this.dummyHash = undefined;
        // A closed or crashed hash process is logged where it happens.
        if (!(err instanceof HashProcessError)) {
          this.log.error({ err: (err as Error).message }, 'cannot compute the dummy hash');
        }
      });
    }
    return this.dummyHash;
  }

  private async byToken(session: Session, attempt: LoginAttempt): Promise<AuthOutcome> {
    const verified =
      attempt.token !== undefined
        ? await this.jwt!.verify(attempt.token)
        : this.upgradeTokens.get(session);
    // The name in the login must be the token's subject: a token is not a pass for any name.
    if (verified === null || verified === undefined || verified.key !== attempt.key) {
      return fail('invalid_credentials');
    }
    if (verified.expiresAtMs <= Date.now()) return fail('invalid_credentials');
    return {
      ok: true,
      identity: {
        key: verified.key,
        display: verified.display,
        mode: 'jwt',
        expiresAtMs: verified.expiresAtMs,
      },
    };
  }

  private async byPassword(session: Session, attempt: LoginAttempt): Promise<AuthOutcome> {
    if (attempt.password === undefined && attempt.token !== undefined) {
      return this.bySessionToken(attempt.key, attempt.token);
    }
    if (attempt.password === undefined) return fail('invalid_credentials');
    // Over-long passwords are refused before any work (argon2 would hash them all).
    const prepared = preparePassword(attempt.password);
    if (prepared === null) return fail('invalid_credentials');
    const now = Date.now();
    const network = networkKey(attempt.address);
    const pair = pairKey(attempt.key, network);
    const wait = Math.max(this.pairs.waitMs(pair, now), this.networks.waitMs(network, now));
    if (wait > 0) return fail('rate_limited', wait);
    // Failures from elsewhere only make this login wait a little (at most 2 s), never refuse it.
    const slowing = this.accounts.waitMs(attempt.key, now);
    if (slowing > 0) await new Promise((r) => setTimeout(r, slowing));

    let user: UserRecord | undefined;
    try {
      user = await this.store.getUser(attempt.key);
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      return fail('service_unavailable');
    }
    let checked: { value: boolean | undefined } | undefined;
    try {
      const hash = user?.hash ?? (await this.dummy());
      // A client that gave up while queued (a storm) is not worth a hash: nobody would hear it.
      checked = await this.limiter.run(async () =>
        session.ws.readyState === 1 ? this.hasher.verify(hash, prepared) : undefined,
      );
    } catch (err) {
      // The hash process died (it is restarted for the next login): not the user's fault.
      if (!(err instanceof HashProcessError)) throw err;
      return fail('service_unavailable');
    }
    if (checked === undefined) return fail('service_unavailable');
    if (checked.value === undefined) return fail('invalid_credentials');
    if (user === undefined || !checked.value) {
      const at = Date.now();
      this.pairs.fail(pair, at);
      this.networks.fail(network, at);
      this.accounts.fail(attempt.key, at);
      return fail('invalid_credentials');
    }
    this.pairs.succeed(pair);
    this.accounts.succeed(attempt.key);
    if (needsRehash(user.hash, this.argon2)) void this.rehash(user, prepared);
    return {
      ok: true,
      identity: { key: user.key, display: user.name, mode: 'password', epoch: user.epoch },
    };
  }

  /**
   * A session token stands for the password it was issued after. No throttle: checking one
   * costs a signature, not a hash, and a guess at a 256-bit HMAC is not worth slowing down.
   */
  private async bySessionToken(key: string, token: string): Promise<AuthOutcome> {
    const claims = this.sessionTokens === undefined ? null : await this.sessionTokens.verify(token);
    if (claims === null || claims.key !== key || claims.epoch === undefined) {
      return fail('invalid_credentials');
    }
    let user: UserRecord | undefined;
    try {
      user = await this.store.getUser(key);
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      return fail('service_unavailable');
    }
    if (user === undefined || user.epoch !== claims.epoch) return fail('invalid_credentials');
    return {
      ok: true,
      identity: { key: user.key, display: user.name, mode: 'password', epoch: user.epoch },
    };
  }

  /** Replace a hash made with weaker parameters; the login does not wait for it. */
  private async rehash(user: UserRecord, prepared: string): Promise<void> {
    try {
      const made = await this.limiter.run(() => this.hasher.hash(prepared, this.argon2));
      if (made === undefined) return; // busy: the next login will try again
      if (await this.store.upgradeHash(user.key, user.epoch, made.value)) {
        this.log.info({ name: user.name }, 'password hash upgraded to the current parameters');
      }
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, name: user.name },
        'password hash upgrade failed',
      );
    }
  }
}
