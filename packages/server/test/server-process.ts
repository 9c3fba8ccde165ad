/**
 * One callwire server as a real process (the built CLI), for tests that need what only a
 * process has: its own event loop (so a measured delay is the server's, not the test's), or a
 * signal and a restart on the same port and data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/callwire.js', import.meta.url));

type LogLine = Record<string, unknown> & { msg?: string };

export class ServerProcess {
  readonly logs: LogLine[] = [];
  port = 0;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(args: string[]) {
    this.child = spawn(
      process.execPath,
      [BIN, '--host', '127.0.0.1', '--log-format', 'json', ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    let buffer = '';
    const onData = (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ msg: line });
        }
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        resolve({ code, signal });
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }),
    );
  }

  /** Start a server (port 0 unless `--port` is among the flags) and wait until it listens. */
  static async start(flags: string[]): Promise<ServerProcess> {
    const args = flags.includes('--port') ? flags : ['--port', '0', ...flags];
    const p = new ServerProcess(args);
    const line = await p.waitLog((l) => l.msg === 'listening', 20_000);
    p.port = line.port as number;
    return p;
  }

  url(path = '/'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitLog(match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (!this.running)
        throw new Error(`server exited; logs: ${JSON.stringify(this.logs.slice(-20))}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`log line not seen; last: ${JSON.stringify(this.logs.slice(-10))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Kill it if it still runs. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** The p-th percentile (0-100) of some numbers, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
