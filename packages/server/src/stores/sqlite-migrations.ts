/**
 * The embedded store's schema, as numbered migrations. The database's `user_version` says how
 * many have run; a new one is appended here and never edited once released. They run in one
 * IMMEDIATE transaction, so two processes starting on a fresh data directory at the same time
 * (a server and `callwire users add`) cannot both apply them.
 */
import { nameKey } from '@callwire/protocol';
import type { Database } from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: accounts, a revision counter for revocation, call records.
  `
  CREATE TABLE users (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    epoch       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
  ) STRICT;
  INSERT INTO meta (key, value) VALUES ('users_revision', 0);

  CREATE TABLE calls (
    id             TEXT PRIMARY KEY,
    caller_key     TEXT NOT NULL,
    caller_name    TEXT NOT NULL,
    callee_key     TEXT NOT NULL,
    callee_name    TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    answered_at    INTEGER,
    ended_at       INTEGER NOT NULL,
    caller_reason  TEXT NOT NULL,
    callee_reason  TEXT NOT NULL,
    missed         INTEGER NOT NULL,
    missed_pending INTEGER NOT NULL,
    path           TEXT,
    room           TEXT,
    video          INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX calls_by_caller ON calls (caller_key, ended_at DESC, id DESC);
  CREATE INDEX calls_by_callee ON calls (callee_key, ended_at DESC, id DESC);
  CREATE INDEX calls_missed_pending ON calls (callee_key, ended_at DESC) WHERE missed_pending = 1;
  CREATE INDEX calls_by_end ON calls (ended_at);
  `,
  // 2: identity became the confusable skeleton of a name (a look-alike is the same user), so
  // every stored key is recomputed from the display name it belongs to. Of two accounts that
  // now share a key (look-alikes registered before), one keeps the name (an account whose
  // key did not change always does); the other stays under its old key, listed but
  // unreachable, for an administrator to remove.
  `
  UPDATE OR IGNORE users SET key = callwire_name_key(name) WHERE key <> callwire_name_key(name);
  UPDATE calls SET caller_key = callwire_name_key(caller_name), callee_key = callwire_name_key(callee_name);
  `,
  // 3: what a single node keeps across a restart (sessions that may resume, their calls).
  `
  CREATE TABLE restart_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) STRICT;
  `,
];

/** Bring the database up to date. Throws when it was written by a newer callwire. */
export function migrate(db: Database): void {
  // The identity key as the protocol package computes it, for migrations that rekey names.
  db.function('callwire_name_key', { deterministic: true }, (name: unknown) =>
    nameKey(String(name)),
  );
  const run = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `the database schema is version ${current}, newer than this callwire knows (${MIGRATIONS.length}); upgrade callwire`,
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  run.immediate();
}
