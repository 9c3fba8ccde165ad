/**
 * The SDK's pure parts: the emitter, the reconnect policy, the stats reduction and the
 * peer-to-peer message schemas.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Emitter } from '../src/emitter.js';
import { jitteredBackoff } from '../src/index.js';
import { controlDecoder, fileDecoder } from '../src/peer-messages.js';
import { summarize } from '../src/stats.js';

describe('Emitter', () => {
  it('a throwing listener neither stops the others nor the emitter', () => {
    const e = new Emitter<{ ping: (n: number) => void }>();
    const got: number[] = [];
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args[1]);
    try {
      e.on('ping', () => {
        throw new Error('listener bug');
      });
      e.on('ping', (n) => got.push(n));
      e.emit('ping', 1);
      e.emit('ping', 2);
    } finally {
      console.error = original;
    }
    expect(got).toEqual([1, 2]);
    expect(errors).toHaveLength(2);
  });

  it('unsubscribe removes exactly one subscription, once() fires once', () => {
    const e = new Emitter<{ tick: () => void }>();
    let a = 0;
    const listener = (): void => void a++;
    const off1 = e.on('tick', listener);
    e.on('tick', listener);
    off1();
    off1();
    let b = 0;
    e.once('tick', () => void b++);
    e.emit('tick');
    e.emit('tick');
    expect(a).toBe(2);
    expect(b).toBe(1);
  });
});

describe('jitteredBackoff', () => {
  it('stays within [ceiling/2, ceiling] and gives up after maxAttempts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, r) => {
          const policy = jitteredBackoff({
            initialDelayMs: 100,
            maxDelayMs: 10_000,
            random: () => r,
          });
          const delay = policy.nextRetryDelayMs(attempt)!;
          const ceiling = Math.min(10_000, 100 * 2 ** attempt);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
    expect(jitteredBackoff({ maxAttempts: 3 }).nextRetryDelayMs(3)).toBeNull();
    expect(() => jitteredBackoff({ initialDelayMs: 0 })).toThrow(TypeError);
  });
});

describe('stats summarize', () => {
  const report = (
    bytesIn: number,
    bytesOut: number,
    lost: number,
    received: number,
    relay = false,
  ) => [
    {
      id: 'T',
      type: 'transport',
      bytesReceived: bytesIn,
      bytesSent: bytesOut,
      selectedCandidatePairId: 'P',
    },
    {
      id: 'P',
      type: 'candidate-pair',
      localCandidateId: 'L',
      remoteCandidateId: 'R',
      currentRoundTripTime: 0.042,
    },
    { id: 'L', type: 'local-candidate', candidateType: relay ? 'relay' : 'host' },
    { id: 'R', type: 'remote-candidate', candidateType: 'srflx' },
    {
      id: 'V',
      type: 'inbound-rtp',
      kind: 'video',
      packetsLost: lost,
      packetsReceived: received,
      jitter: 0.005,
      framesPerSecond: 30,
    },
  ];

  it('computes rates and loss between two reports', () => {
    const first = summarize(report(0, 0, 0, 0), null, 1_000);
    expect(first.sample.bitrateInKbps).toBe(0);
    const second = summarize(report(125_000, 62_500, 10, 90), first.totals, 2_000);
    expect(second.sample).toMatchObject({
      bitrateInKbps: 1000,
      bitrateOutKbps: 500,
      rttMs: 42,
      packetLoss: 0.1,
      jitterMs: 5,
      framesPerSecond: 30,
      path: 'direct',
    });
    expect(summarize(report(1, 1, 0, 0, true), null, 0).sample.path).toBe('relay');
    expect(summarize([], null, 0).sample).toMatchObject({
      path: 'unknown',
      rttMs: null,
      framesPerSecond: null,
    });
  });
});

describe('peer messages', () => {
  it('accept well-formed messages and drop malformed or oversized ones', () => {
    expect(controlDecoder.decode('{"type":"chat","text":"hi","at":1}').ok).toBe(true);
    expect(
      controlDecoder.decode('{"type":"chat","text":"' + 'x'.repeat(16_001) + '","at":1}').ok,
    ).toBe(false);
    expect(controlDecoder.decode('{"type":"media","audio":true,"video":false}').ok).toBe(false);
    expect(controlDecoder.decode('{"type":"__proto__"}').ok).toBe(false);
    const offer = {
      type: 'file-offer',
      id: 'f1',
      n: 0,
      name: 'a.txt',
      mime: '',
      size: 3,
      sha256: 'a'.repeat(64),
    };
    expect(fileDecoder.check(offer).ok).toBe(true);
    expect(fileDecoder.check({ ...offer, sha256: 'zz' }).ok).toBe(false);
    expect(fileDecoder.check({ ...offer, size: -1 }).ok).toBe(false);
  });
});
