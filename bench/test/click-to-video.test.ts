/**
 * Smoke test of the click-to-video benchmark (bench/browser/click-to-video.ts): a run of three
 * calls of each kind in real Chromium must report every row, the tutorial's own video page
 * included, with a finite time for every call. Speed is not asserted (timings on a shared
 * 2-core machine are noise; BENCHMARKS.md holds the measured figures).
 *
 * Like `npm run bench:browser`, the run gets a network namespace of its own with only loopback
 * (`unshare -n`, root), so no WebRTC traffic can leave the machine. The tutorial row needs the
 * seeds (shared/seeds beside the clone, or CALLWIRE_SEEDS), as the e2e suite that replays the
 * page does; without them this test fails.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../browser/click-to-video.ts', import.meta.url));
const VITE_NODE = fileURLToPath(new URL('../../node_modules/.bin/vite-node', import.meta.url));
const CALLS = 3;
const KINDS = ['callwire video', 'tutorial video', 'limit video', 'callwire voice', 'limit voice'];

interface Timing {
  iceMs: number;
  mediaMs: number;
}

let outDir = '';
let stdout = '';
let samples: Record<string, Timing[]> = {};

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'callwire-click-to-video-test-'));
  const out = join(outDir, 'result.json');
  stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'unshare',
      [
        '-n',
        'sh',
        '-c',
        'ip link set lo up && exec "$0" "$@"',
        VITE_NODE,
        SCRIPT,
        '--calls',
        String(CALLS),
        '--out',
        out,
      ],
      { timeout: 150_000, maxBuffer: 1 << 24 },
      (error, text, errText) =>
        error ? reject(new Error(`${error.message}\n${text}\n${errText}`)) : resolve(text),
    );
  });
  samples = (JSON.parse(readFileSync(out, 'utf8')) as { samples: Record<string, Timing[]> })
    .samples;
}, 180_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('click-to-video benchmark', () => {
  it('times every kind of call, the tutorial page among them', () => {
    expect(Object.keys(samples)).toEqual(KINDS);
  });

  it.each(KINDS)('reports %s for every call as positive finite times', (kind) => {
    const timings = samples[kind]!;
    expect(timings).toHaveLength(CALLS);
    for (const { iceMs, mediaMs } of timings) {
      expect(Number.isFinite(iceMs) && iceMs > 0, `${kind} ICE ${iceMs}`).toBe(true);
      expect(Number.isFinite(mediaMs) && mediaMs > 0, `${kind} media ${mediaMs}`).toBe(true);
    }
  });

  it('prints the tutorial row in the table beside callwire and the physical limit', () => {
    const number = String.raw`\d+\.\d`;
    for (const kind of KINDS) {
      expect(stdout).toMatch(
        new RegExp(
          `^\\| ${kind} \\| ${number} \\| ${number} \\| ${number} \\| ${number} \\|$`,
          'm',
        ),
      );
    }
    expect(stdout).toMatch(/^video: the tutorial page's median is -?\d+\.\d ms above/m);
    expect(stdout).toContain("timed from the offer reaching the callee's page");
  });
});
