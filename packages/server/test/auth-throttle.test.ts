// Failed logins are throttled where they come from: per (account, client network) and per
// client network. Somebody failing on purpose for alice cannot lock alice out, and a storm of
// password logins does not delay anyone who is already signed in.
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, type Msg } from './support.js';
import {
  addAccount,
  removeTempDirs,
  startWithData,
  tempDir,
  withSqlite,
  type AccountServer,
} from './auth-support.js';

const ALICE_PW = 'correct horse battery staple';
const BOB_PW = 'bob-has-a-password';

let ts: AccountServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
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
  // These tests try many logins on one socket, each an argon2 hash: on a busy machine that can
  // take longer than the 10 s login deadline, which is not what they are about.
  ts = await startWithData(['--auth', 'password', '--login-timeout-ms', '300000', ...extra], dataDir);
  return ts;
}

/** A client connecting from a loopback address of its own (all of 127/8 is this machine). */
async function from(
  server: AccountServer,
  address: string,
  headers: Record<string, string> = {},
): Promise<TestClient> {
  const c = new TestClient(server.url('/'), { localAddress: address, headers });
  await c.opened;
  clients.push(c);
  return c;
}

async function login(c: TestClient, name: string, password: string): Promise<Msg> {
  c.send({ type: 'login', name, password, protocol: 1 });
  return c.next('login', 30_000);
}

describe('login throttling', () => {
  it("does not let a third party's failures refuse the owner from another address", async () => {
    // A long delay, so the attacker's address stays locked for the whole test.
    const server = await passwordServer(['--login-throttle-ms', '60000']);
    const attacker = await from(server, '127.0.0.1');
    const codes: string[] = [];
    for (let i = 0; i < 8; i++)
      codes.push((await login(attacker, 'alice', `guess-${i}`)).code as string);
    expect(codes).toEqual([
      ...Array(5).fill('invalid_credentials'),
      ...Array(3).fill('rate_limited'),
    ]);
    // The attacker's address is held back for alice, even with the right password...
    expect(await login(attacker, 'alice', ALICE_PW)).toMatchObject({
      success: false,
      code: 'rate_limited',
    });
    // ...but alice, from an address with no failures, signs in.
    const owner = await from(server, '127.0.0.2');
    expect(await login(owner, 'alice', ALICE_PW)).toMatchObject({ success: true, name: 'Alice' });
  }, 60_000);

  it('throttles the client behind a trusted proxy, not the proxy: the owner signs in through it', async () => {
    const server = await passwordServer([
      '--login-throttle-ms',
      '60000',
      '--trusted-proxies',
      '127.0.0.1',
    ]);
    const attacker = await from(server, '127.0.0.1', { 'x-forwarded-for': '203.0.113.66' });
    const codes: string[] = [];
    for (let i = 0; i < 7; i++)
      codes.push((await login(attacker, 'alice', `guess-${i}`)).code as string);
    expect(codes).toEqual([...Array(5).fill('invalid_credentials'), ...Array(2).fill('rate_limited')]);
    // The same proxy, another client: before trusted proxies both were 127.0.0.1, and alice
    // was refused with rate_limited.
    const owner = await from(server, '127.0.0.1', { forwarded: 'for=198.51.100.20' });
    expect(await login(owner, 'alice', ALICE_PW)).toMatchObject({ success: true, name: 'Alice' });
    // A client that is not a trusted proxy cannot pick its address with the header.
    const liar = await from(server, '127.0.0.9', { 'x-forwarded-for': '198.51.100.21' });
    for (let i = 0; i < 5; i++) await login(liar, 'bob', `guess-${i}`);
    const honest = await from(server, '127.0.0.1', { 'x-forwarded-for': '198.51.100.21' });
    expect(await login(honest, 'bob', BOB_PW)).toMatchObject({ success: true, name: 'Bob' });
    expect(await login(await from(server, '127.0.0.9'), 'bob', BOB_PW)).toMatchObject({
      success: false,
      code: 'rate_limited',
    });
  }, 60_000);

  it('holds back an address that fails across many accounts, and only that address', async () => {
    const server = await passwordServer(['--login-throttle-ms', '60000']);
    const sprayer = await from(server, '127.0.0.3');
    const codes: string[] = [];
    for (let i = 0; i < 32; i++)
      codes.push((await login(sprayer, `user-${i}`, 'Winter2026!')).code as string);
    expect(codes.slice(0, 30)).toEqual(Array(30).fill('invalid_credentials'));
    expect(codes.slice(30)).toEqual(['rate_limited', 'rate_limited']);
    expect(await login(sprayer, 'bob', BOB_PW)).toMatchObject({
      success: false,
      code: 'rate_limited',
    });
    const bob = await from(server, '127.0.0.4');
    expect(await login(bob, 'bob', BOB_PW)).toMatchObject({ success: true, name: 'Bob' });
  }, 120_000);

  it('only slows the owner, by a capped delay, when failures for the account come from everywhere', async () => {
    const server = await passwordServer(['--login-throttle-ms', '60000']);
    // 12 addresses, 4 failures each: under the per-address limits, 48 for the account.
    const addresses = Array.from({ length: 12 }, (_, i) => `127.0.1.${i + 1}`);
    const results = await Promise.all(
      addresses.map(async (address) => {
        const c = await from(server, address);
        const codes: string[] = [];
        for (let i = 0; i < 4; i++)
          codes.push((await login(c, 'alice', `guess-${i}`)).code as string);
        return codes;
      }),
    );
    expect(new Set(results.flat())).toEqual(new Set(['invalid_credentials']));
    const owner = await from(server, '127.0.0.5');
    const started = performance.now();
    expect(await login(owner, 'alice', ALICE_PW)).toMatchObject({ success: true, name: 'Alice' });
    const tookMs = performance.now() - started;
    console.log(`owner login after 48 failures from 12 addresses: ${tookMs.toFixed(0)} ms`);
    // The slowing is capped at 2 s; the rest is one argon2 hash on a busy machine.
    expect(tookMs).toBeLessThan(2_000 + 3_000);
  }, 120_000);
});
