/**
 * Smoke test of the PeerJS comparison (npm run bench -- --peerjs): a tiny run against the
 * PeerJS server (`peer`) and callwire's PeerJS dialect, both driven by clients that speak the
 * PeerJS client's protocol. Every relayed candidate must arrive exactly once, unchanged, naming
 * its sender's id as `src`, and the report must carry every figure for both servers and their
 * ratio. Speed is not asserted: timings on a shared 2-core machine are noise.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RUN = fileURLToPath(new URL('../run.js', import.meta.url));
const TARGETS = ['peerjs', 'callwire-peerjs'];
const CLIENTS = 20;
// RSS per client and idle CPU are checked apart (see bench.test.ts for why).
const POSITIVE_METRICS = [
  'loginsPerSec',
  'setupP50Ms',
  'setupP99Ms',
  'stormMsgsPerSec',
  'relayP50Ms',
  'relayP99Ms',
  'cpuUsPerMsg',
  'stormCpuUsPerMsg',
  'fixedCpuUsPerMsg',
  'liveBytesPerClient',
];

interface Phase {
  sent: number;
  received: number;
  duplicates: number;
  verified: number;
  corrupted: number;
  wrongSource: number;
}
interface Result {
  target: string;
  lost: number;
  corrupted: number;
  wrongSource: number;
  metrics: Record<string, number>;
  storm: Phase;
  fixed: Phase;
  setup: { calls: number };
}

let outDir = '';
let stdout = '';
let results: Result[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'callwire-bench-peerjs-'));
  stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        RUN,
        '--peerjs',
        '--quick',
        '--clients',
        String(CLIENTS),
        '--candidates',
        '10',
        '--rate',
        '400',
        '--fixed-ms',
        '500',
        '--settle-ms',
        '100',
        '--idle-ms',
        '100',
        '--out',
        outDir,
      ],
      { timeout: 60_000, maxBuffer: 1 << 24 },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
  });
  const files = readdirSync(outDir).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  results = JSON.parse(readFileSync(join(outDir, files[0]!), 'utf8')).results;
}, 90_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('PeerJS benchmark (--peerjs)', () => {
  it('measures the PeerJS server and callwire once each', () => {
    expect(results.map((r) => r.target).sort()).toEqual([...TARGETS].sort());
  });

  it.each(TARGETS)('%s relays every candidate once, unchanged, from the right src', (target) => {
    const result = results.find((r) => r.target === target)!;
    expect(result.setup.calls).toBe(CLIENTS / 2);
    for (const phase of [result.storm, result.fixed]) {
      expect(phase.sent).toBeGreaterThan(0);
      expect(phase.received).toBe(phase.sent);
      expect(phase.duplicates).toBe(0);
      expect(phase.wrongSource).toBe(0);
      expect(phase.verified).toBeGreaterThan(0);
      expect(phase.corrupted).toBe(0);
    }
    expect(result.lost).toBe(0);
    expect(result.corrupted).toBe(0);
    expect(result.wrongSource).toBe(0);
  });

  it.each(TARGETS)('reports every metric for %s', (target) => {
    const result = results.find((r) => r.target === target)!;
    for (const key of POSITIVE_METRICS) {
      const value = result.metrics[key];
      expect(Number.isFinite(value) && value! > 0, `${target} ${key} = ${value}`).toBe(true);
    }
    expect(Number.isFinite(result.metrics.memBytesPerClient)).toBe(true);
    expect(result.metrics.idleCpuMsPerSec).toBeGreaterThanOrEqual(0);
  });

  it('prints the comparison with the ratios callwire / PeerJS server', () => {
    expect(stdout).toContain('| round | server |');
    expect(stdout).toContain('| metric (median of rounds) | peerjs | callwire-peerjs |');
    expect(stdout).toContain('callwire-peerjs / peerjs');
    expect(stdout).toMatch(/callwire-peerjs against peerjs: CPU per relayed message [\d.]+x/);
    expect(stdout).toContain('from the wrong sender');
  });
});
