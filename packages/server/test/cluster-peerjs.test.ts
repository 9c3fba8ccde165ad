// The PeerJS dialect on two nodes of one Redis, over raw sockets speaking the frames the
// `peerjs` browser client sends: ids are unique across the cluster, frames reach a peer on the
// other node in order with `src` stamped, messages for an id that comes online later wait and
// reach it wherever it connects, EXPIRE crosses nodes, a reconnect with the same token may land
// on the other node, and ids are free again when their socket closes or their node dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, until } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import { TestClient, type Msg } from './support.js';

let redis: RedisServer;
let a: NodeProcess;
let b: NodeProcess;
const clients: TestClient[] = [];

const EXPIRE_MS = 1500;

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  const flags = ['--peerjs-expire-ms', String(EXPIRE_MS), '--peerjs-discovery', 'on'];
  [a, b] = await Promise.all([NodeProcess.start(redis.url, flags), NodeProcess.start(redis.url, flags)]);
  await Promise.all([a.waitReady(), b.waitReady()]);
}, 30_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

const peerUrl = (node: NodeProcess, id: string, token: string) =>
  node.url(`/peerjs?key=peerjs&id=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}&version=1.5.5`);

async function open(node: NodeProcess, id: string, token = `t-${id}`): Promise<TestClient> {
  const c = await TestClient.open(peerUrl(node, id, token));
  clients.push(c);
  return c;
}

async function peer(node: NodeProcess, id: string, token = `t-${id}`): Promise<TestClient> {
  const c = await open(node, id, token);
  await c.next('OPEN');
  return c;
}

const candidate = (dst: string, n: number, extra: Record<string, unknown> = {}) => ({
  type: 'CANDIDATE',
  dst,
  payload: { connectionId: 'dc_1', candidate: { candidate: `candidate:${n}` } },
  ...extra,
});
const nOf = (m: Msg) =>
  Number(((m.payload as { candidate: { candidate: string } }).candidate.candidate).split(':')[1]);

describe('PeerJS across two nodes', () => {
  it('relays both ways in order with src stamped, and an id is unique across the cluster', async () => {
    const alice = await peer(a, 'alice-x');
    const bob = await peer(b, 'bob-x');
    for (let i = 0; i < 50; i++) alice.send(candidate('bob-x', i, { src: 'mallory' }));
    const got: number[] = [];
    for (let i = 0; i < 50; i++) {
      const m = await bob.next('CANDIDATE');
      expect(m.src).toBe('alice-x');
      got.push(nOf(m));
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    bob.send({ type: 'ANSWER', dst: 'alice-x', payload: { sdp: { type: 'answer', sdp: 'v=0\r\n' }, connectionId: 'dc_1' } });
    expect(await alice.next('ANSWER')).toMatchObject({ src: 'bob-x', dst: 'alice-x' });

    // The same id with another token, on either node: taken.
    for (const node of [a, b]) {
      const thief = await open(node, 'alice-x', 'not-alices-token');
      expect(await thief.next('ID-TAKEN')).toMatchObject({ type: 'ID-TAKEN' });
    }
    // Discovery lists ids from both nodes.
    const ids = (await (await fetch(`http://127.0.0.1:${a.port}/peerjs/peers`)).json()) as string[];
    expect(ids).toEqual(expect.arrayContaining(['alice-x', 'bob-x']));
  });

  it('keeps what is sent to an id not yet online, and delivers it when the id opens on another node', async () => {
    const carol = await peer(a, 'carol-x');
    for (let i = 0; i < 3; i++) carol.send(candidate('dave-x', i));
    await new Promise((r) => setTimeout(r, 100));
    const dave = await peer(b, 'dave-x');
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push(nOf(await dave.next('CANDIDATE')));
    expect(got).toEqual([0, 1, 2]);
    // And after that, straight through.
    carol.send(candidate('dave-x', 3));
    expect(nOf(await dave.next('CANDIDATE'))).toBe(3);
  });

  it('tells the sender EXPIRE, once, when the id never comes', async () => {
    const erin = await peer(a, 'erin-x');
    erin.send(candidate('nobody-x', 1));
    erin.send(candidate('nobody-x', 2));
    expect(await erin.next('EXPIRE', EXPIRE_MS * 4)).toMatchObject({ src: 'nobody-x', dst: 'erin-x' });
    await new Promise((r) => setTimeout(r, EXPIRE_MS));
    expect(erin.pending('EXPIRE')).toEqual([]);
  });

  it('a reconnect with the same token on the other node takes the id over; the old socket is closed', async () => {
    const old = await peer(a, 'frank-x', 'franks-token');
    const closed = new Promise<number>((resolve) => old.ws.once('close', (code) => resolve(code)));
    const gina = await peer(a, 'gina-x');
    const again = await peer(b, 'frank-x', 'franks-token');
    expect(await closed).toBe(4003);
    gina.send(candidate('frank-x', 7));
    expect(await again.next('CANDIDATE')).toMatchObject({ src: 'gina-x' });
    // The old socket's close gave nothing back: the id is still frank's, on b.
    const thief = await open(a, 'frank-x', 'other');
    expect(await thief.next('ID-TAKEN')).toMatchObject({ type: 'ID-TAKEN' });
  });

  it('frees an id when its socket closes, for anyone, on any node', async () => {
    const henry = await peer(a, 'henry-x', 'one');
    henry.close();
    await until(async () => {
      const c = await TestClient.open(peerUrl(b, 'henry-x', 'two'));
      clients.push(c);
      const first = await c.next((m) => m.type === 'OPEN' || m.type === 'ID-TAKEN');
      return first.type === 'OPEN';
    }, 5_000);
  });

  it('frees the ids of a node that died once their claims run out', async () => {
    const c = await NodeProcess.start(redis.url, ['--peerjs-expire-ms', String(EXPIRE_MS)]);
    try {
      await c.waitReady();
      await peer(c, 'ivan-x', 'ivans-token');
      c.signal('SIGKILL');
      await c.exited;
      const started = Date.now();
      await until(async () => {
        const probe = await TestClient.open(peerUrl(b, 'ivan-x', 'someone-else'));
        clients.push(probe);
        return (await probe.next((m) => m.type === 'OPEN' || m.type === 'ID-TAKEN')).type === 'OPEN';
      }, 10_000);
      // Within the claim's lifetime (--name-ttl-ms 3000 in these tests) and a refresh.
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      await c.stop();
    }
  });
});
