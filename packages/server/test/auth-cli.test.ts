// `callwire users ...` as an operator runs it, against the same store a running server uses.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  attemptLogin,
  removeTempDirs,
  runCli,
  signIn,
  startWithData,
  tempDir,
  withSqlite,
  type AccountServer,
} from './auth-support.js';
import { RedisServer } from './store-redis-server.js';

let ts: AccountServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  removeTempDirs();
});

describe('callwire users', () => {
  it('adds, lists, changes and removes accounts, with the password from stdin', async () => {
    const dir = tempDir();
    const users = (args: string[], input?: string) =>
      runCli(['users', ...args, '--data-dir', dir], input);

    const added = await users(['add', 'Alice'], 'a long enough password\n');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^added Alice /);
    expect(added.stdout + added.stderr).not.toContain('a long enough password');
    expect(await users(['add', 'alice'], 'another password\n')).toMatchObject({ code: 1 });
    expect((await users(['add', 'bob'], 'short\n')).code).toBe(1);
    expect((await users(['add', 'bob'], 'x'.repeat(2000))).code).toBe(1);
    expect(await users(['add', 'bob'], 'bobs password')).toMatchObject({ code: 0 });
    expect(await users(['list'])).toMatchObject({ code: 0, stdout: 'Alice\nbob\n' });

    const stored = await withSqlite(dir, async (s) => (await s.getUser('alice'))!);
    expect(stored.hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(stored.hash).not.toContain('a long enough password');

    expect(await users(['passwd', 'alice'], 'a new long password\n')).toMatchObject({ code: 0 });
    const changed = await withSqlite(dir, async (s) => (await s.getUser('alice'))!);
    expect(changed.epoch).not.toBe(stored.epoch);
    expect((await users(['passwd', 'nobody'], 'whatever password')).code).toBe(1);

    expect(await users(['remove', 'ALICE'])).toMatchObject({ code: 0, stdout: 'removed Alice\n' });
    expect((await users(['remove', 'alice'])).code).toBe(1);
    expect(await users(['list'])).toMatchObject({ code: 0, stdout: 'bob\n' });
  }, 90_000);

  it('takes a piped password as one line or the same line twice, never with its line breaks', async () => {
    const dir = tempDir();
    const users = (args: string[], input?: string) =>
      runCli(['users', ...args, '--data-dir', dir], input);
    // What the prompt asks for, piped: the password, then the same again.
    const twice = await users(['add', 'carol'], 'carols password\ncarols password\n');
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain(`${'carols password'.length} characters`);
    expect(twice.stdout + twice.stderr).not.toContain('carols password');
    const once = await users(['add', 'dave'], 'daves password\r\n');
    expect(once.code).toBe(0);
    // Two different lines, or more than two, are refused and nothing is stored.
    expect((await users(['add', 'erin'], 'erins password\nsomething else\n')).code).toBe(1);
    expect((await users(['add', 'erin'], 'pw one\npw one\npw one\n')).code).toBe(1);
    expect((await users(['list'])).stdout).toBe('carol\ndave\n');

    ts = await startWithData(['--auth', 'password'], dir);
    await signIn(ts, 'carol', 'carols password');
    await signIn(ts, 'dave', 'daves password');
    const wrong = await attemptLogin(ts, {
      type: 'login',
      name: 'carol',
      password: 'carols password\ncarols password',
      protocol: 1,
    });
    expect(wrong.reply).toMatchObject({ success: false, code: 'invalid_credentials' });
  }, 90_000);

  it('refuses bad usage with exit code 2', async () => {
    for (const args of [
      ['users'],
      ['users', 'frobnicate'],
      ['users', 'add'],
      ['users', 'add', '--data-dir', 'x'],
      ['users', 'add', 'a/b'],
    ]) {
      expect((await runCli(args)).code, args.join(' ')).toBe(2);
    }
  }, 60_000);

  it('changes take effect on a running server: a new password or a removal ends the sessions', async () => {
    const dir = tempDir();
    ts = await startWithData(['--auth', 'password', '--user-check-interval-ms', '100'], dir);
    expect(
      (await runCli(['users', 'add', 'dana', '--data-dir', dir], 'dana password 1\n')).code,
    ).toBe(0);
    const first = await signIn(ts, 'dana', 'dana password 1');
    expect(
      (await runCli(['users', 'passwd', 'dana', '--data-dir', dir], 'dana password 2\n')).code,
    ).toBe(0);
    expect(await first.client.closed).toBe(4001);
    expect(
      (
        await attemptLogin(ts, {
          type: 'login',
          name: 'dana',
          password: 'dana password 1',
          protocol: 1,
        })
      ).reply,
    ).toMatchObject({
      code: 'invalid_credentials',
    });
    const second = await signIn(ts, 'dana', 'dana password 2');
    expect((await runCli(['users', 'remove', 'dana', '--data-dir', dir])).code).toBe(0);
    expect(await second.client.closed).toBe(4001);
  });
});

describe('callwire users with --store redis', () => {
  const redis = new RedisServer();
  beforeAll(() => redis.start());
  afterAll(() => redis.stop());

  it('keeps accounts in Redis, where a server with --store redis finds them', async () => {
    const flags = ['--store', 'redis', '--redis', redis.url];
    expect((await runCli(['users', 'add', 'erin', ...flags], 'erins password\n')).code).toBe(0);
    expect(await runCli(['users', 'list', ...flags])).toMatchObject({ code: 0, stdout: 'erin\n' });
    ts = await startWithData(['--auth', 'password', ...flags]);
    await signIn(ts, 'erin', 'erins password');
    expect((await runCli(['users', 'list', '--store', 'redis'])).code).toBe(2); // --redis missing
  });

  it('fails (exit 1) when the store cannot be reached', async () => {
    const r = await runCli([
      'users',
      'list',
      '--store',
      'redis',
      '--redis',
      'unix:///tmp/callwire-nothing-here.sock',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unavailable/);
  });
});
