/* global fetch */
// Processes of a benchmark cluster: a private Redis and callwire nodes, each on port 0, with
// their files in a work directory. Used by bench/cluster.js and bench/cluster-hold.js.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { listeningPorts } from './proc.js';
import { CALLWIRE_BIN } from './targets.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A private redis-server on a unix socket in `work`; its process goes into `children`. */
export async function startRedis(work, children, name = 'redis') {
  const socket = join(work, `${name}.sock`);
  const child = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (/ready to accept connections/i.test(out)) resolve();
    });
    child.once('exit', () => reject(new Error(`redis-server exited: ${out}`)));
  });
  child.stdout.resume();
  return { pid: child.pid, url: `unix://${socket}`, child };
}

/**
 * A callwire node on 127.0.0.1, port 0, joined to `redisUrl` when given; resolves once it is
 * ready. With `profileDir` it writes a CPU profile there on exit.
 */
export async function startNode(work, children, index, redisUrl, profileDir, extraFlags = []) {
  const dataDir = join(work, `node-${index}`);
  mkdirSync(dataDir);
  // Every load client comes from this machine: no per-address cap.
  const flags = ['--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', '--data-dir', dataDir, '--max-connections-per-ip', '0', ...extraFlags];
  if (redisUrl) flags.push('--redis', redisUrl);
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, CALLWIRE_BIN, ...flags], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  let port;
  for (let i = 0; i < 400 && port === undefined; i++) {
    await sleep(25);
    port = listeningPorts(child.pid)[0];
  }
  if (port === undefined) throw new Error(`node ${index} did not listen`);
  for (let i = 0; i < 400; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (r?.status === 200) break;
    await sleep(25);
  }
  return { pid: child.pid, port, child };
}

/** SIGTERM (a drain, which writes a CPU profile when profiling), SIGKILL if it lingers. */
export async function stopNode(n) {
  if (n.child.exitCode !== null) return;
  const exited = new Promise((r) => n.child.once('exit', r));
  n.child.kill('SIGTERM');
  const t = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}
