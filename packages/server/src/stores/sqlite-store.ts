/**
 * The embedded default store: one SQLite file (`callwire.db`) in the data directory, created
 * on first start. better-sqlite3 is synchronous; every statement here is a point lookup or a
 * short indexed range, so it costs microseconds on the event loop. WAL mode lets a running
 * server and `callwire users ...` use the file at the same time.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { EndReason } from '@callwire/protocol';
import { migrate } from './sqlite-migrations.js';
import {
  StoreUnavailableError,
  type CallPath,
  type CallRecord,
  type HistoryCursor,
  type MissedRef,
  type Store,
  type UserRecord,
} from './store.js';

/** How long a statement waits for another process's write lock before giving up. */
const BUSY_TIMEOUT_MS = 250;

/** SQLite result codes that mean "cannot reach the data now", not "your request is wrong". */
const UNAVAILABLE =
  /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

interface CallRow {
  id: string;
  caller_key: string;
  caller_name: string;
  callee_key: string;
  callee_name: string;
  started_at: number;
  answered_at: number | null;
  ended_at: number;
  caller_reason: string;
  callee_reason: string;
  missed: number;
  missed_pending: number;
  path: string | null;
  room: string | null;
  video: number;
}

interface UserRow {
  key: string;
  name: string;
  hash: string;
  epoch: string;
  created_at: number;
}

const toUser = (r: UserRow): UserRecord => ({
  key: r.key,
  name: r.name,
  hash: r.hash,
  epoch: r.epoch,
  createdAtMs: r.created_at,
});

const toCall = (r: CallRow): CallRecord => ({
  id: r.id,
  callerKey: r.caller_key,
  callerName: r.caller_name,
  calleeKey: r.callee_key,
  calleeName: r.callee_name,
  startedAtMs: r.started_at,
  answeredAtMs: r.answered_at,
  endedAtMs: r.ended_at,
  callerReason: r.caller_reason as EndReason,
  calleeReason: r.callee_reason as EndReason,
  missed: r.missed === 1,
  missedPending: r.missed_pending === 1,
  path: r.path as CallPath | null,
  room: r.room,
  video: r.video === 1,
});

const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly file: string;
  private db: Db | null = null;
  private statements = new Map<string, Statement>();

  constructor(dataDir: string) {
    this.file = join(dataDir, 'callwire.db');
  }

  async open(): Promise<void> {
    if (this.db !== null) return;
    this.db = this.guard(() => {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      // Create the file ourselves so it is private to this user from the first byte; SQLite
      // gives its -wal and -shm files the same permissions.
      closeSync(openSync(this.file, 'a', 0o600));
      const db = new Database(this.file, { timeout: BUSY_TIMEOUT_MS });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      return db;
    });
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    this.statements.clear();
    db?.close();
  }

  async getUser(key: string): Promise<UserRecord | undefined> {
    const row = this.run('SELECT * FROM users WHERE key = ?', (s) => s.get(key)) as
      UserRow | undefined;
    return row && toUser(row);
  }

  async addUser(user: UserRecord): Promise<boolean> {
    const info = this.run(
      'INSERT INTO users (key, name, hash, epoch, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
      (s) => s.run(user.key, user.name, user.hash, user.epoch, user.createdAtMs),
    );
    return info.changes === 1;
  }

  async setPassword(key: string, hash: string, epoch: string): Promise<boolean> {
    return this.tx(() => {
      const info = this.run('UPDATE users SET hash = ?, epoch = ? WHERE key = ?', (s) =>
        s.run(hash, epoch, key),
      );
      if (info.changes === 1) this.bumpRevision();
      return info.changes === 1;
    });
  }

  async upgradeHash(key: string, epoch: string, hash: string): Promise<boolean> {
    const info = this.run('UPDATE users SET hash = ? WHERE key = ? AND epoch = ?', (s) =>
      s.run(hash, key, epoch),
    );
    return info.changes === 1;
  }

  async removeUser(key: string): Promise<boolean> {
    return this.tx(() => {
      const info = this.run('DELETE FROM users WHERE key = ?', (s) => s.run(key));
      if (info.changes === 1) this.bumpRevision();
      return info.changes === 1;
    });
  }

  async listUsers(
    limit: number,
    afterKey = '',
  ): Promise<Array<{ key: string; name: string; createdAtMs: number }>> {
    const rows = this.run(
      'SELECT key, name, created_at FROM users WHERE key > ? ORDER BY key LIMIT ?',
      (s) => s.all(afterKey, limit),
    ) as Array<Pick<UserRow, 'key' | 'name' | 'created_at'>>;
    return rows.map((r) => ({ key: r.key, name: r.name, createdAtMs: r.created_at }));
  }

  async usersRevision(): Promise<number> {
    const row = this.run("SELECT value FROM meta WHERE key = 'users_revision'", (s) => s.get()) as
      { value: number } | undefined;
    return row?.value ?? 0;
  }

  async addCall(r: CallRecord): Promise<void> {
    this.run(
      `INSERT INTO calls (id, caller_key, caller_name, callee_key, callee_name, started_at, answered_at,
         ended_at, caller_reason, callee_reason, missed, missed_pending, path, room, video)
       VALUES (@id, @callerKey, @callerName, @calleeKey, @calleeName, @startedAtMs, @answeredAtMs,
         @endedAtMs, @callerReason, @calleeReason, @missed, @missedPending, @path, @room, @video)
       ON CONFLICT (id) DO NOTHING`,
      (s) =>
        s.run({
          ...r,
          missed: r.missed ? 1 : 0,
          missedPending: r.missedPending ? 1 : 0,
          video: r.video ? 1 : 0,
        }),
    );
  }

  async setCallPath(callId: string, partyKey: string, path: CallPath): Promise<boolean> {
    // `relay` is sticky: a later `direct` from the other party does not undo it.
    const info = this.run(
      `UPDATE calls SET path = CASE WHEN path = 'relay' THEN 'relay' ELSE ? END
       WHERE id = ? AND (caller_key = ? OR callee_key = ?)`,
      (s) => s.run(path, callId, partyKey, partyKey),
    );
    return info.changes === 1;
  }

  async callsFor(key: string, limit: number, before?: HistoryCursor): Promise<CallRecord[]> {
    const at = before?.endedAtMs ?? FAR_FUTURE;
    const id = before?.id ?? '';
    // Two index range scans (one per side of the call) merged, instead of an OR that would
    // scan the table. A self-call cannot exist, so no row appears twice.
    const side = (column: string) =>
      `SELECT * FROM (SELECT * FROM calls WHERE ${column} = @key
         AND (ended_at < @at OR (ended_at = @at AND id < @id))
         ORDER BY ended_at DESC, id DESC LIMIT @limit)`;
    const rows = this.run(
      `${side('caller_key')} UNION ALL ${side('callee_key')} ORDER BY ended_at DESC, id DESC LIMIT @limit`,
      (s) => s.all({ key, at, id, limit }),
    ) as CallRow[];
    return rows.map(toCall);
  }

  async pendingMissed(key: string, limit: number): Promise<CallRecord[]> {
    const rows = this.run(
      'SELECT * FROM calls WHERE callee_key = ? AND missed_pending = 1 ORDER BY ended_at DESC LIMIT ?',
      (s) => s.all(key, limit),
    ) as CallRow[];
    return rows.map(toCall);
  }

  async markMissedSeen(key: string, calls: readonly MissedRef[]): Promise<void> {
    if (calls.length === 0) return;
    this.tx(() => {
      for (const { id } of calls) {
        this.run('UPDATE calls SET missed_pending = 0 WHERE id = ? AND callee_key = ?', (s) =>
          s.run(id, key),
        );
      }
    });
  }

  async pruneCalls(cutoffMs: number): Promise<number> {
    return this.run('DELETE FROM calls WHERE ended_at < ?', (s) => s.run(cutoffMs)).changes;
  }

  async putRestartState(state: string, expiresAtMs: number): Promise<void> {
    this.run(
      'INSERT INTO restart_state (id, state, expires_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at',
      (s) => s.run(state, expiresAtMs),
    );
  }

  async takeRestartState(nowMs: number): Promise<string | undefined> {
    return this.tx(() => {
      const row = this.run('SELECT state, expires_at FROM restart_state WHERE id = 1', (s) => s.get()) as
        | { state: string; expires_at: number }
        | undefined;
      this.run('DELETE FROM restart_state', (s) => s.run());
      return row !== undefined && row.expires_at > nowMs ? row.state : undefined;
    });
  }

  private bumpRevision(): void {
    this.run("UPDATE meta SET value = value + 1 WHERE key = 'users_revision'", (s) => s.run());
  }

  private tx<T>(fn: () => T): T {
    const db = this.require();
    return this.guard(() => db.transaction(fn).immediate());
  }

  /** Prepare once, run, and map engine failures to StoreUnavailableError. */
  private run<T>(sql: string, use: (s: Statement) => T): T {
    const db = this.require();
    return this.guard(() => {
      let s = this.statements.get(sql);
      if (s === undefined) {
        s = db.prepare(sql);
        this.statements.set(sql, s);
      }
      return use(s);
    });
  }

  private require(): Db {
    if (this.db === null) throw new StoreUnavailableError('the store is not open');
    return this.db;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      const code = (err as { code?: unknown }).code;
      // SQLite's own codes, or an errno from creating the directory or file (EACCES, ENOSPC).
      if (typeof code === 'string' && (UNAVAILABLE.test(code) || /^E[A-Z]+$/.test(code))) {
        throw new StoreUnavailableError(`sqlite: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }
}
