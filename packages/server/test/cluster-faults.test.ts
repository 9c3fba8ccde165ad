// The cluster survives its faults: a node killed outright, Redis killed and restarted, a node
// frozen (SIGSTOP) past its heartbeat expiry and then resumed. Real processes, real Redis.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeProcess, login, until } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import { TestClient, candidate } from './support.js';

let redis: RedisServer | undefined;
let nodes: NodeProcess[] = [];
let clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  clients = [];
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
  await redis?.stop();
  redis = undefined;
});

async function cluster(count: number, extra: string[] = []): Promise<NodeProcess[]> {
  redis = new RedisServer();
  await redis.start();
  nodes = await Promise.all(
    Array.from({ length: count }, () => NodeProcess.start(redis!.url, extra)),
  );
  await Promise.all(nodes.map((n) => n.waitReady()));
  return nodes;
}

async function user(node: NodeProcess, name: string): Promise<TestClient> {
  const c = await login(node, name);
  clients.push(c);
  return c;
}

async function open(url: string): Promise<TestClient> {
  const c = await TestClient.open(url);
  clients.push(c);
  return c;
}

async function call(from: TestClient, to: TestClient, toName: string): Promise<string> {
  from.send({ type: 'call', to: toName });
  const { callId } = await from.next('ringing');
  await to.next('incoming');
  to.send({ type: 'accept', callId });
  await from.next('accepted');
  await to.next('accepted');
  return callId as string;
}

describe('a node killed with SIGKILL', () => {
  it('is noticed: its users go offline and the peers of its calls are told, in both directions', async () => {
    const [a, b, c] = await cluster(3);
    const alice = await user(a!, 'alice'); // calls bob: the call's home is a
    const bob = await user(b!, 'bob');
    const carol = await user(b!, 'carol'); // calls dave: home on b, the node that dies
    const dave = await user(c!, 'dave');
    const watcher = await user(c!, 'watcher');
    const toBob = await call(alice, bob, 'bob');
    const toDave = await call(carol, dave, 'dave');

    const t0 = Date.now();
    b!.signal('SIGKILL');
    expect(await alice.next('leave', 15_000)).toMatchObject({
      callId: toBob,
      reason: 'disconnected',
      name: 'bob',
    });
    expect(await dave.next('leave', 15_000)).toMatchObject({
      callId: toDave,
      reason: 'disconnected',
      name: 'carol',
    });
    expect(
      await watcher.next(
        (m) => m.type === 'presence' && m.name === 'bob' && m.status === 'offline',
        15_000,
      ),
    ).toBeTruthy();
    expect(Date.now() - t0).toBeLessThan(15_000);
    // Its names are free again, on any node.
    const bob2 = await user(c!, 'bob');
    alice.send({ type: 'call', to: 'bob' });
    await alice.next('ringing');
    expect(await bob2.next('incoming')).toMatchObject({ from: 'alice' });
    watcher.send({ type: 'users', ref: 'l' });
    const list = await watcher.next('users');
    expect((list.users as Array<{ name: string }>).map((u) => u.name).sort()).toEqual([
      'alice',
      'bob',
      'dave',
      'watcher',
    ]);
  });

  it('with the default timings: noticed within 10 s, peers told within 15 s', async () => {
    redis = new RedisServer();
    await redis.start();
    const defaults = [
      '--node-ttl-ms',
      '6000',
      '--cluster-heartbeat-ms',
      '2000',
      '--name-ttl-ms',
      '15000',
    ];
    nodes = await Promise.all([
      NodeProcess.start(redis.url, defaults),
      NodeProcess.start(redis.url, defaults),
    ]);
    const [a, b] = nodes;
    await Promise.all(nodes.map((n) => n.waitReady()));
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    const callId = await call(alice, bob, 'bob');
    const t0 = Date.now();
    b!.signal('SIGKILL');
    expect(await alice.next('leave', 15_000)).toMatchObject({ callId, reason: 'disconnected' });
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);
});

describe('Redis killed mid-call and restarted', () => {
  it('keeps same-node calls, fails cross-node work fast, and recovers within 10 s', async () => {
    const [a, b, c] = await cluster(3);
    const alice = await user(a!, 'alice');
    const bob = await user(b!, 'bob');
    const carol = await user(a!, 'carol');
    const dave = await user(a!, 'dave');
    const erin = await user(c!, 'erin');
    const cross = await call(alice, bob, 'bob');
    const local = await call(carol, dave, 'dave');

    await redis!.stop();
    await until(
      async () => (await Promise.all(nodes.map((n) => n.readyz()))).every((s) => s === 503),
      5000,
    );

    // Same node: nothing changes.
    carol.send({ type: 'candidate', callId: local, candidate: candidate(1) });
    expect((await dave.next('candidate')).candidate).toEqual(candidate(1));
    // Across nodes: a coded error, at once.
    let t = Date.now();
    alice.send({ type: 'candidate', callId: cross, candidate: candidate(2), ref: 'x' });
    expect(await alice.next('error')).toMatchObject({
      code: 'temporarily_unavailable',
      callId: cross,
    });
    expect(Date.now() - t).toBeLessThan(1000);
    t = Date.now();
    erin.send({ type: 'call', to: 'carol', ref: 'c1' });
    expect(await erin.next('error')).toMatchObject({ code: 'temporarily_unavailable', ref: 'c1' });
    const late = await open(c!.url('/'));
    late.send({ type: 'login', name: 'frank', protocol: 1 });
    expect(await late.next('login')).toMatchObject({
      success: false,
      code: 'temporarily_unavailable',
    });
    expect(Date.now() - t).toBeLessThan(1000);

    // Back, empty (no persistence): every node re-registers itself and its users.
    await redis!.start();
    t = Date.now();
    await until(
      async () => (await Promise.all(nodes.map((n) => n.readyz()))).every((s) => s === 200),
      10_000,
    );
    const admin = new Redis(redis!.url);
    try {
      await until(async () => (await admin.zcard('callwire:online')) === 5, 10_000);
      expect(Date.now() - t).toBeLessThan(10_000);
      expect((await admin.zrange('callwire:online', 0, -1)).map((m) => m.split('\n')[1])).toEqual([
        'alice',
        'bob',
        'carol',
        'dave',
        'erin',
      ]);
      expect(await admin.scard('callwire:nodes')).toBe(3);
    } finally {
      admin.disconnect();
    }
    // Names are held again: nobody can take alice's.
    late.send({ type: 'login', name: 'alice', protocol: 1 });
    expect(await late.next('login')).toMatchObject({ success: false, code: 'name_taken' });
    // The cross-node call carries on.
    alice.send({ type: 'candidate', callId: cross, candidate: candidate(3) });
    expect((await bob.next('candidate')).candidate).toEqual(candidate(3));
    bob.send({ type: 'candidate', callId: cross, candidate: candidate(4) });
    expect((await alice.next('candidate')).candidate).toEqual(candidate(4));
    bob.send({ type: 'hangup', callId: cross });
    expect(await alice.next('leave')).toMatchObject({ reason: 'hangup' });
    // And new cross-node calls work.
    await call(erin, alice, 'alice');
  });

  it('restarted from a snapshot: who left meanwhile is gone, nobody is listed twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callwire-redis-'));
    redis = new RedisServer(dir);
    await redis.start();
    nodes = await Promise.all([NodeProcess.start(redis.url), NodeProcess.start(redis.url)]);
    await Promise.all(nodes.map((n) => n.waitReady()));
    const [a, b] = nodes as [NodeProcess, NodeProcess];
    const stay = await user(a, 'stays');
    const leave = await user(b, 'leaves');
    const admin = new Redis(redis.url);
    await admin.save();
    admin.disconnect();
    await redis.stop();
    await until(async () => (await b.readyz()) === 503, 5000);
    leave.close();
    await leave.closed;
    await redis.start();
    await until(
      async () => (await Promise.all(nodes.map((n) => n.readyz()))).every((s) => s === 200),
      10_000,
    );
    const check = new Redis(redis.url);
    try {
      await until(async () => (await check.zcard('callwire:online')) === 1, 10_000);
      expect(await check.zrange('callwire:online', 0, -1)).toEqual(['stays\nstays']);
      expect(await check.exists('callwire:name:leaves')).toBe(0);
    } finally {
      check.disconnect();
    }
    stay.send({ type: 'users', ref: 'u' });
    expect((await stay.next('users')).users).toEqual([{ name: 'stays', status: 'online' }]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a node started while Redis is down listens, is not ready, and joins when Redis comes', async () => {
    redis = new RedisServer();
    const node = await NodeProcess.start(redis.url);
    nodes = [node];
    expect(await node.readyz()).toBe(503);
    const c = await open(node.url('/'));
    c.send({ type: 'login', name: 'early', protocol: 1 });
    expect(await c.next('login')).toMatchObject({
      success: false,
      code: 'temporarily_unavailable',
    });
    await redis.start();
    await node.waitReady(10_000);
    c.send({ type: 'login', name: 'early', protocol: 1 });
    expect(await c.next('login')).toMatchObject({ success: true });
  });
});

describe('a node frozen (SIGSTOP) past its heartbeat expiry', () => {
  it('is buried by the others, then notices on SIGCONT and resyncs instead of running on stale state', async () => {
    const [a, b, c] = await cluster(3);
    const alice = await user(a!, 'alice');
    const carol = await user(c!, 'carol');
    const amy = await user(a!, 'amy'); // keeps her name: nobody takes it meanwhile
    const watcher = await user(b!, 'watcher');
    const callId = await call(carol, alice, 'alice'); // home on c, shadow on a

    a!.signal('SIGSTOP');
    // The others bury it: carol's call ends, alice and amy go offline, the name is free.
    expect(await carol.next('leave', 10_000)).toMatchObject({ callId, reason: 'disconnected' });
    await watcher.next(
      (m) => m.type === 'presence' && m.name === 'alice' && m.status === 'offline',
      10_000,
    );
    const alice2 = await user(b!, 'alice');
    const from = a!.logs.length;
    a!.signal('SIGCONT');

    // a learns it was presumed dead: it ends its side of the call and gives up the name that
    // is someone else's now (4003), keeps the one that is not, and is ready again.
    expect(await alice.next('leave', 10_000)).toMatchObject({ callId, reason: 'disconnected' });
    expect(await alice.closed).toBe(4003);
    await a!.waitLog((l) => l.msg === 'cluster: in step again', 10_000, from);
    await a!.waitReady();
    expect(
      await watcher.next(
        (m) => m.type === 'presence' && m.name === 'amy' && m.status === 'online',
        10_000,
      ),
    ).toBeTruthy();
    // amy is reachable across nodes again; alice (on b) is the only alice.
    carol.send({ type: 'call', to: 'amy' });
    await carol.next('ringing');
    expect(await amy.next('incoming')).toMatchObject({ from: 'carol' });
    watcher.send({ type: 'users', ref: 'l' });
    const list = await watcher.next('users');
    expect(list.users).toEqual([
      { name: 'alice', status: 'online' },
      { name: 'amy', status: 'busy' },
      { name: 'carol', status: 'busy' },
      { name: 'watcher', status: 'online' },
    ]);
    alice2.send({ type: 'ping' });
    await alice2.next('pong');
  });
});
