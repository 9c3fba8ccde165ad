// The Redis store against a real redis-server started by this suite: the shared contract,
// plus an outage (the server killed and started again) that it must survive by itself.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/stores/redis-store.js';
import { storeContract } from './store-contract.js';
import { RedisServer } from './store-redis-server.js';

const redis = new RedisServer();
beforeAll(() => redis.start());
afterAll(() => redis.stop());

const open = async () => {
  const store = new RedisStore({ url: redis.url, retentionMs: 90 * 24 * 3600_000 });
  await store.open();
  return store;
};

storeContract('redis', async () => {
  const store = await open();
  return {
    store,
    dispose: async () => {
      await store.close();
      // Each test starts from an empty database.
      const admin = new Redis(redis.url);
      await admin.flushall();
      admin.disconnect();
    },
  };
});

describe('redis store outage', () => {
  it('fails fast while Redis is down and works again, by itself, once it is back', async () => {
    const store = await open();
    await store.addUser({ key: 'o', name: 'O', hash: '$argon2id$h', epoch: 'e', createdAtMs: 1 });
    await redis.stop();
    const t0 = Date.now();
    await expect(store.getUser('o')).rejects.toMatchObject({ name: 'StoreUnavailableError' });
    expect(Date.now() - t0).toBeLessThan(1000);
    await redis.start();
    // Nothing was persisted (--save ''), but the connection must come back without help.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        expect(await store.getUser('o')).toBeUndefined();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(
      await store.addUser({ key: 'o', name: 'O', hash: '$argon2id$h', epoch: 'e', createdAtMs: 1 }),
    ).toBe(true);
    await store.close();
  });

  it('reports the store unavailable when Redis is not there at start', async () => {
    const store = new RedisStore({
      url: 'unix:///tmp/callwire-no-such-redis.sock',
      retentionMs: 1000,
      connectTimeoutMs: 300,
    });
    await expect(store.open()).rejects.toMatchObject({ name: 'StoreUnavailableError' });
    await expect(store.getUser('a')).rejects.toMatchObject({ name: 'StoreUnavailableError' });
    await store.close();
  });
});
