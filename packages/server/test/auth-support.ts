/**
 * Support for the account, token, record and TLS suites: servers with their own data
 * directory, accounts written to its real store, and logins that return the reply.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeName } from '@callwire/protocol';
import { hashPassword, type Argon2Params } from '../src/auth/passwords.js';
import { SqliteStore } from '../src/stores/sqlite-store.js';
import type { Store } from '../src/stores/store.js';
import { TestClient, startServer, type Msg, type TestServer } from './support.js';

export const BIN = fileURLToPath(new URL('../bin/callwire.js', import.meta.url));

const dirs: string[] = [];
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'callwire-test-'));
  dirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface AccountServer extends TestServer {
  readonly dataDir: string;
}

/** A server with its own data directory (and so its own SQLite store unless told otherwise). */
export async function startWithData(flags: string[], dataDir = tempDir()): Promise<AccountServer> {
  const ts = await startServer(['--data-dir', dataDir, ...flags]);
  return { ...ts, dataDir };
}

/** Write an account straight into a store (as `callwire users add` would). */
export async function addAccount(
  store: Store,
  name: string,
  password: string,
  params?: Argon2Params,
): Promise<void> {
  const n = normalizeName(name);
  if (!n.ok) throw new TypeError(`bad name ${name}`);
  const ok = await store.addUser({
    key: n.key,
    name: n.display,
    hash: await hashPassword(password, params),
    epoch: randomUUID(),
    createdAtMs: Date.now(),
  });
  if (!ok) throw new Error(`account ${name} exists`);
}

/** Open the SQLite store of a data directory, run `fn`, close it. */
export async function withSqlite<T>(
  dataDir: string,
  fn: (store: SqliteStore) => Promise<T>,
): Promise<T> {
  const store = new SqliteStore(dataDir);
  await store.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Send a login and return the socket with the reply. */
export async function attemptLogin(
  ts: TestServer,
  msg: Record<string, unknown>,
  path = '/',
): Promise<{ client: TestClient; reply: Msg }> {
  const client = await TestClient.open(ts.url(path));
  client.send(msg);
  const reply = await client.next(path === '/' ? 'login' : 'registerResponse', 10_000);
  return { client, reply };
}

/** A native login that must succeed. */
export async function signIn(
  ts: TestServer,
  name: string,
  password: string,
): Promise<{ client: TestClient; reply: Msg }> {
  const r = await attemptLogin(ts, { type: 'login', name, password, protocol: 1 });
  if (r.reply.success !== true) throw new Error(`login ${name} failed: ${JSON.stringify(r.reply)}`);
  return r;
}

/** Poll `cond` until it holds (for effects that have no event to await, e.g. a store write). */
export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Run the built CLI; resolves with its exit code and output. */
export function runCli(
  args: string[],
  input?: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}
