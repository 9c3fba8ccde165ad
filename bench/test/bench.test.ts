/**
 * Smoke test of the relay benchmark: a tiny --quick run against the bare relay and callwire
 * (native and tutorial clients) must produce every metric for every server, and every relayed
 * message must arrive exactly once. Speed is never asserted here: timings on a shared 2-core
 * machine are noise; BENCHMARKS.md holds the measured figures.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RUN = fileURLToPath(new URL('../run.js', import.meta.url));
const TARGETS = ['baseline', 'callwire', 'callwire-tutorial'];
// Every metric the report prints; RSS per client and idle CPU are checked apart (see below).
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
}
interface Result {
  target: string;
  lost: number;
  corrupted: number;
  metrics: Record<string, number>;
  storm: Phase;
  fixed: Phase;
  setup: { calls: number };
}

let outDir = '';
let stdout = '';
let results: Result[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'callwire-bench-test-'));
  stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        RUN,
        '--quick',
        '--clients',
        '40',
        '--fixed-ms',
        '800',
        '--settle-ms',
        '200',
        '--idle-ms',
        '200',
        '--out',
        outDir,
      ],
      { timeout: 90_000, maxBuffer: 1 << 24 },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
  });
  const files = readdirSync(outDir).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  results = JSON.parse(readFileSync(join(outDir, files[0]!), 'utf8')).results;
}, 120_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('relay benchmark (--quick)', () => {
  it('measures every server once', () => {
    expect(results.map((r) => r.target).sort()).toEqual([...TARGETS].sort());
  });

  it.each(TARGETS)('reports every metric for %s as a positive finite number', (target) => {
    const result = results.find((r) => r.target === target)!;
    for (const key of POSITIVE_METRICS) {
      const value = result.metrics[key];
      expect(Number.isFinite(value) && value! > 0, `${target} ${key} = ${value}`).toBe(true);
    }
    // RSS moves in pages and allocator arenas: with 40 clients its change can be smaller than
    // that granularity, so it must be a number but may read as zero or slightly negative.
    expect(Number.isFinite(result.metrics.memBytesPerClient)).toBe(true);
    // A bare relay with idle clients may truly use no CPU at all.
    expect(result.metrics.idleCpuMsPerSec).toBeGreaterThanOrEqual(0);
  });

  it.each(TARGETS)('%s relays every message exactly once and unchanged', (target) => {
    const result = results.find((r) => r.target === target)!;
    expect(result.setup.calls).toBe(20);
    for (const phase of [result.storm, result.fixed]) {
      expect(phase.sent).toBeGreaterThan(0);
      expect(phase.received).toBe(phase.sent);
      expect(phase.duplicates).toBe(0);
      expect(phase.verified).toBeGreaterThan(0);
      expect(phase.corrupted).toBe(0);
    }
    expect(result.lost).toBe(0);
    expect(result.corrupted).toBe(0);
  });

  it('prints the Markdown comparison with the ratios to the bare relay', () => {
    expect(stdout).toContain('| round | server |');
    expect(stdout).toContain('callwire / baseline');
    expect(stdout).toContain('callwire-tutorial / baseline');
  });
});
