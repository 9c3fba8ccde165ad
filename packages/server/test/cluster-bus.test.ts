// The cluster bus over a real Redis: what is sent to one node in one turn leaves as few
// PUBLISHes as a batch's limits allow, in the order sent, and a PUBLISH's fate (nobody
// listening) reaches every message it carried. A plain subscriber stands in for the other node.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../src/cluster/bus.js';
import { K } from '../src/cluster/keys.js';
import { RedisLink } from '../src/cluster/redis-link.js';
import {
  BATCH_MAX_BYTES,
  BATCH_MAX_MESSAGES,
  isRefused,
  parseNodeText,
  type NodeMessage,
} from '../src/cluster/wire.js';
import { RedisServer } from './store-redis-server.js';

const log = pino({ level: 'silent' });
let redis: RedisServer;
let link: RedisLink;
let bus: Bus;
let other: Redis;
/** What arrived on node "other"'s channel, one entry per PUBLISH. */
const arrived: string[] = [];
let wake: (() => void) | undefined;

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  let up!: () => void;
  const isUp = new Promise<void>((resolve) => (up = resolve));
  link = new RedisLink(redis.url, [K.to('self')], { up, down: () => {}, message: () => {} }, log);
  link.start();
  await isUp;
  bus = new Bus(link, 'self', log, () => {});
  other = new Redis({ path: redis.socket });
  await other.subscribe(K.to('other'));
  other.on('message', (_channel: string, text: string) => {
    arrived.push(text);
    wake?.();
  });
}, 30_000);

afterAll(async () => {
  other?.disconnect();
  await link?.close();
  await redis?.stop();
});

/** The messages of the PUBLISHes that arrived, in order, each checked as the receiver would. */
function unpack(texts: readonly string[]): NodeMessage[] {
  return texts.flatMap((text) => {
    const parsed = parseNodeText(text);
    if (!parsed.ok) throw new Error(`refused: ${parsed.code}`);
    return parsed.msgs.map((m) => {
      if (isRefused(m)) throw new Error(`refused: ${m.refused}`);
      return m;
    });
  });
}

async function collect(count: number): Promise<string[]> {
  arrived.length = 0;
  const seen = () => unpack(arrived).length >= count;
  while (!seen()) await new Promise<void>((resolve) => (wake = resolve));
  return [...arrived];
}

describe('the cluster bus', () => {
  it('sends one turn in as few batches as the limits allow, in order', async () => {
    const n = 2 * BATCH_MAX_MESSAGES + 500;
    const waiting = collect(n);
    for (let i = 0; i < n; i++) bus.send('other', { op: 'devices', from: 'self', key: `k${i}` });
    const texts = await waiting;
    expect(texts).toHaveLength(3);
    expect(unpack(texts).map((m) => (m.op === 'devices' ? m.key : m.op))).toEqual(
      Array.from({ length: n }, (_, i) => `k${i}`),
    );
  });

  it('keeps a batch under its byte limit, and sends a message too large for any batch alone', async () => {
    const big = (i: number, bytes: number): NodeMessage => ({
      op: 'peerjs',
      from: 'self',
      id: `p${i}`,
      texts: ['x'.repeat(bytes)],
    });
    // The fifth is just under the limit alone: no batch has room for it and anything else.
    const sizes = [300_000, 300_000, 300_000, 300_000, BATCH_MAX_BYTES - 100, 10, 10];
    const waiting = collect(sizes.length);
    sizes.forEach((bytes, i) => bus.send('other', big(i, bytes)));
    const texts = await waiting;
    for (const t of texts) {
      if (t.startsWith('{"op":"batch"'))
        expect(Buffer.byteLength(t)).toBeLessThanOrEqual(BATCH_MAX_BYTES);
    }
    // Three of 300 kB fit in one MiB; the fourth starts the next batch, which ends before the
    // oversized one; that one goes alone, and the two small ones after it together.
    expect(texts.map((t) => (t.startsWith('{"op":"batch"') ? 'batch' : 'alone'))).toEqual([
      'batch',
      'alone',
      'alone',
      'batch',
    ]);
    expect(unpack(texts).map((m) => (m.op === 'peerjs' ? m.id : m.op))).toEqual(
      sizes.map((_, i) => `p${i}`),
    );
  });

  it('tells every message of a batch that nobody received it', async () => {
    const failed: string[] = [];
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 3; i++) {
        bus.send('nobody-here', { op: 'devices', from: 'self', key: `k${i}` }, (why) => {
          failed.push(`k${i}:${why}`);
          if (failed.length === 3) resolve();
        });
      }
    });
    expect(failed).toEqual(['k0:nobody', 'k1:nobody', 'k2:nobody']);
  });
});
