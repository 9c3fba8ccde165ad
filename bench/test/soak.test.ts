/**
 * Smoke test of the soak (bench/soak.js): a run of a few seconds with 200 idle clients and 10
 * pairs that keep calling must drop no socket, lose no candidate, complete calls, and report
 * every figure of a real soak. Memory flatness is not asserted: a few seconds say nothing about
 * a trend; BENCHMARKS.md holds the 10-minute run.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SOAK = fileURLToPath(new URL('../soak.js', import.meta.url));

interface Latency {
  count: number;
  p50Ms: number;
  p99Ms: number;
}
interface Trend {
  samples: number;
  kibPerMin: number;
  meanKib: number;
  pctOfMeanPer10Min: number;
}
interface Summary {
  ok: boolean;
  login: { asked: number; loggedIn: number; failed: number };
  rss: Trend;
  heap: Trend;
  liveHeap: { startKib: number; endKib: number } | null;
  unexpectedCloses: number;
  notOpenAtEnd: number;
  serverCloses: Record<string, number>;
  calls: { started: number; completed: number; failed: number; setup: Latency };
  messages: Record<
    'sent' | 'received' | 'lost' | 'duplicates' | 'strays' | 'corrupted' | 'verified',
    number
  >;
  serverRelayed: number;
  ping: Latency;
  cpu: { meanCores: number };
  verdict: string[];
}
interface Sample {
  phase: string;
  rssKib: number;
  heapKib: number;
  online: number;
}

let outDir = '';
let stdout = '';
let summary: Summary;
let samples: Sample[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'callwire-soak-test-'));
  // 7 s of full load after the logins, a sample a second, 2-4 s calls: every pair completes
  // calls, and the whole run (server start, logins, teardown included) takes about 12 s on a
  // quiet machine.
  stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        SOAK,
        ...['--minutes', '0.12', '--idle', '200', '--calls', '10'],
        ...['--sample-s', '1', '--warmup-s', '2', '--talk-s', '2-4', '--pause-s', '0.5-1'],
        ...['--heartbeat-s', '2', '--out', outDir],
      ],
      { timeout: 90_000, maxBuffer: 1 << 24 },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
  });
  const files = readdirSync(outDir).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  const result = JSON.parse(readFileSync(join(outDir, files[0]!), 'utf8'));
  summary = result.summary;
  samples = result.samples;
}, 120_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('soak benchmark (15-second run)', () => {
  it('logs every client in and drops none of them', () => {
    expect(summary.login).toMatchObject({ asked: 220, loggedIn: 220, failed: 0 });
    expect(summary.unexpectedCloses).toBe(0);
    expect(summary.notOpenAtEnd).toBe(0);
    expect(summary.serverCloses).toEqual({});
    expect(samples.some((s) => s.online === 220)).toBe(true);
  });

  it('keeps calling, and every candidate arrives once, in order, unchanged', () => {
    expect(summary.calls.failed).toBe(0);
    expect(summary.calls.completed).toBeGreaterThanOrEqual(10);
    expect(summary.calls.started).toBe(summary.calls.completed);
    const m = summary.messages;
    expect(m.sent).toBeGreaterThan(0);
    expect(m.received).toBe(m.sent);
    expect([m.lost, m.duplicates, m.strays, m.corrupted]).toEqual([0, 0, 0, 0]);
    expect(m.verified).toBeGreaterThan(0);
    // The server's own count: the candidates plus each call's offer and answer.
    expect(summary.serverRelayed).toBe(m.sent + 2 * summary.calls.started);
  });

  it('reports memory samples, a trend, pings and CPU as finite numbers', () => {
    expect(samples.length).toBeGreaterThanOrEqual(8);
    for (const s of samples) {
      expect(s.rssKib).toBeGreaterThan(10 * 1024);
      expect(Number.isFinite(s.heapKib)).toBe(true);
    }
    expect(summary.rss.samples).toBeGreaterThanOrEqual(3);
    expect(Number.isFinite(summary.rss.kibPerMin)).toBe(true);
    expect(Number.isFinite(summary.rss.pctOfMeanPer10Min)).toBe(true);
    expect(Number.isFinite(summary.heap.kibPerMin)).toBe(true);
    expect(summary.liveHeap!.endKib).toBeGreaterThan(0);
    expect(summary.ping.count).toBeGreaterThan(200);
    expect(summary.ping.p99Ms).toBeGreaterThanOrEqual(summary.ping.p50Ms);
    expect(summary.calls.setup.count).toBe(summary.calls.started);
    expect(summary.cpu.meanCores).toBeGreaterThan(0);
    expect(summary.ok).toBe(true);
  });

  it('prints the summary table and the verdict', () => {
    expect(stdout).toContain('RSS slope after warm-up');
    expect(stdout).toContain('--max-connections-per-ip');
    expect(stdout).toMatch(
      /verdict: no socket dropped; every one of \d+ candidates delivered once/,
    );
  });
});
