// Impersonation by look-alike names: with alice online or registered, nobody else gets to show
// up as "alice" by adding invisible characters, mixing in Cyrillic or Greek letters, or using a
// letter that only looks the same. Every endpoint refuses them with a code.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nameKey } from '@callwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/stores/sqlite-migrations.js';
import {
  addAccount,
  attemptLogin,
  removeTempDirs,
  runCli,
  startWithData,
  tempDir,
  withSqlite,
} from './auth-support.js';
import { TestClient, nativeUser, startServer, type TestServer } from './support.js';

/** The names of the report, each with the code it must get while alice is online. */
const LOOKALIKES: Array<[string, string]> = [
  ['alice\u034F', 'name_invalid'], // combining grapheme joiner
  ['alice\uFE00', 'name_invalid'], // variation selector
  ['alice\u180B', 'name_invalid'], // Mongolian free variation selector
  ['alice\u17B4', 'name_invalid'], // Khmer inherent vowel
  ['alice\u3164', 'name_invalid'], // Hangul filler
  ['\u0430lice', 'name_invalid'], // Cyrillic a: mixed scripts
  ['al\u03B9ce', 'name_invalid'], // Greek iota: mixed scripts
  ['al\u0131ce', 'name_taken'], // Latin dotless i: one script, same skeleton
  ['ALICE', 'name_taken'], // case-insensitive, as before
];

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  removeTempDirs();
});

describe('look-alike names', () => {
  it('are refused on every endpoint while alice is online; alice alone is listed', async () => {
    ts = await startServer();
    const alice = await nativeUser(ts, 'alice');
    for (const [name, code] of LOOKALIKES) {
      const native = await TestClient.open(ts.url('/'));
      native.send({ type: 'login', name, protocol: 1 });
      const r1 = await native.next('login');
      expect({ name, success: r1.success, code: r1.code }).toEqual({ name, success: false, code });

      const tutorial = await TestClient.open(ts.url('/'));
      tutorial.send({ type: 'login', name });
      const r2 = await tutorial.next('login');
      expect({ name, success: r2.success, code: r2.code }).toEqual({ name, success: false, code });

      const one2one = await TestClient.open(ts.url('/call'));
      one2one.send({ id: 'register', name });
      const r3 = await one2one.next('registerResponse');
      expect({ name, response: r3.response, code: r3.code }).toEqual({
        name,
        response: 'rejected',
        code,
      });
      for (const c of [native, tutorial, one2one]) c.close();
    }
    alice.send({ type: 'users', ref: 'u' });
    const page = await alice.next('users');
    expect(page.users).toEqual([{ name: 'alice', status: 'online' }]);
    // A call to a look-alike of alice is a call to alice, or no name at all: never a stranger.
    alice.send({ type: 'call', to: 'al\u0131ce' });
    expect((await alice.next('error')).code).toBe('self_call');
  });

  it('cannot take the name of a registered account, by login or by `users add`', async () => {
    const server = await startWithData(['--auth', 'password']);
    ts = server;
    await withSqlite(server.dataDir, (s) => addAccount(s, 'alice', 'alice has a good password'));
    const { reply } = await attemptLogin(server, {
      type: 'login',
      name: 'al\u0131ce',
      password: 'the impostor password',
      protocol: 1,
    });
    expect(reply).toMatchObject({ success: false, code: 'invalid_credentials' });

    const add = await runCli(
      ['users', 'add', '\u0430l\u0456\u0441e', '--data-dir', server.dataDir],
      'the impostor password\n',
    );
    expect(add.code).toBe(2); // mixed scripts: not a valid name
    const same = await runCli(
      ['users', 'add', 'AL\u0131CE', '--data-dir', server.dataDir],
      'the impostor password\n',
    );
    expect(same.code).toBe(1); // already exists
    expect((await runCli(['users', 'list', '--data-dir', server.dataDir])).stdout).toBe('alice\n');
  }, 60_000);

  it('rekeys accounts and call records of an older data directory', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const db = new Database(join(dir, 'callwire.db'));
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    const add = db.prepare(
      'INSERT INTO users (key, name, hash, epoch, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    // Keys as the first schema computed them (lower case), for names whose skeleton differs.
    add.run('sam', 'Sam', 'h1', 'e1', 1);
    add.run('b0b', 'B0b', 'h2', 'e2', 2);
    add.run('bob', 'bob', 'h3', 'e3', 3);
    db.close();
    await withSqlite(dir, async (s) => {
      expect((await s.getUser(nameKey('Sam')))?.name).toBe('Sam');
      // bob kept its key; the look-alike B0b could not take it and is left for removal.
      expect((await s.getUser(nameKey('bob')))?.name).toBe('bob');
      expect((await s.listUsers(10)).map((u) => u.name).sort()).toEqual(['B0b', 'Sam', 'bob']);
    });
  });
});
