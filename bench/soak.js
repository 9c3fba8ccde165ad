#!/usr/bin/env node
// The soak (npm run bench:soak): one callwire server holds 19,000 idle clients and 200 pairs
// that keep calling, for 10 minutes, while its memory is sampled every 10 s from outside. It
// answers three questions: does memory stay flat once warm (the least-squares slope of RSS
// after the warm-up), does any socket drop that should not, and does any relayed message go
// missing. See BENCHMARKS.md ("Soak") for what was measured.
//
//   node bench/soak.js [--minutes 10] [--idle 19000] [--calls 200] [--help]
//
// Not part of `npm test` (bench/test/soak.test.ts runs a 15-second version).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fdLimitFor } from './lib/fd-limit.js';
import { machineInfo } from './lib/machine.js';
import { prioritize, prioritizeSessionGroup } from './lib/priority.js';
import { ServerUnderTest } from './lib/server-under-test.js';
import { SOAK_USAGE, parseSoakOptions, shares } from './lib/soak-options.js';
import { latency, soakReport, trend } from './lib/soak-report.js';
import { median } from './lib/stats.js';
import { Sampler, byLabel, readMetrics } from './lib/soak-sampler.js';
import { TARGETS } from './lib/targets.js';
import { Worker, requestAll } from './lib/workers.js';

const GC_HOOK = new URL('./gc-hook.js', import.meta.url).href;
const SOAK_WORKER = fileURLToPath(new URL('./soak-worker.js', import.meta.url));
// RSS counts as flat when its trend after the warm-up adds less than this share of its mean
// over 10 minutes (1% of ~300 MB is 3 MB, or 18 MB an hour).
const FLAT_PCT_PER_10_MIN = 1;
// Loopback source ports a generator may use without running out (ip_local_port_range).
const PORT_MARGIN = 1024;

const log = (line) => process.stderr.write(line + '\n');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function ephemeralPorts() {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    return hi - lo + 1;
  } catch {
    return 28_232; // Linux's default range, 32768-60999.
  }
}

/** The server's own flags as bench/run.js gives them, with the per-address cap set to `cap`. */
function serverArgs(dataDir, cap) {
  const args = TARGETS.callwire.args({ dataDir });
  const at = args.indexOf('--max-connections-per-ip');
  args[at + 1] = String(cap);
  return args;
}

/** A full GC in the server (bench/gc-hook.js) and its live heap then, in KiB; null if no reply. */
async function liveHeapKib(server) {
  const memory = await server.gcAndReportMemory(10_000);
  return memory ? (memory.heapUsed + memory.external) / 1024 : null;
}

function sumCounters(list) {
  const out = {};
  for (const item of list) {
    if (item === null) continue;
    for (const [k, v] of Object.entries(item)) {
      if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
    }
  }
  return out;
}

function mergeCounts(list) {
  const out = {};
  for (const item of list)
    for (const [k, v] of Object.entries(item ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Differences between two { code: count } readings of a server counter. */
function countsSince(before, after) {
  const out = {};
  for (const [k, v] of Object.entries(after ?? {})) {
    const d = v - (before?.[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

async function runSoak(o) {
  const idleOf = shares(o.idle, o.workers);
  const pairsOf = shares(o.calls, o.workers);
  const perWorker = idleOf.map((n, w) => n + 2 * pairsOf[w]);
  const total = o.idle + 2 * o.calls;
  const mostPerWorker = Math.max(...perWorker);
  // Every generator connects from 127.0.0.1 while one address's ephemeral ports suffice. Past
  // that each takes a loopback address of its own, which costs more than it seems: a socket
  // bound to an address before it connects gets its port from bind(), whose search for a free
  // port slows down badly past a few thousand ports in use (seconds of kernel time per 1,000
  // connections at 9,000), where connect() picks one for the whole 4-tuple at once.
  const ports = ephemeralPorts();
  const spread = total > ports - PORT_MARGIN;
  const perAddress = spread ? mostPerWorker : total;
  if (perAddress > ports - PORT_MARGIN) {
    throw new Error(
      `${perAddress} connections from one source address would exhaust its ${ports} ephemeral ` +
        'ports: use more --workers',
    );
  }
  const localAddress = (w) => (spread ? `127.0.0.${w + 2}` : undefined);
  // The server's cap on open connections per client address (256 by default) is raised with its
  // own flag rather than switched off: to just above what comes from one address, so that the
  // per-address accounting runs for every socket, as in production, and refuses none.
  const cap = perAddress + 64;
  const serverFd = fdLimitFor(total);
  const workerFd = fdLimitFor(mostPerWorker);
  const fdNote = (what, plan) =>
    plan.limit === null
      ? `${what}: needs ${plan.needed} open files, limit ${plan.soft} is enough`
      : `${what}: needs ${plan.needed} open files, limit ${plan.soft} (hard ${plan.hard}) raised to ${plan.limit}`;
  const addresses = spread
    ? `each generator opens from its own address (127.0.0.2-${o.workers + 1})`
    : `the ${o.workers} generator(s) open from 127.0.0.1`;
  const connectionCap =
    `Per-address cap: \`--max-connections-per-ip ${cap}\` (default 256), just above the ` +
    `${perAddress} connections ${addresses}. ` +
    `${fdNote('Server', serverFd)}; ${fdNote('each generator', workerFd)}.`;
  log(connectionCap);

  const dataDir = mkdtempSync(join(tmpdir(), 'callwire-soak-'));
  const server = new ServerUnderTest(
    'callwire',
    ['--expose-gc', '--import', GC_HOOK, ...serverArgs(dataDir, cap)],
    { cwd: dataDir, fdLimit: serverFd.limit },
  );
  /** @type {Worker[]} */
  const workers = [];
  let sampling = false;
  let loop = Promise.resolve();
  try {
    const port = await server.ready(20_000);
    const url = `ws://127.0.0.1:${port}/`;
    for (let w = 0; w < o.workers; w++) {
      workers.push(new Worker({ script: SOAK_WORKER, fdLimit: workerFd.limit }));
    }
    if (o.priority !== null)
      prioritize([server.pid, ...workers.map((w) => w.child.pid)], o.priority);
    await requestAll(
      workers,
      'init',
      (w) => ({
        url,
        localAddress: localAddress(w),
        prefix: `w${w}`,
        idle: idleOf[w],
        pairs: pairsOf[w],
        heartbeatMs: o.heartbeatMs,
      }),
      10_000,
    );

    let phase = 'login';
    const sampler = new Sampler({ pid: server.pid, port }, workers, () => phase);
    const metricsAtStart = await readMetrics(port);
    sampling = true;
    loop = (async () => {
      let next = performance.now() + o.sampleMs;
      while (sampling) {
        await sleep(Math.max(0, next - performance.now()));
        next += o.sampleMs;
        if (!sampling) break;
        const s = await sampler.sample();
        log(
          `  t=${(s.tMs / 1000).toFixed(0)}s ${s.phase} rss=${(s.rssKib / 1024).toFixed(1)}MiB ` +
            `heap=${(s.heapKib / 1024).toFixed(1)}MiB cpu=${s.cpuCores.toFixed(2)} ` +
            `wait=${s.waitCores.toFixed(2)} other=${s.otherCores.toFixed(2)} online=${s.online} ` +
            `calls=${s.callsActive} ping p99=${s.ping.p99Ms.toFixed(1)}ms closes=${s.unexpectedCloses}`,
        );
      }
    })();

    // (a) Logins: the call parties, then the idle clients, as the web app logs in.
    const loginStart = performance.now();
    const logins = await requestAll(
      workers,
      'login',
      () => ({ concurrency: o.loginConcurrency, timeoutMs: 900_000 }),
      960_000,
    );
    const loginMs = performance.now() - loginStart;
    const loggedIn = logins.reduce((n, r) => n + r.loggedIn, 0);
    const loginFailed = logins.reduce((n, r) => n + r.failed, 0);
    log(
      `logged in ${loggedIn} of ${total} in ${(loginMs / 1000).toFixed(1)} s (${loginFailed} failed)`,
    );
    if (loggedIn < 2 * o.calls || loginFailed > 0) {
      throw new Error(`${loginFailed} of ${total} logins failed`);
    }

    // (b) Full load: the pairs start calling; the first o.warmupMs are the warm-up.
    await requestAll(
      workers,
      'start-calls',
      (w) => ({
        talkMs: o.talkMs,
        pauseMs: o.pauseMs,
        ratePerSec: o.ratePerSec,
        seed: o.seed * 100_000 + w * 1_000,
      }),
      10_000,
    );
    const loadStartMs = performance.now() - sampler.t0;
    phase = 'warmup';
    // The first live-heap reading (a full GC) is taken once every pair is in its first call, so
    // that it counts the same kind of state as the last one, and inside the warm-up, so that the
    // GC's effect on RSS stays out of the slope.
    const liveAtMs = Math.min(30_000, o.warmupMs / 2);
    await sleep(liveAtMs);
    const liveStartKib = await liveHeapKib(server);
    const liveStartMs = performance.now() - sampler.t0;
    await sleep(Math.max(0, o.warmupMs - (performance.now() - sampler.t0 - loadStartMs)));
    phase = 'steady';
    await sleep(o.runMs - o.warmupMs);
    const loadEndMs = performance.now() - sampler.t0;
    const liveEndKib = await liveHeapKib(server);
    sampling = false;
    await loop;
    await sampler.sample();

    // (c) The end: calls in progress finish as usual, then every socket must still be open.
    phase = 'end';
    const finalCalls = await requestAll(workers, 'stop-calls', () => ({}), 60_000);
    for (const c of finalCalls) sampler.setupMs.push(...(c?.setupMs ?? []));
    const checks = await requestAll(workers, 'check', () => ({}), 30_000);
    const metricsAtEnd = await readMetrics(port);
    await requestAll(workers, 'close', () => ({}), 30_000);

    const counters = sumCounters(finalCalls);
    const failures = mergeCounts(finalCalls.map((c) => c?.failures));
    const unexpected = checks.flatMap((c) => c.unexpected);
    const closeCodes = {};
    for (const u of unexpected) closeCodes[u.code] = (closeCodes[u.code] ?? 0) + 1;
    const samples = sampler.samples;
    const fullLoad = samples.filter((s) => s.phase === 'warmup' || s.phase === 'steady');
    const warmEndMs = loadStartMs + o.warmupMs;
    const ping = latency([...sampler.rtts.warmup, ...sampler.rtts.steady]);
    const loginSamples = samples.filter((s) => s.phase === 'login');
    const summary = {
      connectionCap,
      login: {
        asked: total,
        loggedIn,
        failed: loginFailed,
        ms: loginMs,
        perSec: loggedIn / (loginMs / 1000),
      },
      loadStartMs,
      warmEndMs,
      loadEndMs,
      rss: trend(samples, 'rssKib', warmEndMs, loadEndMs),
      rssLateHalf: trend(samples, 'rssKib', (warmEndMs + loadEndMs) / 2, loadEndMs),
      heap: trend(samples, 'heapKib', warmEndMs, loadEndMs),
      liveHeap:
        liveStartKib === null || liveEndKib === null
          ? null
          : {
              startKib: liveStartKib,
              endKib: liveEndKib,
              startMs: liveStartMs,
              endMs: loadEndMs,
              kibPerMin: ((liveEndKib - liveStartKib) * 60_000) / (loadEndMs - liveStartMs),
            },
      unexpectedCloses: unexpected.length,
      closeCodes,
      firstUnexpected: unexpected.slice(0, 20),
      notOpenAtEnd: checks.reduce((n, c) => n + c.notOpen.count, 0),
      notOpenCodes: mergeCounts(checks.map((c) => c.notOpen.codes)),
      clientErrors: mergeCounts(checks.map((c) => c.errors)),
      serverCloses: countsSince(
        metricsAtStart && byLabel(metricsAtStart, 'callwire_closes_total', 'code'),
        metricsAtEnd && byLabel(metricsAtEnd, 'callwire_closes_total', 'code'),
      ),
      serverErrors: countsSince(
        metricsAtStart && byLabel(metricsAtStart, 'callwire_errors_total', 'code'),
        metricsAtEnd && byLabel(metricsAtEnd, 'callwire_errors_total', 'code'),
      ),
      serverRelayed: metricsAtEnd?.callwire_messages_relayed_total ?? NaN,
      calls: {
        started: counters.started ?? 0,
        completed: counters.completed ?? 0,
        failed: counters.failed ?? 0,
        failures,
        setup: latency(sampler.setupMs),
      },
      messages: {
        sent: counters.sent ?? 0,
        received: counters.received ?? 0,
        lost: counters.lost ?? 0,
        duplicates: counters.duplicates ?? 0,
        outOfOrder: counters.outOfOrder ?? 0,
        strays: counters.strays ?? 0,
        verified: counters.verified ?? 0,
        corrupted: counters.corrupted ?? 0,
      },
      ping,
      pingDuringLogins: latency(sampler.rtts.login),
      missedPongs: samples.at(-1)?.missedPongs ?? NaN,
      cpu: {
        meanCores: mean(fullLoad.map((s) => s.cpuCores)),
        maxCores: Math.max(...fullLoad.map((s) => s.cpuCores)),
        loginCores: mean(loginSamples.map((s) => s.cpuCores)),
        waitCores: mean(fullLoad.map((s) => s.waitCores)),
      },
      otherCores: mean(fullLoad.map((s) => s.otherCores)),
      loopDelayP99MaxMs: Math.max(...fullLoad.map((s) => s.loopDelayP99Ms).filter(Number.isFinite)),
      loopDelayP99MedianMs: median(fullLoad.map((s) => s.loopDelayP99Ms)),
    };
    summary.verdict = verdict(summary);
    summary.ok = summary.verdict.every((v) => !v.startsWith('FAIL'));
    return { options: o, summary, samples };
  } finally {
    sampling = false;
    await loop.catch(() => {});
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function mean(values) {
  const v = values.filter(Number.isFinite);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}

/** One line per criterion; a line that starts with FAIL makes the run fail. */
function verdict(s) {
  const out = [];
  const dropped = s.unexpectedCloses + s.notOpenAtEnd;
  out.push(dropped === 0 ? 'no socket dropped' : `FAIL: ${dropped} sockets dropped`);
  const m = s.messages;
  const bad = m.lost + m.duplicates + m.corrupted + m.strays;
  out.push(
    bad === 0
      ? `every one of ${m.sent} candidates delivered once, in order`
      : `FAIL: ${m.lost} lost, ${m.duplicates} duplicated, ${m.corrupted} altered, ${m.strays} stray`,
  );
  out.push(
    s.calls.failed === 0
      ? `${s.calls.completed} calls, none failed`
      : `FAIL: ${s.calls.failed} calls failed`,
  );
  const pct = s.rss.pctOfMeanPer10Min;
  out.push(
    !Number.isFinite(pct)
      ? 'RSS trend: too few samples'
      : pct < FLAT_PCT_PER_10_MIN
        ? `RSS flat after warm-up (${pct.toFixed(2)}% per 10 min, under ${FLAT_PCT_PER_10_MIN}%)`
        : `RSS GROWS after warm-up: ${pct.toFixed(2)}% per 10 min (flat is under ${FLAT_PCT_PER_10_MIN}%)`,
  );
  return out;
}

async function main() {
  let options;
  try {
    options = parseSoakOptions(process.argv.slice(2));
  } catch (error) {
    log(`${error.message}\n\n${SOAK_USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(SOAK_USAGE + '\n');
    return 0;
  }
  const why = TARGETS.callwire.missing();
  if (why) {
    log(`cannot run: ${why}`);
    return 1;
  }
  const started = new Date();
  const { help: _help, ...recordedOptions } = options;
  const restorePriority =
    options.priority === null ? () => {} : prioritizeSessionGroup(options.priority);
  let result;
  try {
    result = await runSoak(options);
  } finally {
    restorePriority();
  }
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `soak-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { started, machine: machineInfo(), ...result, options: recordedOptions },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(soakReport(result) + '\n\n');
  process.stdout.write(`results: ${file}\n`);
  return result.summary.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    log(String(error?.stack ?? error));
    process.exitCode = 1;
  },
);
