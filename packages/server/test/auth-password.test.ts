// --auth password against a real SQLite store and real argon2id: what a user signing in, and
// somebody guessing, each notice.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, type Msg } from './support.js';
import {
  addAccount,
  attemptLogin,
  removeTempDirs,
  signIn,
  startWithData,
  tempDir,
  until,
  withSqlite,
  type AccountServer,
} from './auth-support.js';

const ALICE_PW = 'correct horse battery staple';
const BOB_PW = 'bob-has-a-password';

let ts: AccountServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  removeTempDirs();
});

async function passwordServer(extra: string[] = []): Promise<AccountServer> {
  const dataDir = tempDir();
  await withSqlite(dataDir, async (store) => {
    await addAccount(store, 'Alice', ALICE_PW);
    await addAccount(store, 'Bob', BOB_PW);
  });
  ts = await startWithData(['--auth', 'password', ...extra], dataDir);
  return ts;
}

const loginMsg = (name: string, password: string) => ({
  type: 'login',
  name,
  password,
  protocol: 1,
});

describe('password login', () => {
  it('signs in with the right password; the native reply carries an API token and no missed calls', async () => {
    const ts = await passwordServer();
    const { reply } = await signIn(ts, 'alice', ALICE_PW);
    // The account's own spelling of the name, whatever case was typed.
    expect(reply).toMatchObject({ success: true, name: 'Alice', missed: [] });
    expect(reply.sessionToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(reply).not.toHaveProperty('password');
  });

  it('answers a wrong password and an unknown name identically, in about the same time', async () => {
    const ts = await passwordServer();
    const strip = (m: Msg) => ({ ...m });
    const wrong: Msg[] = [];
    const unknown: Msg[] = [];
    const wrongMs: number[] = [];
    const unknownMs: number[] = [];
    // Alternate, so drift in the machine's load hits both alike; 5 wrong passwords is as many
    // as one account gets before it is throttled. The unknown name is one name tried 5 times,
    // like alice: failures slow later attempts on the same name (known or not) alike.
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      wrong.push(strip((await attemptLogin(ts, loginMsg('alice', `nope-${i}`))).reply));
      wrongMs.push(performance.now() - t);
      t = performance.now();
      unknown.push(strip((await attemptLogin(ts, loginMsg('ghost', `nope-${i}`))).reply));
      unknownMs.push(performance.now() - t);
    }
    for (const r of [...wrong, ...unknown]) expect(r).toEqual(wrong[0]);
    expect(wrong[0]).toMatchObject({ type: 'login', success: false, code: 'invalid_credentials' });
    // The fastest of each: the machine's noise (and the first logins' warm-up) only ever adds
    // time, so the minimum is the cost of the work itself.
    const ratio = Math.min(...unknownMs) / Math.min(...wrongMs);
    // Both run one argon2id verification: the unknown name against a dummy hash.
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it("accepts the tutorial's own login message with a password, and answers it in the tutorial's words", async () => {
    const ts = await passwordServer();
    const ok = await attemptLogin(ts, { type: 'login', name: 'bob', password: BOB_PW });
    expect(ok.reply).toEqual({ type: 'login', success: true, name: 'Bob' });
    const bad = await attemptLogin(ts, { type: 'login', name: 'alice', password: 'guess' });
    expect(bad.reply).toMatchObject({ type: 'login', success: false, code: 'invalid_credentials' });
    // A tutorial page that sends no password at all is refused the same way.
    const none = await attemptLogin(ts, { type: 'login', name: 'alice' });
    expect(none.reply).toMatchObject({ success: false, code: 'invalid_credentials' });
  });

  it('signs in one2one clients that send a password with register', async () => {
    const ts = await passwordServer();
    const ok = await attemptLogin(
      ts,
      { id: 'register', name: 'alice', password: ALICE_PW },
      '/call',
    );
    expect(ok.reply).toEqual({ id: 'registerResponse', response: 'accepted' });
    const bad = await attemptLogin(
      ts,
      { id: 'register', name: 'bob', password: ALICE_PW },
      '/call',
    );
    expect(bad.reply).toMatchObject({
      id: 'registerResponse',
      response: 'rejected',
      code: 'invalid_credentials',
    });
  });

  it('refuses a one2one list before register (not_logged_in): with accounts, only users list', async () => {
    const ts = await passwordServer();
    await signIn(ts, 'alice', ALICE_PW);
    const early = await TestClient.open(ts.url('/call'));
    early.send({ id: 'list' });
    expect((await early.next('error')).code).toBe('not_logged_in');
    early.send({ id: 'ping' });
    await early.next('pong');
    expect(early.pending('listResponse')).toEqual([]);
    early.close();
  });

  it('throttles 20 wrong passwords, then lets the right one in once the delay has passed', async () => {
    const ts = await passwordServer(['--login-throttle-ms', '400']);
    const c = await TestClient.open(ts.url('/'));
    const codes: string[] = [];
    let last: Msg | undefined;
    for (let i = 0; i < 20; i++) {
      c.send(loginMsg('alice', `wrong-${i}`));
      last = await c.next('login');
      codes.push(last.code as string);
    }
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('invalid_credentials'));
    expect(codes.slice(5)).toEqual(Array(15).fill('rate_limited'));
    expect(last!.retryAfterMs).toBeGreaterThan(0);
    expect(last!.retryAfterMs).toBeLessThanOrEqual(400);
    // During the delay even the right password waits: that is what makes guessing slow.
    c.send(loginMsg('alice', ALICE_PW));
    const early = await c.next('login');
    expect(early).toMatchObject({ success: false, code: 'rate_limited' });
    // Another account from the same address is not affected.
    await signIn(ts, 'bob', BOB_PW);
    await new Promise((r) => setTimeout(r, (early.retryAfterMs as number) + 20));
    c.send(loginMsg('alice', ALICE_PW));
    expect(await c.next('login')).toMatchObject({ success: true, name: 'Alice' });
  });

  it('doubles the delay with each further failure', async () => {
    const ts = await passwordServer(['--login-throttle-ms', '100']);
    const c = await TestClient.open(ts.url('/'));
    const delays: number[] = [];
    for (let failures = 0; failures < 8;) {
      c.send(loginMsg('alice', 'wrong'));
      const r = await c.next('login');
      if (r.code === 'invalid_credentials') {
        failures++;
        continue;
      }
      delays.push(r.retryAfterMs as number);
      await new Promise((res) => setTimeout(res, (r.retryAfterMs as number) + 10));
    }
    // Failures 5, 6, 7 each set a delay of 100, 200, 400 ms (seen just after they were set).
    expect(delays.length).toBe(3);
    expect(delays[1]! / delays[0]!).toBeGreaterThan(1.5);
    expect(delays[2]! / delays[1]!).toBeGreaterThan(1.5);
  });

  it('refuses a 1 MB password without hashing it', async () => {
    // At the default frame limit a 1 MB login does not even get in: the socket closes (1009).
    let ts = await passwordServer();
    const c = await TestClient.open(ts.url('/'));
    c.send(loginMsg('alice', 'x'.repeat(1024 * 1024)));
    expect(await c.closed).toBe(1009);
    await ts.close();

    // With frames that large allowed, the schema refuses it (passwords are at most 1,024).
    ts = await passwordServer(['--max-frame-bytes', String(2 * 1024 * 1024)]);
    const big = await TestClient.open(ts.url('/'));
    big.send({ ...loginMsg('alice', 'x'.repeat(1024 * 1024)), ref: 'huge' });
    expect(await big.next('error')).toMatchObject({ code: 'bad_message', ref: 'huge' });
    expect(big.pending('login')).toEqual([]);

    // 1,024 characters but more than 1,024 bytes: refused before hashing, like a wrong password.
    const t1 = performance.now();
    const wide = await attemptLogin(ts, loginMsg('alice', '€'.repeat(1000)));
    const wideMs = performance.now() - t1;
    expect(wide.reply).toMatchObject({ success: false, code: 'invalid_credentials' });
    const t2 = performance.now();
    await attemptLogin(ts, loginMsg('alice', 'an ordinary wrong one'));
    const hashedMs = performance.now() - t2;
    expect(wideMs).toBeLessThan(hashedMs);
  });

  it('stores argon2id PHC strings with the configured parameters, never the password', async () => {
    const ts = await passwordServer();
    await signIn(ts, 'alice', ALICE_PW); // and the server has the file open meanwhile
    const db = new Database(join(ts.dataDir, 'callwire.db'), { readonly: true });
    const rows = db.prepare('SELECT name, hash FROM users ORDER BY key').all() as Array<{
      name: string;
      hash: string;
    }>;
    db.close();
    expect(rows.map((r) => r.name)).toEqual(['Alice', 'Bob']);
    for (const { hash } of rows) {
      expect(hash).toMatch(/^\$argon2id\$v=19\$[a-z0-9=,]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
      expect(hash.split('$')[3]!.split(',').sort()).toEqual(['m=19456', 'p=1', 't=2']);
    }
    for (const file of readdirSync(ts.dataDir).filter((f) => f.startsWith('callwire.db'))) {
      const bytes = readFileSync(join(ts.dataDir, file));
      expect(bytes.includes(Buffer.from(ALICE_PW)), file).toBe(false);
      expect(bytes.includes(Buffer.from(BOB_PW)), file).toBe(false);
    }
  });

  it('upgrades a hash made with weaker parameters at the next successful login', async () => {
    const dataDir = tempDir();
    await withSqlite(dataDir, (s) =>
      addAccount(s, 'carol', 'carol-password', { memoryCost: 4096, timeCost: 1, parallelism: 1 }),
    );
    ts = await startWithData(['--auth', 'password'], dataDir);
    const before = await withSqlite(dataDir, async (s) => (await s.getUser('carol'))!);
    expect(before.hash).toContain('m=4096');
    await signIn(ts, 'carol', 'carol-password');
    await until(async () =>
      (await withSqlite(dataDir, async (s) => (await s.getUser('carol'))!.hash)).includes(
        'm=19456',
      ),
    );
    const after = await withSqlite(dataDir, async (s) => (await s.getUser('carol'))!);
    expect(after.epoch).toBe(before.epoch); // a rehash is not a password change
    expect(after.hash).toMatch(/t=2/);
    // And the new hash still opens the door.
    ts.server.ctx.hub.get('carol')?.close(1000);
    await until(() => ts!.server.ctx.hub.get('carol') === undefined);
    await signIn(ts, 'carol', 'carol-password');
  });
});

describe('while a login is being checked', () => {
  it('accepts only login and ping before login, and refuses a second login', async () => {
    const ts = await passwordServer();
    const c = await TestClient.open(ts.url('/'));
    c.send({ ...loginMsg('alice', ALICE_PW), ref: 'first' });
    // These arrive while argon2 is still working on the first login.
    c.send({ type: 'call', to: 'bob', ref: 'call' });
    c.send({ ...loginMsg('alice', ALICE_PW), ref: 'second' });
    c.send({ type: 'ping', ref: 'ping' });
    expect(await c.next((m) => m.ref === 'call')).toMatchObject({
      type: 'error',
      code: 'not_logged_in',
    });
    expect(await c.next((m) => m.ref === 'second')).toMatchObject({
      type: 'error',
      code: 'already_logged_in',
    });
    expect(await c.next((m) => m.ref === 'ping')).toMatchObject({ type: 'pong' });
    expect(await c.next((m) => m.ref === 'first')).toMatchObject({ type: 'login', success: true });
  });

  it('claims no name for a socket that closes mid-login', async () => {
    // One device per account, so that a claim left behind would show as name_taken.
    const ts = await passwordServer(['--max-devices', '1']);
    const quitter = await TestClient.open(ts.url('/'));
    quitter.send(loginMsg('alice', ALICE_PW));
    quitter.ws.terminate();
    await until(() => ts.server.gateway.size === 0);
    // The check the quitter started finishes before this one (hashes run first come, first
    // served), so if it had claimed the name this login would be name_taken.
    const { client } = await signIn(ts, 'alice', ALICE_PW);
    expect(ts.server.ctx.hub.get('alice')).toBeDefined();
    expect((await attemptLogin(ts, loginMsg('alice', ALICE_PW))).reply).toMatchObject({
      code: 'name_taken',
    });
    client.close();
  });
});

describe('accounts that change while signed in', () => {
  it('closes the sessions of a removed account, and of one whose password was set, with 4001', async () => {
    const ts = await passwordServer(['--user-check-interval-ms', '100']);
    const alice = (await signIn(ts, 'alice', ALICE_PW)).client;
    const bob = (await signIn(ts, 'bob', BOB_PW)).client;
    await withSqlite(ts.dataDir, (s) => s.removeUser('alice'));
    expect(await alice.closed).toBe(4001);
    await bob.settle();
    expect(bob.closeCode).toBeUndefined();
    await withSqlite(ts.dataDir, async (s) => {
      await s.setPassword('bob', (await s.getUser('bob'))!.hash, 'a-new-epoch');
    });
    expect(await bob.closed).toBe(4001);
    expect((await attemptLogin(ts, loginMsg('alice', ALICE_PW))).reply).toMatchObject({
      code: 'invalid_credentials',
    });
  });
});

describe('signing in again with a session token', () => {
  it("takes the account's own token in place of the password, and no longer once the password changed", async () => {
    const ts = await passwordServer();
    const first = await signIn(ts, 'alice', ALICE_PW);
    const token = first.reply.sessionToken as string;
    first.client.close();
    await first.client.closed;

    const again = await attemptLogin(ts, { type: 'login', name: 'alice', token, protocol: 1 });
    expect(again.reply).toMatchObject({ success: true, name: 'Alice' });
    // A fresh token comes with it, so a page that signs in this way keeps one.
    expect(again.reply.sessionToken).toEqual(expect.any(String));
    again.client.close();
    await again.client.closed;

    // A token is not a pass for another name, nor is anything else that looks like one.
    expect((await attemptLogin(ts, { type: 'login', name: 'bob', token, protocol: 1 })).reply).toMatchObject({
      code: 'invalid_credentials',
    });
    expect((await attemptLogin(ts, { type: 'login', name: 'alice', token: `${token}x`, protocol: 1 })).reply).toMatchObject({
      code: 'invalid_credentials',
    });

    await withSqlite(ts.dataDir, async (s) => {
      await s.setPassword('alice', (await s.getUser('alice'))!.hash, 'a-new-epoch');
    });
    expect((await attemptLogin(ts, { type: 'login', name: 'alice', token, protocol: 1 })).reply).toMatchObject({
      code: 'invalid_credentials',
    });
  });
});

describe('accounts that change while a session resumes', () => {
  const resumable = async (ts: AccountServer, name: string, password: string) => {
    const { client, reply } = await attemptLogin(ts, { ...loginMsg(name, password), resume: true });
    expect(reply.success).toBe(true);
    return { client, token: reply.resumeToken as string };
  };
  const resumeWith = (ts: AccountServer, name: string, token: string) =>
    attemptLogin(ts, { type: 'login', name, protocol: 1, resumeToken: token });

  it('ends a removed account’s session that is away, so its resume token no longer works', async () => {
    const ts = await passwordServer(['--user-check-interval-ms', '100']);
    const alice = await resumable(ts, 'alice', ALICE_PW);
    const bob = (await signIn(ts, 'bob', BOB_PW)).client;
    alice.client.send({ type: 'call', to: 'bob' });
    const { callId } = await alice.client.next('ringing');
    await bob.next('incoming');
    bob.send({ type: 'accept', callId });
    await alice.client.next('accepted');
    alice.client.ws.terminate();
    await bob.next('reconnecting');
    await withSqlite(ts.dataDir, (s) => s.removeUser('alice'));
    // Not at the end of the grace period (20 s): as soon as the removal is noticed.
    expect(await bob.next('leave')).toMatchObject({ callId, reason: 'disconnected' });
    expect((await resumeWith(ts, 'alice', alice.token)).reply).toMatchObject({
      success: false,
      code: 'resume_failed',
    });
  });

  it('keeps guarding a session after it resumed', async () => {
    const ts = await passwordServer(['--user-check-interval-ms', '100']);
    const alice = await resumable(ts, 'alice', ALICE_PW);
    alice.client.ws.terminate();
    await until(() => ts.server.ctx.hub.get('alice')?.state === 'away');
    const back = await resumeWith(ts, 'alice', alice.token);
    expect(back.reply).toMatchObject({ success: true, resumed: true });
    await withSqlite(ts.dataDir, (s) => s.removeUser('alice'));
    expect(await back.client.closed).toBe(4001);
    await until(() => ts.server.ctx.hub.get('alice') === undefined);
  });
});

describe('a login storm', () => {
  it('is answered without stalling anyone else: hashing is bounded, the overflow refused at once', async () => {
    const ts = await passwordServer();
    const alice = (await signIn(ts, 'alice', ALICE_PW)).client;
    const stormers = await Promise.all(
      Array.from({ length: 100 }, () => TestClient.open(ts.url('/'))),
    );
    stormers.forEach((c, i) => c.send(loginMsg(`stormer-${i}`, 'whatever it is')));
    // While the storm is being hashed, a signed-in user's pings come straight back.
    const rtts: number[] = [];
    const replies = Promise.all(stormers.map((c) => c.next('login', 20_000)));
    let done = false;
    void replies.then(() => (done = true));
    while (!done) {
      const t = performance.now();
      await alice.settle();
      rtts.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
    const codes = (await replies).map((r) => r.code as string);
    expect(new Set(codes)).toEqual(new Set(['invalid_credentials', 'service_unavailable']));
    expect(codes.filter((c) => c === 'invalid_credentials').length).toBeGreaterThanOrEqual(60);
    expect(rtts.length).toBeGreaterThan(3);
    expect(Math.max(...rtts)).toBeLessThan(500);
    for (const c of stormers) c.close();
  }, 90_000);
});
