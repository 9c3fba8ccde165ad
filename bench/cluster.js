#!/usr/bin/env node
// Cluster mode of the benchmark: three callwire nodes and one Redis on this machine.
//
//   node bench/cluster.js [--clients 3000] [--rate 2000] [--seconds 5] [--storm 20] [--no-single]
//                         [--rounds 1] [--priority=-10] [--profile]
//
// Measures, and prints as Markdown (raw figures to bench/results/cluster-<time>.json):
// - clients held in total across the nodes (and login rate through them);
// - cross-node relay: every sender is connected to node 1, every receiver to node 2 or 3, so
//   each candidate goes client -> node 1 -> Redis -> node 2/3 -> client. A storm (every sender
//   sends --storm candidates at once) gives the throughput; a fixed, open-loop rate (--rate
//   messages per second for --seconds, against node 1) gives the latency percentiles, each
//   message timed from when it was due;
// - Redis CPU (and the nodes' CPU) per relayed message during those phases, from /proc.
// As a reference the same relay phases run on a single node without Redis (--no-single skips).
// --rounds N repeats both (cluster, then single node) N times and prints each round's p99 ratio.
// --profile writes each node's CPU profile to bench/results/profiles/; the raw results record
// the fixed-rate phase as fixedWindowUs (CLOCK_MONOTONIC, the profiles' clock), so
// `node bench/profile-summary.js FILE --from A --to B` shows where that phase's time went.
//
// The load generator is this process; on a 2-core machine it shares the CPU with the servers,
// so the figures are indicative: compare cluster with single-node from the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { candidateJson, candidateSeqOfFrame } from './lib/fixtures.js';
import { cpuSample } from './lib/proc.js';
import { prioritize, prioritizeSessionGroup } from './lib/priority.js';
import { otherLoadCores } from './lib/quiet.js';
import { percentile, sorted } from './lib/stats.js';
import { startNode as startNodeIn, startRedis as startRedisIn, stopNode } from './lib/cluster-procs.js';

const log = (line) => process.stderr.write(line + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '3000' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    storm: { type: 'string', default: '20' },
    'no-single': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    priority: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  log(
    'usage: node bench/cluster.js [--clients 3000] [--rate 2000] [--seconds 5] [--storm 20] [--no-single]\n' +
      '                             [--rounds 1] [--priority=-10] [--profile]',
  );
  process.exit(0);
}
const CLIENTS = Number(args.clients);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const STORM = Number(args.storm);
const ROUNDS = Number(args.rounds);
const PRIORITY = args.priority === undefined ? null : Number(args.priority);
const NODES = 3;
// CLOCK_MONOTONIC in µs: the clock V8 stamps CPU profile samples with on Linux.
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const PROFILE_DIR = new URL('./results/profiles/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'callwire-cluster-bench-'));
const children = [];

const startRedis = (name) => startRedisIn(work, children, name);
const startNode = (index, redisUrl) =>
  startNodeIn(work, children, index, redisUrl, args.profile ? PROFILE_DIR : undefined);

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

/** A native client that resolves `next(type)` and hands relayed candidates to `onSeq`. */
class Client {
  constructor(port, name, onSeq) {
    this.name = name;
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    this.queue = [];
    this.waiters = [];
    this.ws.on('message', (data) => {
      const seq = candidateSeqOfFrame(data);
      if (seq >= 0) return onSeq(seq);
      const msg = JSON.parse(data.toString());
      const i = this.waiters.findIndex((w) => w.type === msg.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg);
      else this.queue.push(msg);
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
  }

  next(type) {
    const i = this.queue.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0]);
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  send(text) {
    this.ws.send(text);
  }
}

async function inBatches(items, size, fn) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Log everyone in (node = index % ports.length); returns the clients and the login rate. */
async function loginAll(ports, count, prefix, onSeq) {
  const clients = [];
  const t0 = performance.now();
  await inBatches([...Array(count).keys()], 128, async (i) => {
    const c = new Client(ports[i % ports.length], `${prefix}${i}`, onSeq);
    c.node = i % ports.length;
    await c.opened;
    c.send(JSON.stringify({ type: 'login', name: c.name, protocol: 1 }));
    const r = await c.next('login');
    if (!r.success) throw new Error(`login ${c.name}: ${JSON.stringify(r)}`);
    clients[i] = c;
  });
  return { clients, loginsPerSec: count / ((performance.now() - t0) / 1000) };
}

async function connect(pairs) {
  await inBatches(pairs, 200, async (p) => {
    p.caller.send(JSON.stringify({ type: 'call', to: p.callee.name }));
    const ringing = await p.caller.next('ringing');
    await p.callee.next('incoming');
    p.callee.send(JSON.stringify({ type: 'accept', callId: ringing.callId }));
    await Promise.all([p.caller.next('accepted'), p.callee.next('accepted')]);
    p.callId = ringing.callId;
  });
}

const cpuUs = (pid) => cpuSample(pid).schedUs ?? cpuSample(pid).statUs;

/**
 * Storm then fixed rate over `pairs`; CPU of `pids` measured around each phase, and at rest
 * before them (timers, heartbeats), so that the per-message figures can leave it out.
 */
/** PUBLISH commands Redis has run so far (INFO commandstats), or NaN without a Redis. */
function publishes(redisUrl) {
  if (redisUrl === undefined) return NaN;
  const info = execFileSync('redis-cli', ['-s', redisUrl.slice('unix://'.length), 'info', 'commandstats']);
  return Number(/cmdstat_publish:calls=(\d+)/.exec(info.toString())?.[1] ?? 0);
}

async function relayPhases(pairs, track, pids, redisUrl) {
  const idle0 = pids.map(cpuUs);
  const i0 = performance.now();
  await sleep(2000);
  const idleUsPerMs = pids.map((pid, i) => (cpuUs(pid) - idle0[i]) / (performance.now() - i0));
  const other = await otherLoadCores(1000);
  const candidateFrame = (p, seq) =>
    `{"type":"candidate","callId":"${p.callId}","candidate":${candidateJson(seq, 'bnch')}}`;
  // Storm: every sender at once.
  let seq = 0;
  const stormTotal = pairs.length * STORM;
  track.reset(stormTotal);
  let cpu0 = pids.map(cpuUs);
  let published0 = publishes(redisUrl);
  const s0 = performance.now();
  for (let k = 0; k < STORM; k++) {
    for (const p of pairs) {
      track.sentAt[seq] = performance.now();
      p.caller.send(candidateFrame(p, seq++));
    }
  }
  await track.done(30_000);
  const stormMs = track.lastAt - s0;
  const stormReceived = track.received;
  const stormPublishes = publishes(redisUrl) - published0;
  const stormCpu = pids.map(
    (pid, i) => cpuUs(pid) - cpu0[i] - idleUsPerMs[i] * (performance.now() - s0),
  );

  // Fixed rate, open loop: message m is due at start + m / RATE.
  const total = RATE * SECONDS;
  track.reset(total);
  cpu0 = pids.map(cpuUs);
  published0 = publishes(redisUrl);
  const start = performance.now() + 50;
  const fixedWindowUs = [monotonicUs() + 50_000, 0];
  let m = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (m < total && start + (m * 1000) / RATE <= now) {
        const p = pairs[m % pairs.length];
        track.sentAt[m] = start + (m * 1000) / RATE;
        p.caller.send(candidateFrame(p, m));
        m++;
      }
      if (m < total) setTimeout(tick, 2);
      else resolve();
    };
    setTimeout(tick, 50);
  });
  await track.done(30_000);
  fixedWindowUs[1] = monotonicUs();
  const fixedMs = performance.now() - start;
  const fixedCpu = pids.map((pid, i) => cpuUs(pid) - cpu0[i] - idleUsPerMs[i] * fixedMs);
  const fixedPublishes = publishes(redisUrl) - published0;
  const lat = sorted(track.latencies.subarray(0, total));
  // The tail in time: when each message slower than p99 was due (ms into the phase), and how
  // slow it was. Clustered in a few instants means stalls (GC, a timer's work); spread out
  // means the cost of each hop.
  const p99 = percentile(lat, 99);
  const slowest = [];
  for (let k = 0; k < total; k++) {
    if (track.latencies[k] > p99) slowest.push([Math.round(track.sentAt[k] - start), +track.latencies[k].toFixed(2)]);
  }
  return {
    idleCpuPerSec: idleUsPerMs.map((u) => u * 1000),
    otherLoadCores: other,
    storm: {
      messages: stormTotal,
      received: stormReceived,
      ms: stormMs,
      perSec: stormTotal / (stormMs / 1000),
      cpuUs: stormCpu,
      publishes: stormPublishes,
    },
    fixed: {
      messages: total,
      received: track.received,
      rate: RATE,
      p50: percentile(lat, 50),
      p90: percentile(lat, 90),
      p99,
      max: lat[lat.length - 1],
      cpuUs: fixedCpu,
      fixedWindowUs,
      publishes: fixedPublishes,
      slowest,
    },
  };
}

/** Receiver side: when each message arrived, how many did, when the last did. */
function tracker() {
  const t = {
    sentAt: new Float64Array(1),
    latencies: new Float64Array(1),
    seen: new Uint8Array(1),
    expected: 0,
    received: 0,
    duplicates: 0,
    lastAt: 0,
    wake: undefined,
    reset(n) {
      t.sentAt = new Float64Array(n);
      t.latencies = new Float64Array(n);
      t.seen = new Uint8Array(n);
      t.expected = n;
      t.received = 0;
    },
    onSeq(seq) {
      if (seq >= t.expected) return;
      if (t.seen[seq]) {
        t.duplicates++;
        return;
      }
      t.seen[seq] = 1;
      const now = performance.now();
      t.latencies[seq] = now - t.sentAt[seq];
      t.lastAt = now;
      if (++t.received === t.expected) t.wake?.();
    },
    done(timeoutMs) {
      if (t.received === t.expected) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        t.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
  return t;
}

function closeAll(clients) {
  for (const c of clients) c.ws.terminate();
}

/** One round: the cluster's relay phases, then (unless --no-single) one node's. */
async function round(n) {
  const results = { clients: CLIENTS, rate: RATE, seconds: SECONDS, storm: STORM };
  log(`cluster: ${NODES} nodes + redis, ${CLIENTS} clients`);
  const redis = await startRedis(`redis-${n}`);
  const nodes = await Promise.all(
    [...Array(NODES).keys()].map((i) => startNode(`${n}-${i}`, redis.url)),
  );
  if (PRIORITY !== null) prioritize([redis.pid, ...nodes.map((n) => n.pid)], PRIORITY);
  const track = tracker();
  const { clients, loginsPerSec } = await loginAll(
    nodes.map((n) => n.port),
    CLIENTS,
    'u',
    (s) => track.onSeq(s),
  );
  results.cluster = { held: clients.length, loginsPerSec };
  log(`  held ${clients.length} clients (${Math.round(loginsPerSec)} logins/s)`);
  // Senders on node 1, receivers on nodes 2 and 3.
  const senders = clients.filter((c) => c.node === 0);
  const receivers = clients.filter((c) => c.node !== 0);
  const pairs = senders
    .slice(0, receivers.length)
    .map((caller, i) => ({ caller, callee: receivers[i] }));
  await connect(pairs);
  log(`  ${pairs.length} calls across nodes`);
  const pids = [redis.pid, ...nodes.map((n) => n.pid)];
  const relay = await relayPhases(pairs, track, pids, redis.url);
  results.cluster = {
    ...results.cluster,
    pairs: pairs.length,
    // To find each node's CPU profile (--profile names them by pid): node 1 sends, 2 and 3 deliver.
    pids: { redis: redis.pid, nodes: nodes.map((n) => n.pid) },
    ...relay,
    duplicates: track.duplicates,
  };
  closeAll(clients);
  await Promise.all(nodes.map((n) => stopNode(n)));
  redis.child.kill('SIGKILL');

  if (!args['no-single']) {
    log(`single node, no Redis: ${pairs.length * 2} clients`);
    const node = await startNode(`${n}-single`, undefined);
    if (PRIORITY !== null) prioritize([node.pid], PRIORITY);
    const track1 = tracker();
    const one = await loginAll([node.port], pairs.length * 2, 's', (s) => track1.onSeq(s));
    const half = pairs.length;
    const pairs1 = one.clients
      .slice(0, half)
      .map((caller, i) => ({ caller, callee: one.clients[half + i] }));
    await connect(pairs1);
    const relay1 = await relayPhases(pairs1, track1, [node.pid]);
    results.single = {
      pairs: pairs1.length,
      loginsPerSec: one.loginsPerSec,
      ...relay1,
      duplicates: track1.duplicates,
    };
    closeAll(one.clients);
    await stopNode(node);
  }
  return results;
}

async function main() {
  const restore = PRIORITY !== null ? prioritizeSessionGroup(PRIORITY) : () => {};
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (ROUNDS > 1) log(`round ${i + 1} of ${ROUNDS}`);
    rounds.push(await round(i));
  }
  restore();
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(
    `./results/cluster-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    import.meta.url,
  );
  writeFileSync(file, JSON.stringify(ROUNDS === 1 ? rounds[0] : { rounds }, null, 2));
  for (const r of rounds) console.log(report(r) + '\n');
  if (rounds.length > 1 && rounds[0].single) {
    const f = (n, d) => n.toFixed(d);
    console.log('| round | cross-node p99 (ms) | single-node p99 (ms) | ratio | other load (cores) |');
    console.log('|---|---|---|---|---|');
    rounds.forEach((r, i) =>
      console.log(
        `| ${i + 1} | ${f(r.cluster.fixed.p99, 2)} | ${f(r.single.fixed.p99, 2)} | ` +
          `${f(r.cluster.fixed.p99 / r.single.fixed.p99, 2)}x | ` +
          `${f(r.cluster.otherLoadCores, 2)} / ${f(r.single.otherLoadCores, 2)} |`,
      ),
    );
  }
  log(`raw results: ${file.pathname}`);
  process.exit(0);
}

function report(r) {
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const c = r.cluster;
  const perMsg = (us, n) => f(us / n, 1);
  const lines = [
    `## Cluster: ${NODES} nodes and one Redis on this machine`,
    '',
    `Clients held in total: **${c.held}** (logins ${f(c.loginsPerSec)}/s through ${NODES} nodes` +
      (r.single
        ? `; ${f(r.single.loginsPerSec)}/s for ${r.single.pairs * 2} clients on the single node).`
        : ').'),
    `Calls across nodes: ${c.pairs} (callers on node 1, callees on nodes 2 and 3).`,
    '',
    '| | cluster (via Redis) | single node |',
    '|---|---|---|',
  ];
  const s = r.single;
  const row = (name, a, b) => lines.push(`| ${name} | ${a} | ${b ?? 'not run'} |`);
  row('storm throughput (msg/s)', f(c.storm.perSec), s && f(s.storm.perSec));
  row(
    'storm delivered',
    `${c.storm.received}/${c.storm.messages}`,
    s && `${s.storm.received}/${s.storm.messages}`,
  );
  row(`fixed ${r.rate}/s: p50 latency (ms)`, f(c.fixed.p50, 2), s && f(s.fixed.p50, 2));
  row(`fixed ${r.rate}/s: p99 latency (ms)`, f(c.fixed.p99, 2), s && f(s.fixed.p99, 2));
  row(`fixed ${r.rate}/s: max latency (ms)`, f(c.fixed.max, 2), s && f(s.fixed.max, 2));
  row('Redis CPU per relayed message (µs)', perMsg(c.fixed.cpuUs[0], c.fixed.messages), '—');
  row(
    'nodes CPU per relayed message (µs, all nodes)',
    perMsg(
      c.fixed.cpuUs.slice(1).reduce((a, b) => a + b, 0),
      c.fixed.messages,
    ),
    s && perMsg(s.fixed.cpuUs[0], s.fixed.messages),
  );
  row('Redis CPU per message in the storm (µs)', perMsg(c.storm.cpuUs[0], c.storm.messages), '—');
  row(
    'nodes CPU per message in the storm (µs, all nodes)',
    perMsg(
      c.storm.cpuUs.slice(1).reduce((a, b) => a + b, 0),
      c.storm.messages,
    ),
    s && perMsg(s.storm.cpuUs[0], s.storm.messages),
  );
  row(
    'messages per PUBLISH (fixed rate; storm)',
    `${f(c.fixed.messages / c.fixed.publishes, 2)}; ${f(c.storm.messages / c.storm.publishes, 1)}`,
    '—',
  );
  row('duplicates', String(c.duplicates), s && String(s.duplicates));
  row(
    'CPU at rest (ms/s: redis, nodes)',
    c.idleCpuPerSec.map((u) => f(u / 1000, 1)).join(', '),
    s && f(s.idleCpuPerSec[0] / 1000, 1),
  );
  row('other processes (cores)', f(c.otherLoadCores, 2), s && f(s.otherLoadCores, 2));
  lines.push('', "CPU per message is net of each process's CPU at rest (measured for 2 s before).");
  return lines.join('\n');
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exit(1);
});
