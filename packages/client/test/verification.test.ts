/**
 * Verified calls (issue 11): the safety-code derivation, reading the DTLS keys out of a stats
 * report, the trust decision, and the commit-then-reveal nonce exchange between two sides.
 * The browser suites (test/e2e/web-verify.test.ts, verify-mitm.test.ts) cover real calls.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlDecoder } from '../src/peer-messages.js';
import {
  CallVerification,
  classify,
  commitmentOf,
  deriveSafetyCode,
  fingerprintsFromStats,
  newNonce,
  type VerifyMessage,
} from '../src/verification.js';

const FP_A =
  'sha-256 6F:1B:0C:6A:8E:55:2D:3C:9A:71:04:BE:EE:12:90:3A:5D:77:C1:08:2E:F4:19:AA:63:5B:D0:47:8C:21:E9:30';
const FP_B =
  'sha-256 02:9D:E4:7C:31:A8:5F:66:B0:1E:C3:78:4A:9B:D2:05:E7:8F:13:6C:AD:40:F9:22:5E:B7:0A:94:3D:C8:61:7B';
const N_A = '00'.repeat(32);
const N_B = 'ff'.repeat(32);
const CALL = 'c-3f9a2b';

/** The derivation as docs/SECURITY.md states it, written again with node:crypto. */
function documented(callId: string, sides: Array<[string, string]>): string {
  const entries = sides.map(([fp, nonce]) => `${fp}|${nonce}`).sort();
  const hash = createHash('sha256')
    .update(['callwire safety code v1', callId, ...entries].join('\n'))
    .digest();
  const digits = (hash.readBigUInt64BE(0) % 1_000_000n).toString().padStart(6, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

const hex64 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('hex'));
const fingerprint = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map(
    (b) => `sha-256 ${[...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':')}`,
  );

describe('safety code derivation', () => {
  it('known-answer vectors', async () => {
    // Computed once and kept: a change here changes every code people compare.
    expect(
      await deriveSafetyCode(
        CALL,
        { fingerprint: FP_A, nonce: N_A },
        { fingerprint: FP_B, nonce: N_B },
      ),
    ).toBe(KAT[0]);
    expect(
      await deriveSafetyCode(
        '',
        { fingerprint: FP_A, nonce: N_B },
        { fingerprint: FP_B, nonce: N_A },
      ),
    ).toBe(KAT[1]);
    expect(
      documented(CALL, [
        [FP_A, N_A],
        [FP_B, N_B],
      ]),
    ).toBe(KAT[0]);
  });

  it('is symmetric, stable, six digits, and matches the documented algorithm', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string(),
        fingerprint,
        hex64,
        fingerprint,
        hex64,
        async (id, fa, na, fb, nb) => {
          const a = { fingerprint: fa, nonce: na };
          const b = { fingerprint: fb, nonce: nb };
          const ab = await deriveSafetyCode(id, a, b);
          expect(await deriveSafetyCode(id, b, a)).toBe(ab);
          expect(await deriveSafetyCode(id, a, b)).toBe(ab);
          expect(ab).toMatch(/^\d{3} \d{3}$/);
          expect(
            documented(id, [
              [fa, na],
              [fb, nb],
            ]),
          ).toBe(ab);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('changes when either fingerprint, either nonce or the call id changes', async () => {
    const base = await deriveSafetyCode(
      CALL,
      { fingerprint: FP_A, nonce: N_A },
      { fingerprint: FP_B, nonce: N_B },
    );
    const flip = (fp: string): string => fp.slice(0, -1) + (fp.endsWith('0') ? '1' : '0');
    const variants = [
      deriveSafetyCode(
        CALL,
        { fingerprint: flip(FP_A), nonce: N_A },
        { fingerprint: FP_B, nonce: N_B },
      ),
      deriveSafetyCode(
        CALL,
        { fingerprint: FP_A, nonce: N_A },
        { fingerprint: flip(FP_B), nonce: N_B },
      ),
      deriveSafetyCode(
        CALL,
        { fingerprint: FP_A, nonce: '01'.repeat(32) },
        { fingerprint: FP_B, nonce: N_B },
      ),
      deriveSafetyCode(
        CALL,
        { fingerprint: FP_A, nonce: N_A },
        { fingerprint: FP_B, nonce: 'fe'.repeat(32) },
      ),
      deriveSafetyCode(
        `${CALL}x`,
        { fingerprint: FP_A, nonce: N_A },
        { fingerprint: FP_B, nonce: N_B },
      ),
    ];
    for (const v of await Promise.all(variants)) expect(v).not.toBe(base);
  });

  it('the commitment is SHA-256 over a label and the nonce', async () => {
    const nonce = newNonce();
    expect(nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(await commitmentOf(nonce)).toBe(
      createHash('sha256').update(`callwire safety code commit v1\n${nonce}`).digest('hex'),
    );
  });
});

describe('keys from stats', () => {
  const report = [
    {
      id: 'T01',
      type: 'transport',
      dtlsState: 'connected',
      localCertificateId: 'CFa',
      remoteCertificateId: 'CFb',
    },
    {
      id: 'CFa',
      type: 'certificate',
      fingerprint: FP_A.slice(8).toLowerCase(),
      fingerprintAlgorithm: 'SHA-256',
    },
    { id: 'CFb', type: 'certificate', fingerprint: FP_B.slice(8), fingerprintAlgorithm: 'sha-256' },
  ];

  it('reads the connected transport’s local and remote certificates, normalized', () => {
    expect(fingerprintsFromStats(report)).toEqual({ local: FP_A, remote: FP_B });
  });

  it('has nothing before DTLS connects or while a certificate is missing', () => {
    expect(
      fingerprintsFromStats([{ ...report[0]!, dtlsState: 'connecting' }, report[1]!, report[2]!]),
    ).toBeNull();
    expect(fingerprintsFromStats([report[0]!, report[1]!])).toBeNull();
    expect(fingerprintsFromStats([])).toBeNull();
  });
});

describe('trust on first use', () => {
  it('verified only for a remembered key; a new key of a known person is key_changed', () => {
    expect(classify(FP_A, [])).toBe('unverified');
    expect(classify(FP_A, [FP_A])).toBe('verified');
    expect(classify(FP_A, [FP_B, FP_A])).toBe('verified');
    expect(classify(FP_A, [FP_B])).toBe('key_changed');
  });
});

/** Two CallVerifications over a fake peer connection each, wired to each other. */
function pairOfSides(intercept?: (from: 'a' | 'b', msg: VerifyMessage) => VerifyMessage | null) {
  const stats = (local: string, remote: string) => [
    {
      id: 'T',
      type: 'transport',
      dtlsState: 'connected',
      localCertificateId: 'L',
      remoteCertificateId: 'R',
    },
    { id: 'L', type: 'certificate', fingerprint: local.slice(8), fingerprintAlgorithm: 'sha-256' },
    { id: 'R', type: 'certificate', fingerprint: remote.slice(8), fingerprintAlgorithm: 'sha-256' },
  ];
  const fakePc = (records: object[]) =>
    ({
      getStats: async () => new Map(records.map((r, i) => [String(i), r])),
    }) as unknown as RTCPeerConnection;
  const changes = { a: 0, b: 0 };
  const side = (name: 'a' | 'b', local: string, remote: string) =>
    new CallVerification({
      pc: fakePc(stats(local, remote)),
      keys: null,
      callId: () => CALL,
      self: () => name,
      peer: () => (name === 'a' ? 'b' : 'a'),
      changed: () => void changes[name]++,
    });
  const a = side('a', FP_A, FP_B);
  const b = side('b', FP_B, FP_A);
  const sent: Array<['a' | 'b', VerifyMessage]> = [];
  const wire = (from: 'a' | 'b', to: CallVerification) => (msg: VerifyMessage) => {
    // Every message also goes through the real decoder, as it does on the data channel.
    const decoded = controlDecoder.decode(JSON.stringify(msg));
    expect(decoded.ok).toBe(true);
    sent.push([from, msg]);
    const out = intercept ? intercept(from, msg) : msg;
    if (out !== null) queueMicrotask(() => to.receive(out));
  };
  return {
    a,
    b,
    sent,
    changes,
    connect: () => {
      a.channelOpen(wire('a', b));
      b.channelOpen(wire('b', a));
      a.transportConnected();
      b.transportConnected();
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('the nonce exchange', () => {
  it('both sides get the same code; nobody reveals before the other has committed', async () => {
    const { a, b, sent, connect } = pairOfSides();
    connect();
    await until(() => a.code !== null && b.code !== null);
    expect(a.code).toMatch(/^\d{3} \d{3}$/);
    expect(b.code).toBe(a.code);
    expect(a.state).toBe('unverified');
    for (const who of ['a', 'b'] as const) {
      const other = who === 'a' ? 'b' : 'a';
      const reveal = sent.findIndex(([f, m]) => f === who && m.type === 'verify-reveal');
      const theirCommit = sent.findIndex(([f, m]) => f === other && m.type === 'verify-commit');
      expect(theirCommit).toBeGreaterThanOrEqual(0);
      expect(reveal).toBeGreaterThan(theirCommit);
    }
    await expect(a.markVerified()).resolves.toBe(false); // no storage here: not remembered
    expect(a.state).toBe('verified');
  });

  it('a nonce that does not match its commitment gives no code; markVerified refuses', async () => {
    const { a, b, connect } = pairOfSides((from, msg) =>
      from === 'b' && msg.type === 'verify-reveal' ? { ...msg, nonce: newNonce() } : msg,
    );
    connect();
    await until(() => b.code !== null);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.code).not.toBeNull();
    expect(a.code).toBeNull();
    await expect(a.markVerified()).rejects.toMatchObject({ name: 'InvalidStateError' });
  });

  it('a reveal before any commitment is ignored', async () => {
    const { a, b } = pairOfSides();
    a.transportConnected();
    a.receive({ type: 'verify-reveal', nonce: newNonce() });
    a.channelOpen(() => undefined);
    await until(() => a.state !== 'pending');
    await new Promise((r) => setTimeout(r, 20));
    expect(a.code).toBeNull();
    b.close();
  });
});

// Computed independently (Python hashlib) from the algorithm in docs/SECURITY.md.
const KAT = ['613 896', '901 595'];
