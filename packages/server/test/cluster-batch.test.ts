// Batches between nodes: what one node sends another within one turn leaves as one PUBLISH.
// A burst keeps its order across batches, and a batch of a hostile shape is refused (whole, or
// message by message) without touching anything else on the node. Real nodes, real Redis: the
// hostile batches are published on the node's own channel, as a rogue Redis client would.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, login } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import type { Msg, TestClient } from './support.js';

let redis: RedisServer;
let a: NodeProcess;
let b: NodeProcess;
let publisher: Redis;
let spy: Redis;
/** Everything published on node B's channel, as it was published. */
const toB: string[] = [];
const clients: TestClient[] = [];

// A burst of 1,200 frames from one client is the point here, not a flood; and no presence
// broadcasts, so that what a client receives is only what its calls send.
const loose = [
  '--rate-burst',
  '100000',
  '--rate-per-second',
  '100000',
  '--presence-broadcast-below',
  '0',
];

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  [a, b] = await Promise.all([
    NodeProcess.start(redis.url, loose),
    NodeProcess.start(redis.url, loose),
  ]);
  await Promise.all([a.waitReady(), b.waitReady()]);
  publisher = new Redis({ path: redis.socket });
  spy = new Redis({ path: redis.socket });
  await spy.subscribe(`callwire:to:${b.nodeId}`);
  spy.on('message', (_channel: string, text: string) => toB.push(text));
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  publisher?.disconnect();
  spy?.disconnect();
  await Promise.all([a, b].map((n) => n?.stop()));
  await redis?.stop();
});

const cand = (tag: string, i: number) =>
  `candidate:${i} 1 udp 2122260223 127.0.0.1 ${50000 + (i % 10000)} typ host tag ${tag}`;

/** alice on node A calls bob on node B (the call's home is A); both see it accepted. */
async function callAcross(alice: string, bob: string) {
  const caller = await login(a, alice);
  const callee = await login(b, bob);
  clients.push(caller, callee);
  caller.send({ type: 'call', to: bob });
  const { callId } = await caller.next('ringing');
  await callee.next('incoming');
  callee.send({ type: 'accept', callId });
  await caller.next('accepted');
  await callee.next('accepted');
  return { caller, callee, callId: callId as string };
}

const isCandidate = (callId: string) => (m: Msg) => m.type === 'candidate' && m.callId === callId;

describe('batches between nodes', () => {
  it('keep each call in order across a burst, up to and including the hangup', async () => {
    const one = await callAcross('alice', 'bob');
    const two = await callAcross('carol', 'dave');
    const N = 600;
    toB.length = 0;
    // Both calls' candidates interleaved in one burst, then alice hangs up: the hangup is a
    // notice that must not be lost (it takes the outbox path), and must still come last.
    for (let i = 0; i < N; i++) {
      one.caller.send({
        type: 'candidate',
        callId: one.callId,
        candidate: { candidate: cand('one', i) },
      });
      two.caller.send({
        type: 'candidate',
        callId: two.callId,
        candidate: { candidate: cand('two', i) },
      });
    }
    one.caller.send({ type: 'hangup', callId: one.callId });
    for (const { callee, callId } of [one, two]) {
      const tag = callee === one.callee ? 'one' : 'two';
      for (let i = 0; i < N; i++) {
        const m = await callee.next(isCandidate(callId));
        expect(m.candidate).toEqual({ candidate: cand(tag, i) });
      }
    }
    await one.callee.next((m) => m.type === 'leave' && m.callId === one.callId);
    for (const c of [one.callee, two.callee]) {
      await c.settle();
      expect(c.pending()).toEqual([]);
    }
    // They did travel in batches (a burst of 1,200 messages is never one per PUBLISH).
    const batches = toB.filter((t) => t.startsWith('{"op":"batch"'));
    expect(batches.length).toBeGreaterThan(0);
    for (const t of batches) {
      expect((JSON.parse(t) as { m: unknown[] }).m.length).toBeLessThanOrEqual(1000);
    }
  }, 30_000);

  it('refuse a batch of a hostile shape, and only the bad messages of a well-formed one', async () => {
    const { caller, callee, callId } = await callAcross('erin', 'frank');
    // A real message from A for frank, as A sent it (alone, or in a batch of one call's turn).
    toB.length = 0;
    caller.send({ type: 'candidate', callId, candidate: { candidate: cand('probe', 1) } });
    expect((await callee.next(isCandidate(callId))).candidate).toEqual({
      candidate: cand('probe', 1),
    });
    const sent = JSON.parse(toB.find((t) => t.includes('probe'))!) as Record<string, unknown>;
    const real = sent.op === 'batch' ? (sent.m as Array<Record<string, unknown>>)[0]! : sent;
    expect(real).toMatchObject({ op: 'event', from: a.nodeId });

    const channel = `callwire:to:${b.nodeId}`;
    const batch = (m: unknown, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ op: 'batch', from: a.nodeId, m, ...extra });
    const from = b.logs.length;
    const refusedWhole = [
      batch([real], { note: 'extra field' }),
      batch('not a list'),
      batch([]),
      batch([real, 5]),
      batch([real, [real]]),
      batch(Array.from({ length: 1001 }, () => real)),
      JSON.stringify({ op: 'batch', m: [real] }),
      JSON.stringify({ op: 'batch', from: '', m: [real] }),
    ];
    const tooLarge = batch(
      Array.from({ length: 600 }, () => ({
        op: 'peerjs',
        from: a.nodeId,
        id: 'x',
        texts: ['y'.repeat(2000)],
      })),
    );
    // Not JSON at all: refused as a message (nothing says it was meant as a batch).
    const notJson = '{"op":"batch","from":"x","m":[';
    for (const text of [...refusedWhole, tooLarge, notJson]) await publisher.publish(channel, text);
    // One well-formed batch: a nested batch, an unknown op, a __proto__ op, a message that
    // claims another sender, and an invalid event are each refused; the real one is delivered.
    await publisher.publish(
      channel,
      batch([
        { op: 'batch', from: a.nodeId, m: [real] },
        { op: 'explode', from: a.nodeId },
        { op: '__proto__', from: a.nodeId },
        { ...real, from: 'somebody-else' },
        { ...real, e: { t: 'no-such-event' } },
        real,
      ]),
    );
    // The real message arrives once (from the last batch); nothing of the others reached frank.
    expect((await callee.next(isCandidate(callId))).candidate).toEqual({
      candidate: cand('probe', 1),
    });
    // The node is unharmed: the call goes on across nodes in both directions.
    caller.send({ type: 'candidate', callId, candidate: { candidate: cand('after', 2) } });
    callee.send({ type: 'candidate', callId, candidate: { candidate: cand('back', 3) } });
    expect((await callee.next(isCandidate(callId))).candidate).toEqual({
      candidate: cand('after', 2),
    });
    expect((await caller.next(isCandidate(callId))).candidate).toEqual({
      candidate: cand('back', 3),
    });
    for (const c of [caller, callee]) {
      await c.settle();
      expect(c.pending()).toEqual([]);
    }
    expect(await b.readyz()).toBe(200);
    // Each refusal was logged with its code; the last one is the bad event of the last batch.
    await b.waitLog((l) => l.code === 'node_message_invalid' && l.index === 4, 10_000, from);
    const codes = b.logs
      .slice(from)
      .filter((l) => typeof l.code === 'string' && String(l.code).startsWith('node_'))
      .map((l) => l.code);
    expect(codes.filter((c) => c === 'node_batch_invalid')).toHaveLength(refusedWhole.length);
    expect(codes.filter((c) => c === 'node_batch_too_large')).toHaveLength(1);
    expect(codes.filter((c) => c === 'node_message_invalid')).toHaveLength(5);
    expect(codes.filter((c) => c === 'node_message_foreign')).toHaveLength(1);
  }, 30_000);
});
