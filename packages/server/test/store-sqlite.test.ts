// The embedded store against real SQLite files: the shared contract, plus what only a file
// on disk has (creation, migrations, permissions, expiry of old records, two processes).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/stores/sqlite-migrations.js';
import { SqliteStore } from '../src/stores/sqlite-store.js';
import { call, storeContract } from './store-contract.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'callwire-sqlite-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'callwire-sqlite-'));
  const store = new SqliteStore(dir);
  await store.open();
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite store on disk', () => {
  it('creates the data directory and a private database file on first open, at the latest schema', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const store = new SqliteStore(dir);
    await store.open();
    await store.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'callwire.db')).mode & 0o777).toBe(0o600);
    const db = new Database(join(dir, 'callwire.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('keeps its data across reopening, and a second connection sees the first one write', async () => {
    const dir = tempDir();
    const a = new SqliteStore(dir);
    const b = new SqliteStore(dir);
    await a.open();
    await b.open();
    await a.addUser({ key: 'x', name: 'X', hash: '$argon2id$h', epoch: 'e', createdAtMs: 1 });
    expect((await b.getUser('x'))?.name).toBe('X');
    const before = await b.usersRevision();
    await a.removeUser('x');
    expect(await b.usersRevision()).toBe(before + 1);
    await a.close();
    await b.close();
    const again = new SqliteStore(dir);
    await again.open();
    expect(await again.usersRevision()).toBe(before + 1);
    await again.close();
  });

  it('refuses a database written by a newer callwire rather than guessing', async () => {
    const dir = tempDir();
    const store = new SqliteStore(dir);
    await store.open();
    await store.close();
    const db = new Database(join(dir, 'callwire.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    await expect(new SqliteStore(dir).open()).rejects.toThrow(/newer than this callwire knows/);
  });

  it('deletes records that ended before the retention cutoff', async () => {
    const store = new SqliteStore(tempDir());
    await store.open();
    const old = call('a', 'b', { endedAtMs: Date.now() - 100 * 24 * 3600_000 });
    const recent = call('a', 'b');
    await store.addCall(old);
    await store.addCall(recent);
    expect(await store.pruneCalls(Date.now() - 90 * 24 * 3600_000)).toBe(1);
    expect((await store.callsFor('a', 10)).map((r) => r.id)).toEqual([recent.id]);
    await store.close();
  });

  it('answers StoreUnavailableError, not a crash, when it is not open', async () => {
    const store = new SqliteStore(tempDir());
    await expect(store.getUser('a')).rejects.toMatchObject({ name: 'StoreUnavailableError' });
  });
});
