// "Move call here" when a person's devices are on different cluster nodes (jwt mode, three
// in-process nodes, one Redis): the device that asks may be on another node than the device in
// the call, the peer, or the call's home. After each move the call goes on with the new device
// only (signals both ways, hang-up from either side), the device it left hears `moved`, the
// peer hears `restart`, and the person stays busy. A device of another account, a call still
// ringing, and a move that would need two copies of the call on one node get coded errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST, deviceLogin, until } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import {
  SDP_ANSWER,
  SDP_OFFER,
  candidate,
  startServer,
  type Msg,
  type TestClient,
  type TestServer,
} from './support.js';

const SECRET = 'cluster-move-secret-0123456789abcdef';
const AUTH = ['--auth', 'jwt', '--jwt-secret', SECRET, '--max-devices', '4'];

const clients: TestClient[] = [];

/** Device `dev` of `name`, signed in on `node`. */
async function device(node: TestServer, name: string, dev: string): Promise<TestClient> {
  const { c, reply } = await deviceLogin(node, SECRET, name, dev);
  clients.push(c);
  if (reply.success !== true) throw new Error(`login ${name}/${dev}: ${JSON.stringify(reply)}`);
  return c;
}

/** `caller` calls `name`; `answerer` (one of their devices) accepts. Resolves with the call id. */
async function connected(
  caller: TestClient,
  name: string,
  answerer: TestClient,
  others: TestClient[] = [],
) {
  caller.send({ type: 'call', to: name });
  const callId = (await caller.next('ringing')).callId as string;
  await answerer.next('incoming');
  answerer.send({ type: 'accept', callId });
  await answerer.next('accepted');
  await caller.next('accepted');
  for (const o of others) await o.next((m) => m.type === 'leave' && m.callId === callId);
  return callId;
}

/** The device that sees `callId` in its person's devices list (so "Move call here" is offered). */
async function seesCall(c: TestClient, callId: string): Promise<void> {
  await c.next(
    (m) =>
      m.type === 'devices' &&
      (m.devices as Msg[]).some((d) => (d.call as Msg | undefined)?.callId === callId),
    10_000,
  );
}

async function statusOf(viewer: TestClient, name: string): Promise<string | undefined> {
  const ref = `u${Math.random()}`;
  viewer.send({ type: 'users', ref });
  const users = (await viewer.next((m) => m.type === 'users' && m.ref === ref)).users as Msg[];
  return users.find((u) => u.name === name)?.status as string | undefined;
}

/** The call goes on between `x` and `y` (signals both ways), and nobody else hears of it. */
async function talking(
  x: TestClient,
  y: TestClient,
  callId: string,
  n: number,
  quiet: TestClient[],
) {
  x.send({ type: 'candidate', callId, candidate: candidate(n) });
  expect((await y.next('candidate')).candidate).toEqual(candidate(n));
  y.send({ type: 'candidate', callId, candidate: candidate(n + 1) });
  expect((await x.next('candidate')).candidate).toEqual(candidate(n + 1));
  for (const q of quiet) {
    await q.settle();
    expect(q.pending('candidate', 'offer', 'answer', 'accepted')).toEqual([]);
  }
}

let redis: RedisServer;
let a: TestServer;
let b: TestServer;
let c: TestServer;

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  const start = () => startServer(['--redis', redis.url, ...FAST, ...AUTH]);
  [a, b, c] = await Promise.all([start(), start(), start()]);
  await until(async () => {
    const r = await Promise.all(
      [a, b, c].map((n) => fetch(`http://127.0.0.1:${n.port}/readyz`).then((x) => x.status)),
    );
    return r.every((s) => s === 200);
  });
}, 30_000);

afterAll(async () => {
  for (const cl of clients) cl.close();
  await Promise.all([a?.close(), b?.close(), c?.close()]);
  await redis?.stop();
});

describe('moving a call to a device on another node', () => {
  it('from a device on the home node (with the peer) to one on another node', async () => {
    const laptop = await device(a, 'alice', 'laptop');
    const phone = await device(b, 'alice', 'phone');
    const bob = await device(a, 'bob', 'bob');
    const viewer = await device(c, 'vic', 'vic');
    bob.send({ type: 'call', to: 'alice' });
    const callId = (await bob.next('ringing')).callId as string;
    await laptop.next('incoming');
    // Still ringing: nothing to move yet (the phone rings too; it may answer instead).
    await phone.next('incoming');
    laptop.send({ type: 'accept', callId });
    await laptop.next('accepted');
    await bob.next('accepted');
    await phone.next('leave');
    await seesCall(phone, callId);

    // Someone else's device cannot take it.
    const carol = await device(b, 'carol', 'carol');
    carol.send({ type: 'move', callId, ref: 'not-mine' });
    expect(await carol.next('error')).toMatchObject({ code: 'not_in_call', ref: 'not-mine' });

    phone.send({ type: 'move', callId, ref: 'm' });
    expect(await phone.next('accepted')).toMatchObject({
      callId,
      name: 'bob',
      role: 'callee',
      ref: 'm',
    });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'moved' });
    expect(await bob.next('restart')).toEqual({ type: 'restart', callId, name: 'alice' });
    // The new device negotiates afresh with bob, across nodes.
    phone.send({ type: 'offer', callId, offer: SDP_OFFER });
    expect(await bob.next('offer')).toMatchObject({ callId, from: 'alice' });
    bob.send({ type: 'answer', callId, answer: SDP_ANSWER });
    expect(await phone.next('answer')).toMatchObject({ callId, answer: SDP_ANSWER });
    await talking(bob, phone, callId, 10, [laptop]);
    expect(await statusOf(viewer, 'alice')).toBe('busy');
    // The device it left is out of the call.
    laptop.send({ type: 'hangup', callId, ref: 'old' });
    expect(await laptop.next('error')).toMatchObject({ code: 'not_in_call', ref: 'old' });
    // Hanging up on the new device ends it for bob.
    phone.send({ type: 'hangup', callId });
    expect(await bob.next('leave')).toMatchObject({ callId, reason: 'hangup' });
    await until(async () => (await statusOf(viewer, 'alice')) === 'online');
  });

  it('to a device on the home node, from a device on another node', async () => {
    const laptop = await device(a, 'dora', 'laptop');
    const phone = await device(b, 'dora', 'phone');
    const bob = await device(b, 'ben', 'ben');
    // ben calls from node b: the call's home is b; dora answers on her laptop on node a.
    const callId = await connected(bob, 'dora', laptop, [phone]);
    await seesCall(phone, callId);
    phone.send({ type: 'move', callId, ref: 'm' });
    expect(await phone.next('accepted')).toMatchObject({
      callId,
      name: 'ben',
      role: 'callee',
      ref: 'm',
    });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'moved' });
    expect(await bob.next('restart')).toEqual({ type: 'restart', callId, name: 'dora' });
    await talking(bob, phone, callId, 20, [laptop]);
    bob.send({ type: 'hangup', callId });
    expect(await phone.next('leave')).toMatchObject({ callId, reason: 'hangup' });
  });

  it('across three nodes: the caller moves, the peer and the home stay where they are', async () => {
    const laptop = await device(a, 'erin', 'laptop');
    const phone = await device(b, 'erin', 'phone');
    const bob = await device(c, 'bert', 'bert');
    // erin calls from her laptop (home a); bert is on c; her phone is on b.
    const callId = await connected(laptop, 'bert', bob);
    await seesCall(phone, callId);
    phone.send({ type: 'move', callId, ref: 'm' });
    expect(await phone.next('accepted')).toMatchObject({
      callId,
      name: 'bert',
      role: 'caller',
      ref: 'm',
    });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'moved' });
    expect(await bob.next('restart')).toEqual({ type: 'restart', callId, name: 'erin' });
    await talking(phone, bob, callId, 30, [laptop]);
    // And back again, to the laptop (now the device it left is on another node than the home).
    laptop.send({ type: 'move', callId, ref: 'back' });
    expect(await laptop.next('accepted')).toMatchObject({ callId, role: 'caller', ref: 'back' });
    expect(await phone.next('leave')).toMatchObject({ callId, reason: 'moved' });
    expect(await bob.next('restart')).toMatchObject({ callId });
    await talking(laptop, bob, callId, 40, [phone]);
    bob.send({ type: 'hangup', callId });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'hangup' });
  });

  it('refuses, with a coded error, a move to the node of the peer while the call is driven elsewhere; the call goes on', async () => {
    const laptop = await device(a, 'faye', 'laptop');
    const phone = await device(b, 'faye', 'phone');
    const bob = await device(b, 'bo', 'bo');
    const callId = await connected(laptop, 'bo', bob);
    await seesCall(phone, callId);
    phone.send({ type: 'move', callId, ref: 'm' });
    expect(await phone.next('error')).toMatchObject({
      code: 'temporarily_unavailable',
      callId,
      ref: 'm',
    });
    await talking(laptop, bob, callId, 50, [phone]);
    laptop.send({ type: 'hangup', callId });
    expect(await bob.next('leave')).toMatchObject({ callId, reason: 'hangup' });
  });

  it('two devices on two nodes asking at once: the call ends up on exactly one of them', async () => {
    const laptop = await device(a, 'gus', 'laptop');
    const phone = await device(b, 'gus', 'phone');
    const tablet = await device(c, 'gus', 'tablet');
    const bob = await device(a, 'bill', 'bill');
    const callId = await connected(bob, 'gus', laptop, [phone, tablet]);
    await seesCall(phone, callId);
    await seesCall(tablet, callId);
    phone.send({ type: 'move', callId, ref: 'p' });
    tablet.send({ type: 'move', callId, ref: 't' });
    const outcome = async (d: TestClient) =>
      (await d.next((m) => m.type === 'accepted' || m.type === 'error', 10_000)).type as string;
    const [p, t] = await Promise.all([outcome(phone), outcome(tablet)]);
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'moved' });
    expect([p, t]).toContain('accepted');
    let holder = p === 'accepted' ? phone : tablet;
    if (p === 'accepted' && t === 'accepted') {
      // Both took it in turn: the first heard it moved on to the second.
      const movedOn = (d: TestClient) =>
        d
          .next((m) => m.type === 'leave' && m.callId === callId && m.reason === 'moved', 10_000)
          .then(
            () => d,
            () => undefined,
          );
      const loser = await Promise.race([movedOn(phone), movedOn(tablet)]);
      holder = loser === phone ? tablet : phone;
    }
    const other = holder === phone ? tablet : phone;
    await holder.settle();
    expect(holder.pending('leave').filter((m) => m.callId === callId)).toEqual([]);
    await talking(bob, holder, callId, 60, [laptop, other]);
    bob.send({ type: 'hangup', callId });
    expect(await holder.next('leave')).toMatchObject({ callId, reason: 'hangup' });
  });
});
