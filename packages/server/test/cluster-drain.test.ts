// A node drained with SIGTERM: its clients are told to reconnect, come back through another
// node, and their calls in progress go on: the peer hears `reconnecting` and `reconnected`,
// never `leave`, and signaling flows again on the same call. Clients that cannot resume
// (tutorial) end their calls, as on one node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import { TestClient, candidate } from './support.js';

let redis: RedisServer;
let nodes: NodeProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  nodes = await Promise.all([0, 1, 2].map(() => NodeProcess.start(redis.url)));
  await Promise.all(nodes.map((n) => n.waitReady()));
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await redis?.stop();
});

async function open(node: NodeProcess): Promise<TestClient> {
  const c = await TestClient.open(node.url('/'));
  clients.push(c);
  return c;
}

/** A native user that asked to resume; resolves with the client and its token. */
async function resumable(
  node: NodeProcess,
  name: string,
): Promise<{ c: TestClient; token: string }> {
  const c = await open(node);
  c.send({ type: 'login', name, protocol: 1, resume: true });
  const r = await c.next('login');
  expect(r.success).toBe(true);
  return { c, token: r.resumeToken as string };
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

/** Resume `name` on `node` with `token`; resolves with the new client and the login reply. */
async function resume(node: NodeProcess, name: string, token: string) {
  const c = await open(node);
  c.send({ type: 'login', name, protocol: 1, resumeToken: token });
  const reply = await c.next('login');
  return { c, reply };
}

describe('a node drained with SIGTERM', () => {
  it('hands its sessions and calls over: clients resume on other nodes and their calls go on', async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    // Homed on the drained node, peer elsewhere.
    const alice = await resumable(a, 'alice');
    const bob = await resumable(c, 'bob');
    const ab = await call(alice.c, bob.c, 'bob');
    // Homed elsewhere, party on the drained node.
    const carol = await resumable(c, 'carol');
    const dave = await resumable(a, 'dave');
    const cd = await call(carol.c, dave.c, 'dave');
    // Both parties on the drained node.
    const erin = await resumable(a, 'erin');
    const fay = await resumable(a, 'fay');
    const ef = await call(erin.c, fay.c, 'fay');
    // A tutorial client cannot resume: its call ends, as on one node.
    const tut = await open(a);
    tut.send({ type: 'login', name: 'tut' });
    await tut.next('login');
    const gus = await resumable(c, 'gus');
    gus.c.send({ type: 'call', to: 'tut' });
    await gus.c.next('accepted');

    a.signal('SIGTERM');
    for (const u of [alice, dave, erin, fay]) {
      expect(await u.c.next('reconnect')).toMatchObject({ type: 'reconnect' });
      expect(await u.c.closed).toBe(1012);
    }
    expect(await gus.c.next('leave')).toMatchObject({ reason: 'disconnected', name: 'tut' });
    // The peers on other nodes hear that their party is reconnecting, and keep the call.
    expect(await bob.c.next('reconnecting')).toMatchObject({ callId: ab, name: 'alice' });
    expect(await carol.c.next('reconnecting')).toMatchObject({ callId: cd, name: 'dave' });
    // What the peer sends meanwhile is kept for the party.
    bob.c.send({ type: 'candidate', callId: ab, candidate: candidate(1) });
    bob.c.send({ type: 'candidate', callId: ab, candidate: candidate(2) });
    expect(await a.exited).toBe(0);

    const alice2 = await resume(b, 'alice', alice.token);
    expect(alice2.reply).toMatchObject({ success: true, resumed: true });
    expect(alice2.reply.calls).toEqual([
      expect.objectContaining({ callId: ab, name: 'bob', role: 'caller', state: 'connected' }),
    ]);
    expect((await alice2.c.next('candidate')).candidate).toEqual(candidate(1));
    expect((await alice2.c.next('candidate')).candidate).toEqual(candidate(2));
    expect(await bob.c.next('reconnected')).toMatchObject({ callId: ab, name: 'alice' });
    alice2.c.send({ type: 'candidate', callId: ab, candidate: candidate(3) });
    expect((await bob.c.next('candidate')).candidate).toEqual(candidate(3));

    const dave2 = await resume(c, 'dave', dave.token);
    expect(dave2.reply).toMatchObject({ success: true, resumed: true });
    expect(await carol.c.next('reconnected')).toMatchObject({ callId: cd, name: 'dave' });
    carol.c.send({ type: 'candidate', callId: cd, candidate: candidate(4) });
    expect((await dave2.c.next('candidate')).candidate).toEqual(candidate(4));
    dave2.c.send({ type: 'candidate', callId: cd, candidate: candidate(5) });
    expect((await carol.c.next('candidate')).candidate).toEqual(candidate(5));

    // Both parties of the drained node's own call come back on two different nodes.
    const erin2 = await resume(b, 'erin', erin.token);
    const fay2 = await resume(c, 'fay', fay.token);
    expect(erin2.reply.calls).toEqual([
      expect.objectContaining({ callId: ef, name: 'fay', role: 'caller' }),
    ]);
    expect(fay2.reply.calls).toEqual([
      expect.objectContaining({ callId: ef, name: 'erin', role: 'callee' }),
    ]);
    erin2.c.send({ type: 'candidate', callId: ef, candidate: candidate(6) });
    expect((await fay2.c.next('candidate')).candidate).toEqual(candidate(6));
    fay2.c.send({ type: 'candidate', callId: ef, candidate: candidate(7) });
    expect((await erin2.c.next('candidate')).candidate).toEqual(candidate(7));

    // Hang-ups end them normally, everyone hears exactly one leave.
    bob.c.send({ type: 'hangup', callId: ab });
    expect(await alice2.c.next('leave')).toMatchObject({ callId: ab, reason: 'hangup' });
    dave2.c.send({ type: 'hangup', callId: cd });
    expect(await carol.c.next('leave')).toMatchObject({ callId: cd, reason: 'hangup' });
    fay2.c.send({ type: 'hangup', callId: ef });
    expect(await erin2.c.next('leave')).toMatchObject({ callId: ef, reason: 'hangup' });
    for (const u of [bob.c, alice2.c, carol.c, dave2.c, erin2.c, fay2.c]) {
      await u.settle();
      expect(u.pending('leave', 'error')).toHaveLength(
        u === bob.c || u === dave2.c || u === fay2.c ? 1 : 0,
      );
    }
    // The names moved with their sessions: nobody else can take them.
    const other = await open(c);
    other.send({ type: 'login', name: 'alice', protocol: 1 });
    expect(await other.next('login')).toMatchObject({ success: false, code: 'name_taken' });
  });
});
