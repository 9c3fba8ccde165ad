/**
 * Cluster test support: a private redis-server (store-redis-server.ts) and real callwire node
 * processes started from the built CLI, each on port 0, found by their "listening" log line.
 * Processes are needed where the test does to a node what an operator or a crash would
 * (SIGKILL, SIGSTOP/SIGCONT, SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { TestClient, type Msg } from './support.js';

export const BIN = fileURLToPath(new URL('../bin/callwire.js', import.meta.url));

/** Fast cluster timings for tests: death noticed in about a second. */
export const FAST = [
  '--node-ttl-ms',
  '1200',
  '--cluster-heartbeat-ms',
  '200',
  '--name-ttl-ms',
  '3000',
];

type LogLine = Record<string, unknown> & { msg?: string };

export class NodeProcess {
  readonly logs: LogLine[] = [];
  port = 0;
  nodeId = '';
  private readonly child: ChildProcess;
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'callwire-node-'));
  private waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  private constructor(args: string[]) {
    this.child = spawn(
      process.execPath,
      [BIN, '--port', '0', '--host', '127.0.0.1', '--data-dir', this.dataDir, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    let buffer = '';
    this.child.stdout!.on('data', (d: Buffer) => {
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
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    });
    this.child.stderr!.resume();
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Start a node and wait until it listens (not necessarily until it is ready). */
  static async start(redisUrl: string, extra: string[] = []): Promise<NodeProcess> {
    const node = new NodeProcess(['--redis', redisUrl, ...FAST, ...extra]);
    const line = await node.waitLog((l) => l.msg === 'listening', 15_000);
    node.port = line.port as number;
    node.nodeId = line.node as string;
    return node;
  }

  url(path = '/'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  async waitLog(match: (l: LogLine) => boolean, timeoutMs = 10_000, from = 0): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.slice(from).find(match);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`node exited; logs: ${JSON.stringify(this.logs.slice(-20))}`);
      }
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

  async readyz(): Promise<number> {
    try {
      return (await fetch(`http://127.0.0.1:${this.port}/readyz`)).status;
    } catch {
      return 0;
    }
  }

  async waitReady(timeoutMs = 10_000): Promise<void> {
    await until(async () => (await this.readyz()) === 200, timeoutMs);
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Poll until `cond` holds (for effects with no event to await, like readiness). */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Log in on a node; resolves with the client and the login reply. */
export async function login(
  node: { url(path?: string): string },
  name: string,
  kind: 'native' | 'tutorial' | 'one2one' = 'native',
): Promise<TestClient> {
  if (kind === 'one2one') {
    const c = await TestClient.open(node.url('/call'));
    c.send({ id: 'register', name });
    const r = await c.next('registerResponse');
    if (r.response !== 'accepted') throw new Error(`register ${name}: ${JSON.stringify(r)}`);
    return c;
  }
  const c = await TestClient.open(node.url('/'));
  c.send(kind === 'native' ? { type: 'login', name, protocol: 1 } : { type: 'login', name });
  const r = await c.next('login');
  if (r.success !== true) throw new Error(`login ${name}: ${JSON.stringify(r)}`);
  return c;
}

/** Nodes started with `--auth jwt --jwt-secret <secret>` accept this token for `sub` for an hour. */
export function jwtFor(secret: string, sub: string): Promise<string> {
  return new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

/**
 * A native login as device `dev` of `name` on a jwt-mode node; resolves with the client and
 * the login reply, refused or not.
 */
export async function deviceLogin(
  node: { url(path?: string): string },
  secret: string,
  name: string,
  dev: string,
  resume = false,
): Promise<{ c: TestClient; reply: Msg }> {
  const c = await TestClient.open(node.url('/'));
  c.send({
    type: 'login',
    name,
    token: await jwtFor(secret, name),
    protocol: 1,
    device: { id: `${dev}-device-0001`, label: dev },
    ...(resume ? { resume: true } : {}),
  });
  return { c, reply: await c.next('login', 10_000) };
}
