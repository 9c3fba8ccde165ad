/**
 * What callwire keeps beyond one process's memory: accounts (for `--auth password`) and call
 * records. One interface, two engines (SQLite embedded by default, Redis as in the tutorial);
 * both run the same contract tests (test/store-contract.ts).
 *
 * Every method is async even where the engine is synchronous (SQLite), so callers are written
 * once. A store that cannot be reached rejects with {@link StoreUnavailableError} at once (no
 * queueing while it is down): the caller answers `service_unavailable` and tries again later.
 */
import type { EndReason } from '@callwire/protocol';

export interface UserRecord {
  /** Identity key (normalized, case-folded name). */
  readonly key: string;
  /** Display name as it was added. */
  readonly name: string;
  /** argon2id PHC string; never the password. */
  readonly hash: string;
  /**
   * Changes when the account is re-created or its password is set (not when a hash is merely
   * upgraded): sessions signed in under another epoch are no longer authorized.
   */
  readonly epoch: string;
  readonly createdAtMs: number;
}

export type CallPath = 'direct' | 'relay';

export interface CallRecord {
  readonly id: string;
  readonly callerKey: string;
  readonly callerName: string;
  readonly calleeKey: string;
  readonly calleeName: string;
  readonly startedAtMs: number;
  readonly answeredAtMs: number | null;
  readonly endedAtMs: number;
  readonly callerReason: EndReason;
  readonly calleeReason: EndReason;
  /** The callee never answered nor declined (no answer, cancelled, busy, offline). */
  readonly missed: boolean;
  /** Missed and not yet shown to the callee; delivered with the next login. */
  readonly missedPending: boolean;
  /** As reported by a party (`report`); null when nobody reported it. */
  readonly path: CallPath | null;
  /** Meet-by-link room, when the call was one. */
  readonly room: string | null;
  readonly video: boolean;
}

/** Position in a user's history, newest first: everything strictly older than this. */
export interface HistoryCursor {
  readonly endedAtMs: number;
  readonly id: string;
}

/** Names one missed call as pendingMissed returned it. */
export type MissedRef = Pick<CallRecord, 'id' | 'endedAtMs'>;

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  /** Connect / create / migrate. Safe to call once; later calls are no-ops. */
  open(): Promise<void>;
  close(): Promise<void>;

  getUser(key: string): Promise<UserRecord | undefined>;
  /** false when the key is taken. */
  addUser(user: UserRecord): Promise<boolean>;
  /** New hash and epoch (a password change). false when there is no such user. */
  setPassword(key: string, hash: string, epoch: string): Promise<boolean>;
  /** Replace the hash only if the epoch is still `epoch` (a rehash must not undo a passwd). */
  upgradeHash(key: string, epoch: string, hash: string): Promise<boolean>;
  removeUser(key: string): Promise<boolean>;
  /** Display names sorted by key, after `afterKey`. */
  listUsers(
    limit: number,
    afterKey?: string,
  ): Promise<Array<{ key: string; name: string; createdAtMs: number }>>;
  /** A counter that moves whenever an account is removed or its password set. */
  usersRevision(): Promise<number>;

  addCall(record: CallRecord): Promise<void>;
  /**
   * Record the media path a party reported after the call ended. `relay` is sticky: if either
   * side went through TURN, the call did. false when the call is unknown or `partyKey` is not
   * one of its parties.
   */
  setCallPath(callId: string, partyKey: string, path: CallPath): Promise<boolean>;
  /** A user's calls (either side), newest first. */
  callsFor(key: string, limit: number, before?: HistoryCursor): Promise<CallRecord[]>;
  /** Missed calls not yet shown to `key`, newest first, at most `limit`. */
  pendingMissed(key: string, limit: number): Promise<CallRecord[]>;
  markMissedSeen(key: string, calls: readonly MissedRef[]): Promise<void>;
  /** Forget calls that ended before `cutoffMs`. Returns how many went. */
  pruneCalls(cutoffMs: number): Promise<number>;

  /**
   * What a single node keeps across its own restart (ws/restart.ts): one opaque document,
   * written at the end of a drain and taken (read and deleted) by the next start. A document
   * past `expiresAtMs` is never returned.
   */
  putRestartState(state: string, expiresAtMs: number): Promise<void>;
  takeRestartState(nowMs: number): Promise<string | undefined>;
}

/** The store cannot be reached (Redis down, SQLite busy or failing I/O). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isStoreUnavailable(err: unknown): err is StoreUnavailableError {
  return err instanceof StoreUnavailableError;
}
