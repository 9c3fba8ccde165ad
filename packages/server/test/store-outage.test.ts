// The account store goes away in the middle of things (Redis killed) and comes back: logins
// fail fast with service_unavailable, the call in progress carries on, and the server
// recovers by itself (logins work again, the call's record is written after all).
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/stores/redis-store.js';
import { candidate } from './support.js';
import {
  addAccount,
  attemptLogin,
  removeTempDirs,
  signIn,
  startWithData,
  tempDir,
  until,
  type AccountServer,
} from './auth-support.js';
import { RedisServer } from './store-redis-server.js';

let ts: AccountServer | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  await ts?.close();
  await redis?.stop();
  ts = undefined;
  redis = undefined;
  removeTempDirs();
});

describe('the store stopped and restarted mid-test', () => {
  it('fails logins fast, keeps the call going, and recovers by itself', async () => {
    redis = new RedisServer(tempDir());
    await redis.start();
    const setup = new RedisStore({ url: redis.url, retentionMs: 86_400_000 });
    await setup.open();
    for (const name of ['alice', 'bob', 'carol']) await addAccount(setup, name, `${name}-password`);
    await setup.close();
    ts = await startWithData([
      '--auth',
      'password',
      '--store',
      'redis',
      '--redis',
      redis.url,
      '--user-check-interval-ms',
      '100',
    ]);
    const alice = await signIn(ts, 'alice', 'alice-password');
    const bob = await signIn(ts, 'bob', 'bob-password');
    alice.client.send({ type: 'call', to: 'bob' });
    const { callId } = await alice.client.next('ringing');
    await bob.client.next('incoming');
    bob.client.send({ type: 'accept', callId });
    await alice.client.next('accepted');

    // Persist what is there (as a Redis with persistence would have), then pull the plug.
    const admin = new Redis(redis.url);
    await admin.save();
    admin.disconnect();
    await redis.stop();

    const t0 = performance.now();
    const refused = await attemptLogin(ts, {
      type: 'login',
      name: 'carol',
      password: 'carol-password',
      protocol: 1,
    });
    expect(refused.reply).toMatchObject({ success: false, code: 'service_unavailable' });
    expect(performance.now() - t0).toBeLessThan(1000);

    // The call does not need the store: it keeps relaying, and the sessions stay open while
    // the account checks cannot run.
    await new Promise((r) => setTimeout(r, 400));
    alice.client.send({ type: 'candidate', callId, candidate: candidate(1) });
    expect((await bob.client.next('candidate')).candidate).toEqual(candidate(1));
    alice.client.send({ type: 'hangup', callId });
    expect(await bob.client.next('leave')).toMatchObject({ reason: 'hangup' });
    await until(() => ts!.server.ctx.records.queued === 1);

    await redis.start();
    // No restart, no operator: the next logins just work once Redis is back.
    let reply = refused.reply;
    await until(async () => {
      reply = (
        await attemptLogin(ts!, {
          type: 'login',
          name: 'carol',
          password: 'carol-password',
          protocol: 1,
        })
      ).reply;
      return reply.success === true;
    }, 15_000);
    // The record that waited in memory is written.
    await until(async () => {
      const res = await fetch(`http://127.0.0.1:${ts!.port}/api/calls`, {
        headers: { authorization: `Bearer ${alice.reply.sessionToken as string}` },
      });
      return res.status === 200 && ((await res.json()) as { calls: unknown[] }).calls.length === 1;
    }, 15_000);
    expect(ts.server.ctx.records.queued).toBe(0);
    await alice.client.settle();
    expect(alice.client.closeCode).toBeUndefined();
  });
});
