#!/usr/bin/env node
// How many clients a cluster holds: three callwire nodes and one Redis on this machine, and
// enough load-generator processes, each with its own loopback source address (127.0.0.N), to
// log in --clients idle native clients spread evenly over the nodes. One process holds at most
// about 19,000 sockets here (the open-file limit), so 50,000 clients need 3 nodes and at least
// 3 generators.
//
//   node bench/cluster-hold.js [--clients 50000] [--per-worker 12500]
//
// Prints clients held per node (from each node's /metrics), login rate, and memory per client
// per node (VmRSS before and after).
/* global fetch */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startNode, startRedis } from './lib/cluster-procs.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '50000' },
    'per-worker': { type: 'string', default: '12500' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stderr.write('usage: node bench/cluster-hold.js [--clients 50000] [--per-worker 12500]\n');
  process.exit(0);
}
const CLIENTS = Number(args.clients);
const PER_WORKER = Number(args['per-worker']);
const work = mkdtempSync(join(tmpdir(), 'callwire-hold-bench-'));
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const online = async (port) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^callwire_users_online (\d+)/m.exec(text)?.[1] ?? 0);
};

const redis = await startRedis(work, children);
const nodes = [];
// Presence goes to watchers only above 1,000 online (the default): no broadcast storm here.
for (let i = 0; i < 3; i++) nodes.push(await startNode(work, children, i, redis.url, undefined));
const before = nodes.map((n) => rssKiB(n.pid));
const ports = nodes.map((n) => n.port).join(',');

const workers = [];
const started = Date.now();
for (let w = 0; w * PER_WORKER < CLIENTS; w++) {
  const count = Math.min(PER_WORKER, CLIENTS - w * PER_WORKER);
  const child = spawn(
    process.execPath,
    [new URL('./lib/hold-worker.js', import.meta.url).pathname, ports, String(count), `h${w}-`, `127.0.0.${w + 2}`],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.push(child);
  const state = { held: 0, failed: 0, done: false };
  createInterface({ input: child.stdout }).on('line', (line) => Object.assign(state, JSON.parse(line)));
  workers.push({ child, state, finished: new Promise((r) => child.stdout.once('end', r)) });
}
const deadline = Date.now() + 600_000;
while (workers.some((w) => !w.state.done) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 1000));
  const held = workers.reduce((n, w) => n + w.state.held, 0);
  process.stderr.write(`  held ${held}/${CLIENTS}\r`);
}
const seconds = (Date.now() - started) / 1000;
const held = workers.reduce((n, w) => n + w.state.held, 0);
const failed = workers.reduce((n, w) => n + w.state.failed, 0);
await new Promise((r) => setTimeout(r, 3000));
const perNode = await Promise.all(nodes.map((n) => online(n.port)));
const after = nodes.map((n) => rssKiB(n.pid));

const lines = [
  `## Clients held by a cluster of 3 nodes and one Redis`,
  '',
  `${workers.length} load generators (source addresses 127.0.0.2-${workers.length + 1}), ${CLIENTS} clients asked for.`,
  '',
  '| | node 1 | node 2 | node 3 | total |',
  '|---|---|---|---|---|',
  `| clients online (node /metrics) | ${perNode.join(' | ')} | ${perNode.reduce((a, b) => a + b, 0)} |`,
  `| RSS KiB per client | ${nodes.map((_, i) => ((after[i] - before[i]) / Math.max(1, perNode[i])).toFixed(1)).join(' | ')} | |`,
  '',
  `Held ${held}, refused or failed ${failed}; logins took ${seconds.toFixed(1)} s (${Math.round(held / seconds)}/s).`,
];
process.stdout.write(lines.join('\n') + '\n');
for (const w of workers) w.child.stdin.write('stop\n');
await Promise.all(workers.map((w) => w.finished));
process.exit(held === CLIENTS ? 0 : 1);
