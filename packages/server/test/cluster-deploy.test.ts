// docs/DEPLOY.md's Redis ACL is enough: nodes that connect as that user (one of them also
// keeping its store there) run calls, lists, presence, a node's death and a drain without a
// single command refused, in open mode and with accounts on several devices (devs:<key>). The
// ACL lines are read from the document itself.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, login, until } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import { SDP_OFFER, TestClient } from './support.js';

const DEPLOY = readFileSync(new URL('../../../docs/DEPLOY.md', import.meta.url), 'utf8');

/** The `ACL SETUSER callwire ...` lines of the document, as argument lists. */
function aclLines(): string[][] {
  return DEPLOY.split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('ACL SETUSER callwire '))
    .map((l) => l.split(/\s+/).slice(1));
}

let redis: RedisServer;
let admin: Redis;
const nodes: NodeProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  admin = new Redis(redis.url);
  const [cluster, store] = aclLines();
  expect(cluster).toBeDefined();
  expect(store).toBeDefined();
  const withPassword = (args: string[], user: string) =>
    args.map((a, i) => (i === 1 ? user : a === '>CHANGE-ME' ? '>s3cret-pw' : a));
  await admin.call('ACL', ...withPassword(cluster!, 'callwire'));
  await admin.call('ACL', ...withPassword(cluster!, 'callwire-store'));
  await admin.call('ACL', ...withPassword(store!, 'callwire-store'));
  await admin.call('ACL', 'LOG', 'RESET');
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(nodes.map((n) => n.stop()));
  admin?.disconnect();
  await redis?.stop();
});

describe('the documented Redis ACL', () => {
  it('lets nodes do everything a cluster does, and nothing is refused', async () => {
    const url = (user: string) => `unix://${user}:s3cret-pw@${redis.socket}`;
    nodes.push(
      await NodeProcess.start(url('callwire-store'), ['--store', 'redis']),
      await NodeProcess.start(url('callwire')),
      await NodeProcess.start(url('callwire')),
    );
    const [a, b, c] = nodes;
    await Promise.all(nodes.map((n) => n.waitReady()));
    const alice = await login(a!, 'alice');
    const bob = await login(b!, 'bob');
    const carol = await login(c!, 'carol');
    clients.push(alice, bob, carol);
    alice.send({ type: 'call', to: 'bob' });
    const { callId } = await alice.next('ringing');
    await bob.next('incoming');
    bob.send({ type: 'accept', callId });
    await alice.next('accepted');
    alice.send({ type: 'offer', callId, offer: SDP_OFFER });
    await bob.next('offer');
    carol.send({ type: 'users', query: 'o', ref: 'q' });
    expect((await carol.next('users')).users).toEqual([
      { name: 'bob', status: 'busy' },
      { name: 'carol', status: 'online' },
    ]);
    bob.send({ type: 'hangup', callId });
    await alice.next('leave');
    // A node dies (its survivors bury it), another leaves cleanly.
    c!.signal('SIGKILL');
    await until(async () => (await admin.sismember('callwire:nodes', c!.nodeId)) === 0, 10_000);
    b!.signal('SIGTERM');
    expect(await b!.exited).toBe(0);
    alice.send({ type: 'users', ref: 'all' });
    expect((await alice.next('users')).users).toEqual([{ name: 'alice', status: 'online' }]);
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});

describe('the documented Redis ACL, with accounts on several devices', () => {
  it('lets nodes claim, ring, resume and bury devices, and nothing is refused', async () => {
    const secret = 'acl-devices-secret-0123456789abcdef';
    const url = `unix://callwire:s3cret-pw@${redis.socket}`;
    const flags = ['--auth', 'jwt', '--jwt-secret', secret];
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => NodeProcess.start(url, flags)));
    nodes.push(a!, b!, c!);
    await Promise.all([a!, b!, c!].map((n) => n.waitReady()));
    const device = async (node: NodeProcess, name: string, dev: string) => {
      const client = await TestClient.open(node.url('/'));
      clients.push(client);
      const token = await new SignJWT({ sub: name, exp: Math.floor(Date.now() / 1000) + 600 })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(secret));
      client.send({ type: 'login', name, token, protocol: 1, device: { id: `${dev}-0000` } });
      expect(await client.next('login')).toMatchObject({ success: true });
      return client;
    };
    const laptop = await device(a!, 'dora', 'laptop');
    const phone = await device(c!, 'dora', 'phone');
    const eve = await device(b!, 'eve', 'eve');
    eve.send({ type: 'call', to: 'dora' });
    const { callId } = await eve.next('ringing');
    await laptop.next('incoming');
    await phone.next('incoming');
    phone.send({ type: 'accept', callId });
    await eve.next('accepted');
    expect(await laptop.next('leave')).toMatchObject({ reason: 'answered_elsewhere' });
    eve.send({ type: 'hangup', callId });
    await phone.next('leave');
    // The node of one device dies: dora stays online on the other; then that one leaves.
    c!.signal('SIGKILL');
    await until(async () => (await admin.sismember('callwire:nodes', c!.nodeId)) === 0, 10_000);
    eve.send({ type: 'users', ref: 'after' });
    expect((await eve.next('users')).users).toContainEqual({ name: 'dora', status: 'online' });
    a!.signal('SIGTERM');
    expect(await a!.exited).toBe(0);
    await until(async () => (await admin.exists('callwire:devs:dora')) === 0, 10_000);
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });
});
