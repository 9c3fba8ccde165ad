// Call records as users see them: their history over the HTTP API, the path they reported,
// and the calls they missed while away, listed at their next login.
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestClient, TestServer } from './support.js';
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

const PW = { alice: 'alice-password', bob: 'bob-password', carol: 'carol-password' } as const;
type Who = keyof typeof PW;

let ts: AccountServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  removeTempDirs();
});

async function server(extra: string[] = []): Promise<AccountServer> {
  const dataDir = tempDir();
  await withSqlite(dataDir, async (store) => {
    for (const [name, pw] of Object.entries(PW)) await addAccount(store, name, pw);
  });
  ts = await startWithData(['--auth', 'password', ...extra], dataDir);
  return ts;
}

interface User {
  readonly client: TestClient;
  readonly token: string;
  readonly missed: unknown[];
}

async function user(ts: TestServer, name: Who): Promise<User> {
  const { client, reply } = await signIn(ts, name, PW[name]);
  return { client, token: reply.sessionToken as string, missed: reply.missed as unknown[] };
}

interface CallPage {
  calls: Array<
    Record<string, unknown> & {
      id: string;
      path: unknown;
      missed: boolean;
      reason: string;
      direction: string;
    }
  >;
  next?: string;
}

async function history(
  ts: TestServer,
  token: string | undefined,
  query = '',
): Promise<{ status: number; body: CallPage; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${ts.port}/api/calls${query}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as CallPage, headers: res.headers };
}

/** a calls b, b accepts; resolves with the callId. */
async function callAccepted(a: TestClient, b: TestClient, bName: string): Promise<string> {
  a.send({ type: 'call', to: bName });
  const { callId } = await a.next('ringing');
  await b.next('incoming');
  b.send({ type: 'accept', callId });
  await a.next('accepted');
  await b.next('accepted');
  return callId as string;
}

describe('call history', () => {
  it('records a connected call for both parties, with the path they reported', async () => {
    const ts = await server();
    const alice = await user(ts, 'alice');
    const bob = await user(ts, 'bob');
    const callId = await callAccepted(alice.client, bob.client, 'bob');
    bob.client.send({ type: 'report', callId, path: 'direct' });
    alice.client.send({ type: 'report', callId, path: 'relay' });
    await alice.client.settle();
    alice.client.send({ type: 'hangup', callId });
    await bob.client.next('leave');
    await until(async () => (await history(ts, alice.token)).body.calls.length === 1);
    const mine = (await history(ts, alice.token)).body;
    expect(mine).toEqual({
      calls: [
        {
          id: callId,
          peer: 'bob',
          direction: 'outgoing',
          startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          answeredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          endedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          durationMs: expect.any(Number),
          reason: 'hangup',
          missed: false,
          path: 'relay', // one side went through TURN, so the call did
          video: true,
        },
      ],
    });
    const theirs = (await history(ts, bob.token)).body.calls[0];
    expect(theirs).toMatchObject({
      id: callId,
      peer: 'alice',
      direction: 'incoming',
      reason: 'hangup',
    });
  });

  it("records a path reported after the call ended, and refuses a report for someone else's call", async () => {
    const ts = await server();
    const alice = await user(ts, 'alice');
    const bob = await user(ts, 'bob');
    const carol = await user(ts, 'carol');
    const callId = await callAccepted(alice.client, bob.client, 'bob');
    bob.client.send({ type: 'hangup', callId });
    await alice.client.next('leave');
    await until(async () => (await history(ts, bob.token)).body.calls.length === 1);
    bob.client.send({ type: 'report', callId, path: 'relay' });
    await until(async () => (await history(ts, bob.token)).body.calls[0]?.path === 'relay');
    carol.client.send({ type: 'report', callId, path: 'direct', ref: 'nosy' });
    expect(await carol.client.next('error')).toMatchObject({
      code: 'not_in_call',
      ref: 'nosy',
      callId,
    });
    carol.client.send({ type: 'report', callId: 'no-such-call', path: 'direct' });
    expect(await carol.client.next('error')).toMatchObject({ code: 'not_in_call' });
    expect((await history(ts, bob.token)).body.calls[0]?.path).toBe('relay');
  });

  it('pages a history newest first with ?limit= and ?before=', async () => {
    const ts = await server();
    const alice = await user(ts, 'alice');
    const bob = await user(ts, 'bob');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const callId = await callAccepted(alice.client, bob.client, 'bob');
      ids.push(callId);
      alice.client.send({ type: 'hangup', callId });
      await bob.client.next('leave');
      await alice.client.next('leave');
      // History is ordered by the end time in milliseconds (ties by call id): a quiet server
      // can run a whole call within one, so let each call end in a later one.
      await new Promise((r) => setTimeout(r, 3));
    }
    await until(async () => (await history(ts, bob.token, '?limit=100')).body.calls.length === 5);
    const seen: string[] = [];
    let query = '?limit=2';
    const pages: number[] = [];
    for (;;) {
      const { body } = await history(ts, bob.token, query);
      pages.push(body.calls.length);
      seen.push(...body.calls.map((c) => c.id));
      if (body.next === undefined) break;
      query = `?limit=2&before=${encodeURIComponent(body.next)}`;
    }
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual([...ids].reverse());
  });

  it('answers 401 without a valid token, 400 for bad paging, and stops a removed account at once', async () => {
    const ts = await server();
    const alice = await user(ts, 'alice');
    const none = await history(ts, undefined);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await history(ts, 'not.a.token')).status).toBe(401);
    // A token signed with some other key, even with the right claims, is not ours.
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setAudience('callwire:api')
      .setIssuer('callwire')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('x'.repeat(43)));
    expect((await history(ts, forged)).status).toBe(401);
    for (const q of ['?limit=0', '?limit=101', '?limit=abc', '?before=nope', '?limit=1&limit=2']) {
      expect((await history(ts, alice.token, q)).status, q).toBe(400);
    }
    expect((await history(ts, alice.token)).status).toBe(200);
    expect((await history(ts, alice.token)).headers.get('cache-control')).toBe('no-store');
    await withSqlite(ts.dataDir, (s) => s.removeUser('alice'));
    expect((await history(ts, alice.token)).status).toBe(401);
  });

  it('hands out no tokens and no history in open mode', async () => {
    ts = await startWithData([]);
    const { reply } = await attemptLogin(ts, { type: 'login', name: 'alice', protocol: 1 });
    expect(reply.success).toBe(true);
    expect(reply).not.toHaveProperty('sessionToken');
    expect(reply).not.toHaveProperty('missed');
    expect((await history(ts, 'anything')).status).toBe(401);
  });
});

describe('missed calls', () => {
  it('lists calls missed while away at the next login, once, newest first', async () => {
    const ts = await server();
    const alice = await user(ts, 'alice');
    const carol = await user(ts, 'carol');
    alice.client.send({ type: 'call', to: 'bob', media: { audio: true, video: false } });
    expect(await alice.client.next('leave')).toMatchObject({ reason: 'unavailable' });
    // Missed calls are ordered by the millisecond they ended (ties by call id): let
    // carol's call come in a later one, or "newest first" is a coin toss on a quiet server.
    await new Promise((r) => setTimeout(r, 3));
    carol.client.send({ type: 'call', to: 'Bob' });
    expect(await carol.client.next('leave')).toMatchObject({ reason: 'unavailable' });
    // A name that is no account: the same answer for the caller, and nothing is kept.
    alice.client.send({ type: 'call', to: 'nobody-at-all' });
    expect(await alice.client.next('leave')).toMatchObject({ reason: 'unavailable' });
    await until(async () => (await history(ts, carol.token)).body.calls.length === 1);
    await until(async () => (await history(ts, alice.token)).body.calls.length >= 1);

    const bob = await user(ts, 'bob');
    expect(bob.missed).toEqual([
      { callId: expect.any(String), from: 'carol', at: expect.stringMatching(/Z$/), video: true },
      { callId: expect.any(String), from: 'alice', at: expect.stringMatching(/Z$/), video: false },
    ]);
    const bobs = (await history(ts, bob.token)).body.calls;
    expect(bobs.map((c) => [c.direction, c.missed, c.reason])).toEqual([
      ['incoming', true, 'unavailable'],
      ['incoming', true, 'unavailable'],
    ]);
    expect((await history(ts, alice.token)).body.calls).toHaveLength(1);

    bob.client.close();
    await until(() => ts.server.ctx.hub.get('bob') === undefined);
    await until(
      async () => (await withSqlite(ts.dataDir, (s) => s.pendingMissed('bob', 10))).length === 0,
    );
    expect((await user(ts, 'bob')).missed).toEqual([]);
  });

  it('lists a call that found the callee busy, but not one that rang them live', async () => {
    const ts = await server(['--ring-timeout-ms', '300']);
    const alice = await user(ts, 'alice');
    const bob = await user(ts, 'bob');
    const carol = await user(ts, 'carol');
    // Rung live and not answered: bob saw it (leave with missed), nothing to tell him later.
    alice.client.send({ type: 'call', to: 'bob' });
    await alice.client.next('ringing');
    await bob.client.next('incoming');
    expect(await bob.client.next('leave')).toMatchObject({ missed: true });
    expect(await alice.client.next('leave')).toMatchObject({ reason: 'no_answer' });
    // Busy: bob never heard of carol's call.
    const callId = await callAccepted(alice.client, bob.client, 'bob');
    carol.client.send({ type: 'call', to: 'bob' });
    expect(await carol.client.next('leave')).toMatchObject({ reason: 'busy' });
    alice.client.send({ type: 'hangup', callId });
    await bob.client.next('leave');
    await until(async () => (await history(ts, bob.token)).body.calls.length === 3);
    bob.client.close();
    await until(() => ts.server.ctx.hub.get('bob') === undefined);
    const again = await user(ts, 'bob');
    expect(again.missed).toEqual([
      { callId: expect.any(String), from: 'carol', at: expect.any(String), video: true },
    ]);
  });

  it('works the same with jwt accounts', async () => {
    const secret = 'another-test-secret-of-32-bytes-or-more';
    ts = await startWithData(['--auth', 'jwt', '--jwt-secret', secret]);
    const token = (sub: string) =>
      new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 600 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret));
    const alice = await attemptLogin(ts, {
      type: 'login',
      name: 'alice',
      token: await token('alice'),
      protocol: 1,
    });
    alice.client.send({ type: 'call', to: 'dora' });
    await alice.client.next('leave');
    await until(
      async () => (await history(ts!, alice.reply.sessionToken as string)).body.calls.length === 1,
    );
    const dora = await attemptLogin(ts, {
      type: 'login',
      name: 'dora',
      token: await token('dora'),
      protocol: 1,
    });
    expect(dora.reply.missed).toEqual([expect.objectContaining({ from: 'alice' })]);
  });
});
