// One server under test through every phase: start it, log N clients in, pair them, storm,
// fixed rate, and read its CPU and memory from /proc around each phase.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prioritize } from './priority.js';
import { cpuSample, machineBusyUs, rssBytes, statCpuUs } from './proc.js';
import { ServerUnderTest } from './server-under-test.js';
import { percentile, sorted } from './stats.js';
import { TARGETS } from './targets.js';
import { Worker, requestAll } from './workers.js';

const GC_HOOK = new URL('../gc-hook.js', import.meta.url).href;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// CLOCK_MONOTONIC in µs: the clock V8 stamps CPU profile samples with on Linux, so these
// instants select a phase's samples in a server's --cpu-prof output (bench/profile-summary.js).
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Memory once the server is quiet. With the gc-hook preload: two full GCs (the first can leave
 * finalizers whose memory only the second frees) and the heap figures the hook reports. Then the
 * lowest RSS seen over `settleMs`, since RSS only falls when memory is given back.
 */
async function settledMemory(server, settleMs, forceGc) {
  let heap = null;
  if (forceGc) {
    await server.gcAndReportMemory();
    heap = await server.gcAndReportMemory();
  }
  let rss = rssBytes(server.pid);
  const deadline = performance.now() + settleMs;
  while (performance.now() < deadline) {
    await sleep(100);
    rss = Math.min(rss, rssBytes(server.pid));
  }
  // Heap in use plus memory held outside the heap by JS objects (socket buffers among them).
  return { rss, live: heap ? heap.heapUsed + heap.external : null };
}

function cpuDelta(pid, before) {
  const after = cpuSample(pid);
  return {
    statUs: after.statUs - before.statUs,
    schedUs:
      after.schedUs === null || before.schedUs === null ? null : after.schedUs - before.schedUs,
  };
}

const cpuTotalUs = ({ user, system }) => user + system;

function sumErrors(results) {
  const out = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.errors ?? {})) out[k] = (out[k] ?? 0) + v;
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
  const nodeFlags = opts.gc ? ['--expose-gc', '--import', GC_HOOK] : [];
  const profileDir = opts.profile ? join(opts.out, 'profiles', `${targetName}-r${round}`) : null;
  if (profileDir) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
    nodeFlags.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  }
  const server = new ServerUnderTest(target.label, [...nodeFlags, ...target.args({ dataDir })], {
    cwd: dataDir,
  });
  /** @type {Worker[]} */
  const workers = [];
  const phaseTimeoutMs = 90_000;
  try {
    const port = await server.ready(20_000);
    const url = `ws://127.0.0.1:${port}/`;
    const pid = server.pid;
    for (let i = 0; i < opts.workers; i++) workers.push(new Worker());
    if (opts.priority !== null)
      prioritize([pid, ...workers.map((w) => w.child.pid)], opts.priority);
    await requestAll(workers, 'init', () => ({ dialect: target.dialect }), 10_000);

    // Everything from here on is watched for other work on the machine (see otherCpuCores).
    const ownPids = [pid, ...workers.map((w) => w.child.pid)];
    const ownCpuUs = () =>
      ownPids.reduce((sum, p) => sum + statCpuUs(p), 0) + cpuTotalUs(process.cpuUsage());
    const runStart = { wallMs: performance.now(), machineUs: machineBusyUs(), ownUs: ownCpuUs() };
    const perWorker = opts.clients / opts.workers;
    const namesFor = (w) => Array.from({ length: perWorker }, (_, i) => `u${w}n${i}`);
    const idle = await settledMemory(server, opts.settleMs, opts.gc);

    // (a) login
    const loginWindowUs = [monotonicUs(), 0];
    let cpu = cpuSample(pid);
    let t0 = performance.now();
    const logins = await requestAll(
      workers,
      'login',
      (w) => ({ url, names: namesFor(w), concurrency: opts.loginConcurrency, timeoutMs: 60_000 }),
      phaseTimeoutMs,
    );
    const loginWallMs = performance.now() - t0;
    loginWindowUs[1] = monotonicUs();
    const loginCpu = cpuDelta(pid, cpu);
    const loginFailed = logins.reduce((n, r) => n + r.failed, 0);
    if (loginFailed) throw new Error(`${loginFailed} of ${opts.clients} logins failed`);
    const loggedIn = await settledMemory(server, opts.settleMs, opts.gc);
    // What N idle logged-in clients cost per second (timers, heartbeats): it is part of every
    // phase's CPU reading and explains why a slow fixed rate costs more per message than a storm.
    cpu = cpuSample(pid);
    t0 = performance.now();
    await sleep(opts.idleMs);
    const idleCpu = cpuDelta(pid, cpu);
    const idleWallMs = performance.now() - t0;
    log(`  login ${opts.clients} in ${loginWallMs.toFixed(0)} ms`);

    // (b) call setup
    const setupWindowUs = [monotonicUs(), 0];
    cpu = cpuSample(pid);
    const setups = await requestAll(
      workers,
      'setup',
      () => ({ ratePerSec: opts.setupRate / opts.workers, timeoutMs: 60_000 }),
      phaseTimeoutMs,
    );
    const setupCpu = cpuDelta(pid, cpu);
    setupWindowUs[1] = monotonicUs();
    const setupFailed = setups.reduce((n, r) => n + r.failed, 0);
    if (setupFailed) {
      throw new Error(`${setupFailed} call setups failed: ${JSON.stringify(sumErrors(setups))}`);
    }
    const roundTrips = sorted(...setups.map((r) => r.roundTripsMs));
    log(`  ${roundTrips.length} calls set up`);

    // (c) candidate storm
    const windowsUs = {
      login: loginWindowUs,
      setup: setupWindowUs,
      storm: [monotonicUs(), 0],
      fixed: [0, 0],
    };
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
    windowsUs.storm[1] = monotonicUs();
    const storm = {
      sent: storms.reduce((n, r) => n + r.sent, 0),
      received: storms.reduce((n, r) => n + r.received, 0),
      duplicates: storms.reduce((n, r) => n + r.duplicates, 0),
      verified: storms.reduce((n, r) => n + r.verified, 0),
      corrupted: storms.reduce((n, r) => n + r.corrupted, 0),
      wrongSource: storms.reduce((n, r) => n + r.wrongSource, 0),
      errors: sumErrors(storms),
    };
    log(`  storm ${storm.received}/${storm.sent} in ${stormWallMs.toFixed(0)} ms`);

    // (d) fixed rate
    windowsUs.fixed[0] = monotonicUs();
    cpu = cpuSample(pid);
    const fixeds = await requestAll(
      workers,
      'fixed',
      () => ({
        ratePerSec: opts.effectiveRate / opts.workers,
        durationMs: opts.fixedMs,
        drainMs: 10_000,
      }),
      opts.fixedMs + phaseTimeoutMs,
    );
    const fixedCpu = cpuDelta(pid, cpu);
    windowsUs.fixed[1] = monotonicUs();
    // CPU time spent by processes other than this benchmark's while it ran, in cores. A few
    // hundredths is the kernel and the system's daemons; more means the figures of this run
    // were taken on a busy machine (another build or test suite), and latencies suffer first.
    const otherCpuCores =
      (machineBusyUs() - runStart.machineUs - (ownCpuUs() - runStart.ownUs)) /
      ((performance.now() - runStart.wallMs) * 1000);
    const latencies = sorted(...fixeds.map((r) => r.latenciesMs));
    const fixed = {
      sent: fixeds.reduce((n, r) => n + r.sent, 0),
      received: fixeds.reduce((n, r) => n + r.received, 0),
      duplicates: fixeds.reduce((n, r) => n + r.duplicates, 0),
      verified: fixeds.reduce((n, r) => n + r.verified, 0),
      corrupted: fixeds.reduce((n, r) => n + r.corrupted, 0),
      wrongSource: fixeds.reduce((n, r) => n + r.wrongSource, 0),
      maxSendLagMs: Math.max(...fixeds.map((r) => r.maxSendLagMs)),
      // Per half second, the worse of the generators' median latencies.
      timelineP50Ms: fixeds[0].timelineP50Ms.map((_, i) =>
        Math.max(...fixeds.map((r) => r.timelineP50Ms[i] ?? NaN)),
      ),
      errors: sumErrors(fixeds),
    };
    log(`  fixed ${fixed.received}/${fixed.sent} at ${opts.effectiveRate}/s`);
    await requestAll(workers, 'close', () => ({}), 10_000);

    const relayed = storm.received + fixed.received;
    const relayCpuSched =
      stormCpu.schedUs === null || fixedCpu.schedUs === null
        ? null
        : stormCpu.schedUs + fixedCpu.schedUs;
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
        stormCpuUsPerMsg: (stormCpu.schedUs ?? stormCpu.statUs) / storm.received,
        fixedCpuUsPerMsg: (fixedCpu.schedUs ?? fixedCpu.statUs) / fixed.received,
        idleCpuMsPerSec: (idleCpu.schedUs ?? idleCpu.statUs) / idleWallMs,
        memBytesPerClient: (loggedIn.rss - idle.rss) / opts.clients,
        liveBytesPerClient: idle.live === null ? NaN : (loggedIn.live - idle.live) / opts.clients,
      },
      otherCpuCores,
      lost: storm.sent - storm.received + (fixed.sent - fixed.received),
      // Sampled relayed candidates that differed from what was sent (the relay must not alter them).
      corrupted: storm.corrupted + fixed.corrupted,
      // Relayed candidates whose stamped sender (PeerJS's `src`) was not the receiver's peer.
      wrongSource: storm.wrongSource + fixed.wrongSource,
      storm: { ...storm, wallMs: stormWallMs, perClient: opts.candidates },
      fixed: {
        ...fixed,
        ratePerSec: opts.effectiveRate,
        durationMs: opts.fixedMs,
        maxLatencyMs: latencies.at(-1) ?? NaN,
      },
      cpu: {
        source: relayCpuSched === null ? 'stat' : 'schedstat',
        relayUsPerMsgStat: relayCpuStat / relayed,
        relayUsPerMsgSched: relayCpuSched === null ? null : relayCpuSched / relayed,
        loginUsPerLogin: (loginCpu.schedUs ?? loginCpu.statUs) / opts.clients,
        setupUsPerCall: (setupCpu.schedUs ?? setupCpu.statUs) / (opts.clients / 2),
      },
      memory: { idle, loggedIn },
      windowsUs,
      profileDir,
      login: { wallMs: loginWallMs },
      setup: { calls: roundTrips.length, maxMs: roundTrips.at(-1) ?? NaN },
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
