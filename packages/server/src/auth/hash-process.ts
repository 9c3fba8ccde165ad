/**
 * Password hashes computed in a child process that runs at a lower scheduling priority.
 *
 * argon2 already runs off the main thread (in libuv's thread pool), so nothing here blocks the
 * event loop; what delayed relaying during a login storm was the CPU. Each hash keeps a core
 * busy for tens of milliseconds, and with two of them on a two-core machine the thread that
 * relays for signed-in users waited for a core like any other (ping p99 143 ms in issue 14).
 * The OS can only put relaying first if hashing is marked as less urgent, and a nice value is
 * per process (per thread on Linux), so the hashes move to a process of their own, niced to
 * HASH_NICENESS: whenever relaying wants a core it gets one, and hashing takes what is left.
 * The bounded queue in front of it stays in hash-limiter.ts.
 *
 * The child's code is the small program below, run with `node -e`, so the server starts it the
 * same way from its sources (tests) and from its build; it loads the very `argon2` package the
 * server resolves. Passwords cross a local IPC pipe to a child of the same user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Argon2Params } from './passwords.js';

/** The child's nice value: 10 gives it about a tenth of a core that relaying also wants. */
export const HASH_NICENESS = 10;

const CHILD = `
import { setPriority } from 'node:os';
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [argon2Path, niceText] = process.argv.slice(1);
const nice = Number(niceText);
try { setPriority(nice); } catch {}
// On Linux a nice value belongs to a thread: lower the threads that already exist (libuv's pool
// may have started while this loaded); threads started later inherit it from their creator.
try { for (const tid of readdirSync('/proc/self/task')) setPriority(Number(tid), nice); } catch {}
const argon2 = (await import(pathToFileURL(argon2Path).href)).default;
process.on('message', async (m) => {
  try {
    const value = m.op === 'hash'
      ? await argon2.hash(m.password, { type: argon2.argon2id, ...m.params })
      : await argon2.verify(m.hash, m.password);
    process.send({ id: m.id, value });
  } catch (err) {
    process.send({ id: m.id, error: String(err && err.message ? err.message : err) });
  }
});
process.on('disconnect', () => process.exit(0));
`;

type Request =
  | { readonly op: 'hash'; readonly password: string; readonly params: Argon2Params }
  | { readonly op: 'verify'; readonly hash: string; readonly password: string };

interface Reply {
  readonly id: number;
  readonly value?: string | boolean;
  readonly error?: string;
}

interface Pending {
  resolve(value: string | boolean): void;
  reject(err: Error): void;
}

export class HashProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly log: Logger) {}

  /** argon2id of an already prepared (normalized, length-checked) password. */
  async hash(prepared: string, params: Argon2Params): Promise<string> {
    return (await this.call({ op: 'hash', password: prepared, params })) as string;
  }

  /** Constant-time check inside argon2; false for a malformed hash, as passwords.ts does. */
  async verify(hash: string, prepared: string): Promise<boolean> {
    try {
      return (await this.call({ op: 'verify', hash, password: prepared })) === true;
    } catch (err) {
      if ((err as Error).name === 'HashProcessError') throw err;
      return false;
    }
  }

  /** Stop the child; what is pending fails. Idempotent. */
  close(): void {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    child?.kill();
    this.failAll(new HashProcessError('the hash process was closed'));
  }

  private call(request: Request): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new HashProcessError('the hash process was closed'));
    const child = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ id, ...request });
    });
  }

  /** The child, started on first use and again after it died (the next hash starts it). */
  private ensure(): ChildProcess {
    if (this.child !== undefined) return this.child;
    const argon2Path = createRequire(import.meta.url).resolve('argon2');
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', CHILD, argon2Path, String(HASH_NICENESS)],
      { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.value!);
    });
    child.on('error', (err) => this.log.error({ err: err.message }, 'hash process error'));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.closed) return;
      this.log.error(
        { code, signal, stderr: stderr.trim() },
        'hash process exited; restarting on the next login',
      );
      this.failAll(new HashProcessError('the hash process exited'));
    });
    // The server's own lifetime decides; an idle hash process never keeps it alive.
    child.unref();
    (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
    this.child = child;
    return child;
  }

  private failAll(err: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
  }
}

/** The hash process is gone (closed, crashed): not a wrong password. */
export class HashProcessError extends Error {
  override readonly name = 'HashProcessError';
}
