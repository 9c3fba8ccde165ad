// One server under test through every phase: start it, log N clients in, pair them, storm,
// fixed rate, and read its CPU and memory from /proc around each phase.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSample, rssBytes } from './proc.js';
import { ServerUnderTest } from './server-under-test.js';
import { percentile, sorted } from './stats.js';
import { TARGETS } from './targets.js';
import { Worker, requestAll } from './workers.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lowest RSS seen over `settleMs`: the closest a reading gets to live memory without a GC hook. */
async function settledRss(pid, settleMs) {
  let lowest = rssBytes(pid);
  const deadline = performance.now() + settleMs;
  while (performance.now() < deadline) {
    await sleep(100);
    lowest = Math.min(lowest, rssBytes(pid));
  }
  return lowest;
}

function cpuDelta(pid, before) {
  const after = cpuSample(pid);
  return {
    statUs: after.statUs - before.statUs,
    schedUs: after.schedUs === null || before.schedUs === null ? null : after.schedUs - before.schedUs,
  };
}

function sumErrors(results) {
  const out = {};
  for (const r of results) for (const [k, v] of Object.entries(r.errors ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * @param {string} targetName key of TARGETS
 * @param {ReturnType<typeof import('./options.js').parseOptions>} opts
 * @param {{ round: number, log: (line: string) => void }} ctx
 */
export async function measureTarget(targetName, opts, { round, log }) {
  const target = TARGETS[targetName];
  const dataDir = mkdtempSync(join(tmpdir(), 'callwire-bench-'));
  const nodeFlags = [];
  if (opts.profile) {
    const dir = join(opts.out, 'profiles', `${targetName}-r${round}`);
    mkdirSync(dir, { recursive: true });
    nodeFlags.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const server = new ServerUnderTest(target.label, [...nodeFlags, ...target.args({ dataDir })], { cwd: dataDir });
  /** @type {Worker[]} */
  const workers = [];
  const phaseTimeoutMs = 90_000;
  try {
    const port = await server.ready(20_000);
    const url = `ws://127.0.0.1:${port}/`;
    const pid = server.pid;
    for (let i = 0; i < opts.workers; i++) workers.push(new Worker());
    await requestAll(workers, 'init', () => ({ dialect: target.dialect }), 10_000);

    const perWorker = opts.clients / opts.workers;
    const namesFor = (w) => Array.from({ length: perWorker }, (_, i) => `u${w}n${i}`);
    const rssIdle = await settledRss(pid, opts.settleMs);

    // (a) login
    let cpu = cpuSample(pid);
    let t0 = performance.now();
    const logins = await requestAll(
      workers,
      'login',
      (w) => ({ url, names: namesFor(w), concurrency: opts.loginConcurrency, timeoutMs: 60_000 }),
      phaseTimeoutMs,
    );
    const loginWallMs = performance.now() - t0;
    const loginCpu = cpuDelta(pid, cpu);
    const loginFailed = logins.reduce((n, r) => n + r.failed, 0);
    if (loginFailed) throw new Error(`${loginFailed} of ${opts.clients} logins failed`);
    const rssLoggedIn = await settledRss(pid, opts.settleMs);
    log(`  login ${opts.clients} in ${loginWallMs.toFixed(0)} ms`);

    // (b) call setup
    cpu = cpuSample(pid);
    const setups = await requestAll(
      workers,
      'setup',
      () => ({ ratePerSec: opts.setupRate / opts.workers, timeoutMs: 60_000 }),
      phaseTimeoutMs,
    );
    const setupCpu = cpuDelta(pid, cpu);
    const setupFailed = setups.reduce((n, r) => n + r.failed, 0);
    if (setupFailed) {
      throw new Error(`${setupFailed} call setups failed: ${JSON.stringify(sumErrors(setups))}`);
    }
    const roundTrips = sorted(...setups.map((r) => r.roundTripsMs));
    log(`  ${roundTrips.length} calls set up`);

    // (c) candidate storm
    cpu = cpuSample(pid);
    t0 = performance.now();
    const storms = await requestAll(
      workers,
      'storm',
      () => ({ perClient: opts.candidates, timeoutMs: 60_000 }),
      phaseTimeoutMs,
    );
    const stormWallMs = Math.max(...storms.map((r) => r.elapsedMs));
    const stormCpu = cpuDelta(pid, cpu);
    const storm = {
      sent: storms.reduce((n, r) => n + r.sent, 0),
      received: storms.reduce((n, r) => n + r.received, 0),
      duplicates: storms.reduce((n, r) => n + r.duplicates, 0),
      errors: sumErrors(storms),
    };
    log(`  storm ${storm.received}/${storm.sent} in ${stormWallMs.toFixed(0)} ms`);

    // (d) fixed rate
    cpu = cpuSample(pid);
    const fixeds = await requestAll(
      workers,
      'fixed',
      () => ({ ratePerSec: opts.effectiveRate / opts.workers, durationMs: opts.fixedMs, drainMs: 10_000 }),
      opts.fixedMs + phaseTimeoutMs,
    );
    const fixedCpu = cpuDelta(pid, cpu);
    const latencies = sorted(...fixeds.map((r) => r.latenciesMs));
    const fixed = {
      sent: fixeds.reduce((n, r) => n + r.sent, 0),
      received: fixeds.reduce((n, r) => n + r.received, 0),
      duplicates: fixeds.reduce((n, r) => n + r.duplicates, 0),
      maxSendLagMs: Math.max(...fixeds.map((r) => r.maxSendLagMs)),
      errors: sumErrors(fixeds),
    };
    log(`  fixed ${fixed.received}/${fixed.sent} at ${opts.effectiveRate}/s`);
    await requestAll(workers, 'close', () => ({}), 10_000);

    const relayed = storm.received + fixed.received;
    const relayCpuSched =
      stormCpu.schedUs === null || fixedCpu.schedUs === null ? null : stormCpu.schedUs + fixedCpu.schedUs;
    const relayCpuStat = stormCpu.statUs + fixedCpu.statUs;
    return {
      target: targetName,
      label: target.label,
      round,
      clients: opts.clients,
      metrics: {
        loginsPerSec: opts.clients / (loginWallMs / 1000),
        setupP50Ms: percentile(roundTrips, 50),
        setupP99Ms: percentile(roundTrips, 99),
        stormMsgsPerSec: storm.received / (stormWallMs / 1000),
        relayP50Ms: percentile(latencies, 50),
        relayP99Ms: percentile(latencies, 99),
        // Nanosecond scheduler accounting where the kernel has it; /proc/<pid>/stat ticks (10 ms)
        // otherwise. Both are kept in `cpu` below; on full runs they agree within a few percent.
        cpuUsPerMsg: (relayCpuSched ?? relayCpuStat) / relayed,
        memBytesPerClient: (rssLoggedIn - rssIdle) / opts.clients,
      },
      lost: storm.sent - storm.received + (fixed.sent - fixed.received),
      storm: { ...storm, wallMs: stormWallMs, perClient: opts.candidates },
      fixed: { ...fixed, ratePerSec: opts.effectiveRate, durationMs: opts.fixedMs, maxLatencyMs: latencies.at(-1) ?? NaN },
      cpu: {
        source: relayCpuSched === null ? 'stat' : 'schedstat',
        relayUsPerMsgStat: relayCpuStat / relayed,
        relayUsPerMsgSched: relayCpuSched === null ? null : relayCpuSched / relayed,
        loginUsPerLogin: (loginCpu.schedUs ?? loginCpu.statUs) / opts.clients,
        setupUsPerCall: (setupCpu.schedUs ?? setupCpu.statUs) / (opts.clients / 2),
        stormUsPerMsg: (stormCpu.schedUs ?? stormCpu.statUs) / storm.received,
        fixedUsPerMsg: (fixedCpu.schedUs ?? fixedCpu.statUs) / fixed.received,
      },
      memory: { rssIdleBytes: rssIdle, rssLoggedInBytes: rssLoggedIn },
      login: { wallMs: loginWallMs },
      setup: { calls: roundTrips.length, maxMs: roundTrips.at(-1) ?? NaN },
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
