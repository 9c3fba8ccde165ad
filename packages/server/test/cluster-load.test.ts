// 1,000 calls across three nodes, as short signaling exchanges over a few dozen clients: every
// message arrives exactly once, in order, at the right party.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, login } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import type { Msg, TestClient } from './support.js';

const PAIRS = 25;
const CALLS_PER_PAIR = 40; // 25 x 40 = 1,000 calls
const CANDIDATES = 3;

let redis: RedisServer;
let nodes: NodeProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  // Limits meant for people would throttle a test that places 40 calls per caller in seconds.
  const loose = [
    '--invites-per-minute',
    '1000000',
    '--rate-burst',
    '100000',
    '--rate-per-second',
    '100000',
    '--presence-broadcast-below',
    '0',
  ];
  nodes = await Promise.all([0, 1, 2].map(() => NodeProcess.start(redis.url, loose)));
  await Promise.all(nodes.map((n) => n.waitReady()));
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(nodes.map((n) => n.stop()));
  await redis?.stop();
});

/** A grammatical candidate that names its call and side, so a misrouted one is recognised. */
const cand = (ref: string, side: string, i: number) =>
  `candidate:${i} 1 udp 2122260223 127.0.0.1 ${50000 + i} typ host ${side} ${ref}`;

/** One call from `caller` to `callee`, start to end, checking each message as it comes. */
async function exchange(
  caller: TestClient,
  callee: TestClient,
  calleeName: string,
  ref: string,
  k: number,
) {
  const inCall = (type: string, callId: unknown) => (m: Msg) =>
    m.type === type && m.callId === callId;
  caller.send({ type: 'call', to: calleeName, ref });
  const ringing = await caller.next((m) => m.type === 'ringing' && m.ref === ref);
  const callId = ringing.callId;
  await callee.next(inCall('incoming', callId));
  callee.send({ type: 'accept', callId });
  await caller.next(inCall('accepted', callId));
  await callee.next(inCall('accepted', callId));
  caller.send({ type: 'offer', callId, offer: { type: 'offer', sdp: `v=0\r\ns=offer ${ref}\r\n` } });
  for (let i = 0; i < CANDIDATES; i++) {
    caller.send({ type: 'candidate', callId, candidate: { candidate: cand(ref, 'caller', i) } });
  }
  expect((await callee.next(inCall('offer', callId))).offer).toEqual({
    type: 'offer',
    sdp: `v=0\r\ns=offer ${ref}\r\n`,
  });
  callee.send({ type: 'answer', callId, answer: { type: 'answer', sdp: `v=0\r\ns=answer ${ref}\r\n` } });
  for (let i = 0; i < CANDIDATES; i++) {
    callee.send({ type: 'candidate', callId, candidate: { candidate: cand(ref, 'callee', i) } });
  }
  // In order: the next candidate of this call is always the next one sent.
  for (let i = 0; i < CANDIDATES; i++) {
    expect((await callee.next(inCall('candidate', callId))).candidate).toEqual({
      candidate: cand(ref, 'caller', i),
    });
  }
  expect((await caller.next(inCall('answer', callId))).answer).toEqual({
    type: 'answer',
    sdp: `v=0\r\ns=answer ${ref}\r\n`,
  });
  for (let i = 0; i < CANDIDATES; i++) {
    expect((await caller.next(inCall('candidate', callId))).candidate).toEqual({
      candidate: cand(ref, 'callee', i),
    });
  }
  (k % 2 === 0 ? caller : callee).send({ type: 'hangup', callId });
  await caller.next(inCall('leave', callId));
  await callee.next(inCall('leave', callId));
}

describe('1,000 calls across nodes', () => {
  it('lose, reorder and duplicate nothing', async () => {
    const pairs = await Promise.all(
      Array.from({ length: PAIRS }, async (_, p) => {
        const caller = await login(nodes[p % 3]!, `caller-${p}`);
        const callee = await login(nodes[(p + 1) % 3]!, `callee-${p}`);
        clients.push(caller, callee);
        return { p, caller, callee };
      }),
    );
    const t0 = performance.now();
    await Promise.all(
      pairs.map(async ({ p, caller, callee }) => {
        for (let k = 0; k < CALLS_PER_PAIR; k++)
          await exchange(caller, callee, `callee-${p}`, `${p}.${k}`, k);
      }),
    );
    const elapsedMs = performance.now() - t0;
    // Nothing left over: a duplicate, or a message for the wrong party, would still be here.
    for (const c of clients) {
      await c.settle();
      expect(c.pending()).toEqual([]);
    }
    // The calls went through Redis: each node relayed some of them.
    console.log(`1,000 cross-node calls in ${Math.round(elapsedMs)} ms`);
  }, 90_000);
});
