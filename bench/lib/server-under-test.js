// Starts a server under test as a child process on 127.0.0.1 with port 0, learns its port, and
// stops it. The port comes from its "listening" log line when it prints one, or else from the
// listening socket it owns in /proc, so a quiet log level cannot stall the benchmark.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SHELL, shellArgs } from './fd-limit.js';
import { listeningPorts } from './proc.js';

const TAIL_LINES = 30;

export class ServerUnderTest {
  /**
   * @param {string} label
   * @param {string[]} nodeArgs arguments after `node` (flags, script, script arguments)
   * @param {{ cwd?: string, fdLimit?: number | null }} [options] `fdLimit`: start the server
   *   with this open-file limit (see fd-limit.js); its pid stays the server's own
   */
  constructor(label, nodeArgs, options = {}) {
    this.label = label;
    const [command, args] =
      options.fdLimit == null
        ? [process.execPath, nodeArgs]
        : [SHELL, [...shellArgs(options.fdLimit), process.execPath, ...nodeArgs]];
    this.child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    this.pid = this.child.pid;
    /** @type {number | null} */
    this.port = null;
    this.exited = false;
    this.exitCode = null;
    this.tail = [];
    /** The last {"benchMemory"} report of bench/gc-hook.js, and who waits for the next one. */
    this.memory = null;
    this.memoryWaiters = [];
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        this.exitCode = code ?? signal;
        resolve();
      });
    });
    // Both pipes must be drained all along: a child blocked on a full pipe would stall.
    for (const stream of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.#onLine(line));
    }
  }

  #onLine(line) {
    if (line.startsWith('{"benchMemory"')) {
      this.memory = JSON.parse(line).benchMemory;
      for (const resolve of this.memoryWaiters.splice(0)) resolve(this.memory);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    if (this.port === null && line.includes('listening')) {
      try {
        const record = JSON.parse(line);
        if (Number.isInteger(record.port) && record.port > 0) this.port = record.port;
      } catch {
        // Not a JSON log line; the /proc fallback will find the port.
      }
    }
  }

  /** Resolves with the port once the server accepts connections. */
  async ready(timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    while (this.port === null) {
      if (this.exited)
        throw new Error(`${this.label} exited (${this.exitCode}):\n${this.tail.join('\n')}`);
      if (performance.now() > deadline) {
        throw new Error(
          `${this.label} did not listen within ${timeoutMs} ms:\n${this.tail.join('\n')}`,
        );
      }
      try {
        const ports = listeningPorts(this.pid);
        if (ports.length === 1) this.port = ports[0];
      } catch {
        // /proc entries appear a moment after spawn.
      }
      if (this.port === null) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.port;
  }

  /**
   * Asks bench/gc-hook.js (which must be preloaded) for a full GC and a memory report; resolves
   * with process.memoryUsage() of the server, or null if no report came within `timeoutMs`.
   */
  gcAndReportMemory(timeoutMs = 2_000) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      this.memoryWaiters.push((memory) => {
        clearTimeout(timer);
        resolve(memory);
      });
      this.child.kill('SIGUSR2');
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Idempotent. */
  async stop(graceMs = 10_000) {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => {
        if (!this.exited) this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exitPromise, killed]);
    clearTimeout(timer);
    await this.exitPromise;
  }
}
