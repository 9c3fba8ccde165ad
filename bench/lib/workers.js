// Starts load-generator processes and talks to them: one request at a time per worker, each
// answered or timed out.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withFdLimit } from './fd-limit.js';

const WORKER = fileURLToPath(new URL('../load-worker.js', import.meta.url));

export class Worker {
  /**
   * @param {{ script?: string, fdLimit?: number | null }} [options] the worker's entry script
   *   (bench/load-worker.js by default), and an open-file limit to start it with (see
   *   fd-limit.js) when it needs more sockets than this process may open
   */
  constructor(options = {}) {
    const { script = WORKER, fdLimit = null } = options;
    // 'advanced' serialization carries typed arrays (latency samples) without a JSON round trip.
    this.child = fork(script, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(fdLimit === null ? {} : withFdLimit(fdLimit)),
    });
    this.nextId = 1;
    this.pending = new Map();
    this.exited = false;
    this.child.on('message', (reply) => {
      const entry = this.pending.get(reply.id);
      if (!entry) return;
      this.pending.delete(reply.id);
      clearTimeout(entry.timer);
      if (reply.ok) entry.resolve(reply.result);
      else entry.reject(new Error(`load worker: ${reply.error}`));
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const entry of this.pending.values()) {
        clearTimeout(entry.timer);
        entry.reject(new Error(`load worker exited (${code ?? signal})`));
      }
      this.pending.clear();
    });
  }

  /** Sends one command; rejects if it is not answered within `timeoutMs`. */
  request(cmd, args, timeoutMs) {
    if (this.exited) return Promise.reject(new Error('load worker has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`load worker: ${cmd} not answered within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, cmd, args });
    });
  }

  /** Ends the process (idempotent); resolves once it has exited. */
  stop() {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

/** Sends the same command to every worker (with per-worker args) and waits for all. */
export function requestAll(workers, cmd, argsFor, timeoutMs) {
  return Promise.all(workers.map((w, i) => w.request(cmd, argsFor(i), timeoutMs)));
}
