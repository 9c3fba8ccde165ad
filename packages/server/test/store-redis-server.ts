/**
 * A private redis-server per suite, on a unix socket only (`--port 0`), no persistence of its
 * own (`--save ''`). `stop()` kills it (SIGKILL, an outage); `start()` brings it back on the
 * same socket. Given a `dir`, it runs there, so a snapshot taken with SAVE before an outage is
 * loaded again at the restart, as a Redis with persistence would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class RedisServer {
  readonly socket: string;
  private child: ChildProcess | undefined;

  constructor(private readonly dir?: string) {
    this.socket = join(
      tmpdir(),
      `callwire-redis-${process.pid}-${Math.random().toString(36).slice(2)}.sock`,
    );
  }

  get url(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    rmSync(this.socket, { force: true });
    const child = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--unixsocket',
        this.socket,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(this.dir !== undefined ? { cwd: this.dir } : {}) },
    );
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        if (/ready to accept connections/i.test(output)) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
      child.once('error', reject);
    });
    // Keep draining its output so it never blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
    if (!existsSync(this.socket)) throw new Error('redis-server did not create its socket');
  }

  /** Kill it without warning, as an outage would. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    rmSync(this.socket, { force: true });
  }
}
