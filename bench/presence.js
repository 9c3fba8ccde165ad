#!/usr/bin/env node
// Logins with presence at scale: N clients online (10,000 by default), each native client
// watching K others (50, as the web app watches its contacts), then C of them leave and sign in
// again while the rest stay online. The bare relay (tutorial logins, no presence) runs the same
// logins in the same run, in an order that rotates between rounds. Usage: `npm run
// bench:presence -- [--online N] [--watch K] [--churn C] [--rounds R] [--priority=-10]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fdLimitFor } from './lib/fd-limit.js';
import { prioritize, prioritizeSessionGroup } from './lib/priority.js';
import { cpuSample, machineBusyUs, rssBytes, statCpuUs } from './lib/proc.js';
import { ServerUnderTest } from './lib/server-under-test.js';
import { median } from './lib/stats.js';
import { TARGETS } from './lib/targets.js';
import { Worker } from './lib/workers.js';

const { values: o } = parseArgs({
  options: {
    online: { type: 'string', default: '10000' },
    watch: { type: 'string', default: '50' },
    churn: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '64' },
    targets: { type: 'string', default: 'baseline,callwire' },
    priority: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (o.help) {
  console.log(
    'node bench/presence.js [--online 10000] [--watch 50] [--churn 1000] [--rounds 3] ' +
      '[--workers 2] [--concurrency 64] [--targets baseline,callwire] [--priority=-10]',
  );
  process.exit(0);
}
const N = Number(o.online);
const K = Number(o.watch);
const C = Number(o.churn);
const W = Number(o.workers);
const rounds = Number(o.rounds);
const priority = o.priority === undefined ? null : Number(o.priority);
const targets = o.targets.split(',');
const WORKER = fileURLToPath(new URL('./presence-worker.js', import.meta.url));

const names = Array.from({ length: N }, (_, i) => `p${i}`);
// A ring of contacts: p<i> watches the next K names, so every name has exactly K watchers.
const watchesOf = Object.fromEntries(
  names.map((n, i) => [n, Array.from({ length: K }, (_, j) => names[(i + 1 + j) % N])]),
);
const owner = new Map(names.map((n, i) => [n, i % W]));
/** The names generator `w` holds (a name stays with its generator through the churn). */
const forWorker = (list, w) => list.filter((n) => owner.get(n) === w);
// The churned clients, spread evenly over the names.
const churned = Array.from({ length: C }, (_, i) => names[Math.floor((i * N) / C) + (i % W)]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const all = (workers, cmd, argsOf, ms = 300_000) =>
  Promise.all(workers.map((w, i) => w.request(cmd, argsOf(i), ms)));

async function measure(targetName) {
  const target = TARGETS[targetName];
  const dataDir = mkdtempSync(join(tmpdir(), 'callwire-presence-'));
  const serverFd = fdLimitFor(N).limit;
  const server = new ServerUnderTest(target.label, target.args({ dataDir }), {
    cwd: dataDir,
    fdLimit: serverFd,
  });
  const workers = [];
  try {
    const port = await server.ready(20_000);
    const workerFd = fdLimitFor(Math.ceil(N / W)).limit;
    for (let i = 0; i < W; i++) workers.push(new Worker({ script: WORKER, fdLimit: workerFd }));
    if (priority !== null) prioritize([server.pid, ...workers.map((w) => w.child.pid)], priority);
    const url = `ws://127.0.0.1:${port}/`;
    await all(workers, 'init', () => ({ dialect: target.dialect, url, watchesOf }));
    const rssIdle = rssBytes(server.pid);
    const busy0 = machineBusyUs();
    const t0 = performance.now();
    const own0 = statCpuUs(server.pid);

    let cpu = cpuSample(server.pid);
    let started = performance.now();
    const logins = await all(workers, 'login', (w) => ({
      names: forWorker(names, w),
      concurrency: Number(o.concurrency),
    }));
    const loginMs = performance.now() - started;
    const loginCpuUs = cpuSample(server.pid).statUs - cpu.statUs;
    const failed = logins.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) throw new Error(`${failed} logins failed`);
    await sleep(1_000); // the last presence ticks go out
    const rssOnline = rssBytes(server.pid);
    const before = await all(workers, 'count', () => ({}));

    cpu = cpuSample(server.pid);
    started = performance.now();
    const churns = await all(workers, 'churn', (w) => ({
      names: forWorker(churned, w),
      concurrency: Number(o.concurrency),
      pauseMs: 300,
    }));
    const churnMs = Math.max(...churns.map((r) => r.elapsedMs));
    await sleep(500);
    const churnCpuUs = cpuSample(server.pid).statUs - cpu.statUs;
    const after = await all(workers, 'count', () => ({}));
    if (churns.some((r) => r.failed > 0)) throw new Error('churn logins failed');
    const frames =
      after.reduce((n, r) => n + r.frames, 0) - before.reduce((n, r) => n + r.frames, 0);
    const ownUs = statCpuUs(server.pid) - own0;
    const wallUs = (performance.now() - t0) * 1000;
    await all(workers, 'close', () => ({}), 30_000);
    return {
      target: targetName,
      loginsPerSec: N / (loginMs / 1000),
      loginCpuUs: loginCpuUs / N,
      churnLoginsPerSec: C / (churnMs / 1000),
      // Leaving and signing in again, with what the watchers are told about both.
      churnCpuUs: churnCpuUs / C,
      presenceFramesPerChurn: frames / C,
      rssKiBPerClient: (rssOnline - rssIdle) / 1024 / N,
      otherCores: (machineBusyUs() - busy0 - ownUs) / wallUs - 0, // generators included
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const restore = priority !== null ? prioritizeSessionGroup(priority) : () => {};
const results = [];
try {
  for (let r = 0; r < rounds; r++) {
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    for (const t of order) {
      process.stderr.write(`round ${r + 1}: ${t}\n`);
      results.push({ round: r + 1, ...(await measure(t)) });
    }
  }
} finally {
  restore();
}

const cols = [
  ['loginsPerSec', 'logins/s, 0 -> N online', 0],
  ['churnLoginsPerSec', 'logins/s at N online (churn)', 0],
  ['loginCpuUs', 'server CPU µs per login', 0],
  ['churnCpuUs', 'server CPU µs per leave + login at N online', 0],
  ['presenceFramesPerChurn', 'presence frames per leave + login', 1],
  ['rssKiBPerClient', 'RSS KiB per client (watching)', 1],
];
console.log(
  `\n${N} online, each native client watching ${K}, ${C} leave and sign in again; ${rounds} round(s), ${W} generators.\n`,
);
console.log(
  `| round | server | ${cols.map((c) => c[1]).join(' | ')} | machine busy besides server (cores) |`,
);
console.log(`| --- | --- | ${cols.map(() => '---').join(' | ')} | --- |`);
for (const r of results) {
  console.log(
    `| ${r.round} | ${r.target} | ${cols.map(([k, , d]) => r[k].toFixed(d)).join(' | ')} | ${r.otherCores.toFixed(2)} |`,
  );
}
const ref = targets[0];
for (const t of targets.slice(1)) {
  console.log(`\n| ${t} / ${ref} (median of rounds, rounds) | ratio |\n| --- | --- |`);
  for (const [k, label] of cols) {
    const ratios = [];
    for (let r = 1; r <= rounds; r++) {
      const a = results.find((x) => x.round === r && x.target === t);
      const b = results.find((x) => x.round === r && x.target === ref);
      if (a && b && b[k] > 0) ratios.push(a[k] / b[k]);
    }
    if (ratios.length)
      console.log(
        `| ${label} | ${median(ratios).toFixed(2)} (${ratios.map((x) => x.toFixed(2)).join(', ')}) |`,
      );
  }
}
