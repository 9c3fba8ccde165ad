// A storm of password logins must not delay the people already signed in: their messages are
// relayed while 200 logins are hashed (argon2id at the default cost). The server runs as its own
// process, so the delay measured is the server's and not the test's own event loop.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, type Msg } from './support.js';
import {
  addAccount,
  attemptLogin,
  removeTempDirs,
  startWithData,
  tempDir,
  until,
  withSqlite,
  type AccountServer,
} from './auth-support.js';
import { ServerProcess, percentile } from './server-process.js';

const STORM = 200;
const USERS = 10;
const PING_EVERY_MS = 20;

let server: ServerProcess | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.stop();
  server = undefined;
  removeTempDirs();
});

function open(url: string, localAddress: string): TestClient {
  const c = new TestClient(url, { localAddress });
  clients.push(c);
  return c;
}

async function signIn(url: string, name: string, password: string): Promise<TestClient> {
  const c = open(url, '127.0.0.1');
  await c.opened;
  c.send({ type: 'login', name, password, protocol: 1 });
  const reply = await c.next('login', 30_000);
  if (reply.success !== true) throw new Error(`login ${name}: ${JSON.stringify(reply)}`);
  return c;
}

describe('a storm of password logins', () => {
  it(`relays for signed-in users while ${STORM} logins are hashed (ping p99 reported)`, async () => {
    const dataDir = tempDir();
    await withSqlite(dataDir, async (store) => {
      for (let i = 0; i < USERS; i++) await addAccount(store, `user-${i}`, `password-of-user-${i}`);
    });
    server = await ServerProcess.start([
      '--data-dir',
      dataDir,
      '--auth',
      'password',
      '--max-connections-per-ip',
      '0',
    ]);
    const url = server.url('/');
    const users = await Promise.all(
      Array.from({ length: USERS }, (_, i) => signIn(url, `user-${i}`, `password-of-user-${i}`)),
    );
    // Each stormer from an address of its own (127/8 is all this machine), so the per-address
    // throttle refuses none of them before hashing: every one costs a full argon2 hash.
    const stormers = Array.from({ length: STORM }, (_, i) =>
      open(url, `127.0.${10 + Math.floor(i / 200)}.${(i % 200) + 1}`),
    );
    await Promise.all(stormers.map((c) => c.opened));

    const rtts: number[] = [];
    let storming = true;
    const pinger = async (c: TestClient, u: number) => {
      for (let n = 0; storming; n++) {
        const ref = `u${u}-${n}`;
        const t = performance.now();
        c.send({ type: 'ping', ref });
        await c.next((m: Msg) => m.type === 'pong' && m.ref === ref, 30_000);
        rtts.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, PING_EVERY_MS));
      }
    };
    const pinging = users.map((c, u) => pinger(c, u));
    const started = performance.now();
    stormers.forEach((c, i) =>
      c.send({ type: 'login', name: `stormer-${i}`, password: `guess-${i}`, protocol: 1 }),
    );
    const replies = await Promise.all(stormers.map((c) => c.next('login', 120_000)));
    const stormMs = performance.now() - started;
    storming = false;
    await Promise.all(pinging);

    const codes = new Map<string, number>();
    for (const r of replies) codes.set(r.code as string, (codes.get(r.code as string) ?? 0) + 1);
    const p50 = percentile(rtts, 50);
    const p99 = percentile(rtts, 99);
    console.log(
      `login storm: ${STORM} logins in ${stormMs.toFixed(0)} ms (${JSON.stringify(Object.fromEntries(codes))}); ` +
        `signed-in users' ping RTT over ${rtts.length} pings: p50 ${p50.toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms, max ${Math.max(...rtts).toFixed(1)} ms`,
    );
    // Every login got an answer, and none of them was a crash or a silent drop.
    expect(
      [...codes.keys()].every((c) => ['invalid_credentials', 'service_unavailable'].includes(c)),
    ).toBe(true);
    expect(rtts.length).toBeGreaterThan(USERS * 3);
    // The figure is for the report; the bound is only a generous one (timings here are noisy).
    expect(p99).toBeLessThan(500);
  }, 180_000);
});

/** This process's children that are hash processes (see src/auth/hash-process.ts). */
function hashProcesses(): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when there is none
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--input-type=module');
      } catch {
        return false;
      }
    });
}

describe('the hash process', () => {
  let inProcess: AccountServer | undefined;
  afterEach(async () => {
    await inProcess?.close();
    inProcess = undefined;
  });

  it('runs niced; when it dies, logins get service_unavailable, and the next one starts it again', async () => {
    const dataDir = tempDir();
    await withSqlite(dataDir, async (store) => {
      await addAccount(store, 'alice', 'alice-password-1');
      await addAccount(store, 'bob', 'bob-password-1');
    });
    const before = new Set(hashProcesses());
    inProcess = await startWithData(['--auth', 'password'], dataDir);
    const ts = inProcess;
    expect(
      (
        await attemptLogin(ts, {
          type: 'login',
          name: 'alice',
          password: 'alice-password-1',
          protocol: 1,
        })
      ).reply.success,
    ).toBe(true);
    const [child] = hashProcesses().filter((pid) => !before.has(pid));
    expect(child).toBeDefined();
    // Field 19 of /proc/PID/stat is the nice value.
    const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])).toBe(10);
    process.kill(child!, 'SIGKILL');
    await until(() => !hashProcesses().includes(child!));
    // The next login starts a new one (a login caught mid-hash would get service_unavailable).
    const again = await attemptLogin(ts, {
      type: 'login',
      name: 'bob',
      password: 'wrong-password',
      protocol: 1,
    });
    expect(['invalid_credentials', 'service_unavailable']).toContain(again.reply.code);
    const ok = await attemptLogin(
      ts,
      { id: 'register', name: 'bob', password: 'bob-password-1' },
      '/call',
    );
    expect(ok.reply).toMatchObject({ response: 'accepted' });
    expect(hashProcesses().filter((pid) => !before.has(pid) && pid !== child)).toHaveLength(1);
    await inProcess.close();
    inProcess = undefined;
    await until(() => hashProcesses().every((pid) => before.has(pid)));
  });
});
