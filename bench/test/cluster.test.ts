/**
 * Smoke test of the cluster benchmark (bench/cluster.js): a tiny run with three nodes and one
 * Redis must hold every client, deliver every relayed message exactly once, and report every
 * figure. Speed is not asserted (timings on a shared 2-core machine are noise).
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../cluster.js', import.meta.url));

interface Relay {
  storm: { messages: number; received: number; perSec: number; cpuUs: number[] };
  fixed: { messages: number; received: number; p50: number; p99: number; cpuUs: number[] };
  duplicates: number;
}

describe('bench/cluster.js', () => {
  it('holds every client and relays every message once, across nodes and on one node', async () => {
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [SCRIPT, '--clients', '60', '--rate', '200', '--seconds', '1', '--storm', '5'],
        { timeout: 120_000 },
        (err, _stdout, errText) =>
          err ? reject(new Error(`${err.message}\n${errText}`)) : resolve(errText),
      );
    });
    const path = /raw results: (.+\.json)/.exec(stderr)?.[1];
    expect(path).toBeDefined();
    const results = JSON.parse(readFileSync(path!, 'utf8')) as {
      cluster: Relay & { held: number; pairs: number };
      single: Relay;
    };
    rmSync(path!);
    expect(results.cluster.held).toBe(60);
    expect(results.cluster.pairs).toBe(20);
    for (const r of [results.cluster, results.single]) {
      expect(r.storm.received).toBe(r.storm.messages);
      expect(r.fixed.received).toBe(r.fixed.messages);
      expect(r.duplicates).toBe(0);
      expect(r.storm.perSec).toBeGreaterThan(0);
      expect(r.fixed.p99).toBeGreaterThan(0);
    }
    // Redis's CPU is measured (first reading), and each of the three nodes'.
    expect(results.cluster.fixed.cpuUs).toHaveLength(4);
  }, 150_000);
});
