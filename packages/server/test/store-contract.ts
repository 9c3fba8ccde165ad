/**
 * What every store must do, run against each real engine (store-sqlite.test.ts,
 * store-redis.test.ts): the same expectations, so either can back a server.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord, Store, UserRecord } from '../src/stores/store.js';

export interface StoreFixture {
  readonly store: Store;
  /** Close and throw away everything it wrote. */
  dispose(): Promise<void>;
}

const user = (key: string, over: Partial<UserRecord> = {}): UserRecord => ({
  key,
  name: key.toUpperCase(),
  hash: `$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$${key}`,
  epoch: randomUUID(),
  createdAtMs: 1_700_000_000_000,
  ...over,
});

let seq = 0;
export const call = (
  callerKey: string,
  calleeKey: string,
  over: Partial<CallRecord> = {},
): CallRecord => {
  const endedAtMs = Date.now() - 3_600_000 + ++seq * 1000;
  return {
    id: randomUUID(),
    callerKey,
    callerName: callerKey.toUpperCase(),
    calleeKey,
    calleeName: calleeKey.toUpperCase(),
    startedAtMs: endedAtMs - 900,
    answeredAtMs: endedAtMs - 800,
    endedAtMs,
    callerReason: 'hangup',
    calleeReason: 'hangup',
    missed: false,
    missedPending: false,
    path: null,
    room: null,
    video: true,
    ...over,
  };
};

export function storeContract(label: string, make: () => Promise<StoreFixture>): void {
  describe(`${label} store contract`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await make();
      store = fx.store;
      return () => fx.dispose();
    });

    it('adds a user once, finds it by key, and refuses a second add', async () => {
      const alice = user('alice');
      expect(await store.addUser(alice)).toBe(true);
      expect(await store.addUser(user('alice'))).toBe(false);
      expect(await store.getUser('alice')).toEqual(alice);
      expect(await store.getUser('nobody')).toBeUndefined();
    });

    it('treats names that are object keys as ordinary keys', async () => {
      for (const key of ['__proto__', 'constructor', 'tostring', 'a b']) {
        expect(await store.addUser(user(key))).toBe(true);
        expect((await store.getUser(key))?.key).toBe(key);
      }
      expect(await store.getUser('hasownproperty')).toBeUndefined();
    });

    it('sets a password with a new epoch and moves the revision; removal moves it too', async () => {
      await store.addUser(user('bob'));
      const r0 = await store.usersRevision();
      expect(await store.setPassword('bob', '$argon2id$new', 'epoch-2')).toBe(true);
      expect(await store.getUser('bob')).toMatchObject({ hash: '$argon2id$new', epoch: 'epoch-2' });
      const r1 = await store.usersRevision();
      expect(r1).toBeGreaterThan(r0);
      expect(await store.setPassword('nobody', 'x', 'y')).toBe(false);
      expect(await store.removeUser('bob')).toBe(true);
      expect(await store.removeUser('bob')).toBe(false);
      expect(await store.getUser('bob')).toBeUndefined();
      expect(await store.usersRevision()).toBeGreaterThan(r1);
    });

    it('upgrades a hash only under the epoch it was read with', async () => {
      const carol = user('carol');
      await store.addUser(carol);
      expect(await store.upgradeHash('carol', carol.epoch, '$argon2id$stronger')).toBe(true);
      expect((await store.getUser('carol'))?.hash).toBe('$argon2id$stronger');
      await store.setPassword('carol', '$argon2id$changed', 'epoch-new');
      // A rehash computed from the old password must not undo the password change.
      expect(await store.upgradeHash('carol', carol.epoch, '$argon2id$stale')).toBe(false);
      expect((await store.getUser('carol'))?.hash).toBe('$argon2id$changed');
    });

    it('lists users by key, a page at a time', async () => {
      for (const k of ['d', 'b', 'a', 'c', 'e']) await store.addUser(user(k));
      const first = await store.listUsers(2);
      expect(first.map((u) => u.key)).toEqual(['a', 'b']);
      expect(first[0]).toMatchObject({ name: 'A' });
      expect((await store.listUsers(10, 'b')).map((u) => u.key)).toEqual(['c', 'd', 'e']);
    });

    it('keeps call records and pages a user history newest first, exact across equal end times', async () => {
      const t = Date.now() - 60_000;
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Pairs of calls end in the same millisecond: the cursor must still be exact.
        const r = call(i % 2 ? 'alice' : 'bob', i % 2 ? 'bob' : 'alice', {
          endedAtMs: t + Math.floor(i / 2),
        });
        ids.push(r.id);
        await store.addCall(r);
      }
      await store.addCall(call('carol', 'dave'));
      const seen: string[] = [];
      let page = await store.callsFor('alice', 3);
      while (page.length > 0) {
        seen.push(...page.map((r) => r.id));
        const last = page[page.length - 1]!;
        page = await store.callsFor('alice', 3, { endedAtMs: last.endedAtMs, id: last.id });
      }
      expect(seen).toHaveLength(7);
      expect(new Set(seen)).toEqual(new Set(ids));
      const all = await store.callsFor('alice', 100);
      const order = all.map((r) => [r.endedAtMs, r.id] as const);
      expect(order).toEqual([...order].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : -1)));
      expect(await store.callsFor('bob', 100)).toHaveLength(7);
      expect(await store.callsFor('nobody', 100)).toEqual([]);
    });

    it('round-trips every field of a record', async () => {
      const r = call('erin', 'frank', {
        answeredAtMs: null,
        callerReason: 'no_answer',
        calleeReason: 'cancelled',
        missed: true,
        missedPending: true,
        room: 'room-1',
        video: false,
      });
      await store.addCall(r);
      expect(await store.callsFor('erin', 10)).toEqual([r]);
    });

    it('lists missed calls until they are marked seen, and only the callee can mark them', async () => {
      const a = call('gina', 'hank', { missed: true, missedPending: true, answeredAtMs: null });
      const b = call('ivan', 'hank', { missed: true, missedPending: true, answeredAtMs: null });
      const seenLive = call('ivan', 'hank', {
        missed: true,
        missedPending: false,
        answeredAtMs: null,
      });
      for (const r of [a, b, seenLive]) await store.addCall(r);
      const pending = await store.pendingMissed('hank', 100);
      expect(pending.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
      expect(await store.pendingMissed('gina', 100)).toEqual([]);
      await store.markMissedSeen('gina', pending);
      expect(await store.pendingMissed('hank', 100)).toHaveLength(2);
      await store.markMissedSeen(
        'hank',
        pending.filter((r) => r.id === a.id),
      );
      expect((await store.pendingMissed('hank', 100)).map((r) => r.id)).toEqual([b.id]);
      expect((await store.callsFor('hank', 10)).find((r) => r.id === a.id)?.missedPending).toBe(
        false,
      );
    });

    it('records a reported path for a party only, and relay wins over direct', async () => {
      const r = call('judy', 'karl');
      await store.addCall(r);
      expect(await store.setCallPath(r.id, 'mallory', 'direct')).toBe(false);
      expect(await store.setCallPath('no-such-call', 'judy', 'direct')).toBe(false);
      expect(await store.setCallPath(r.id, 'judy', 'relay')).toBe(true);
      expect(await store.setCallPath(r.id, 'karl', 'direct')).toBe(true);
      expect((await store.callsFor('judy', 1))[0]?.path).toBe('relay');
    });

    it('keeps one restart state until it is taken, and none past its expiry', async () => {
      expect(await store.takeRestartState(Date.now())).toBeUndefined();
      await store.putRestartState('{"v":1}', Date.now() + 60_000);
      await store.putRestartState('{"v":2}', Date.now() + 60_000);
      expect(await store.takeRestartState(Date.now())).toBe('{"v":2}');
      expect(await store.takeRestartState(Date.now())).toBeUndefined();
      await store.putRestartState('{"v":3}', Date.now() + 50);
      await new Promise((r) => setTimeout(r, 120));
      expect(await store.takeRestartState(Date.now())).toBeUndefined();
    });

    it('does not store a record twice', async () => {
      const r = call('lena', 'mike');
      await store.addCall(r);
      await store.addCall(r);
      expect(await store.callsFor('lena', 10)).toHaveLength(1);
    });
  });
}
