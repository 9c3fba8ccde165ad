// What an operator notices: health, readiness, metrics, the heartbeat, origins, SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerProcess } from './server-process.js';
import { TestClient, connectedCall, nativeUser, startServer, tutorialUser, type TestServer } from './support.js';

const BIN = fileURLToPath(new URL('../bin/callwire.js', import.meta.url));
let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

const http = (port: number, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, { headers });

describe('HTTP endpoints', () => {
  it('serves /healthz, /readyz and Prometheus /metrics that count what happened', async () => {
    ts = await startServer();
    expect((await http(ts.port, '/healthz')).status).toBe(200);
    expect((await http(ts.port, '/readyz')).status).toBe(200);
    const a = await nativeUser(ts, 'a');
    const b = await nativeUser(ts, 'b');
    const callId = await connectedCall(a, b, 'b');
    a.send({ type: 'candidate', callId, candidate: null });
    await b.next('candidate');
    a.send({ type: 'hangup', callId });
    await b.next('leave');
    a.send({ type: 'bogus' });
    await a.next('error');
    const res = await http(ts.port, '/metrics');
    const text = await res.text();
    expect(text).toMatch(/^callwire_connections 2$/m);
    expect(text).toMatch(/^callwire_logins_total 2$/m);
    expect(text).toMatch(/^callwire_calls_ended_total\{reason="hangup"\} 1$/m);
    expect(text).toMatch(/^callwire_messages_relayed_total 1$/m);
    expect(text).toMatch(/^callwire_errors_total\{code="unknown_type"\} 1$/m);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('refuses a WebSocket from a foreign page origin (403) and on an unknown path (404)', async () => {
    ts = await startServer();
    const status = (path: string, origin?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(ts!.url(path), origin ? { origin } : {});
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => {});
      });
    expect(await status('/', 'https://evil.example')).toBe(403);
    expect(await status('/', `http://127.0.0.1:${ts.port}`)).toBe(101);
    expect(await status('/', 'http://localhost:8080')).toBe(101); // a tutorial page on localhost
    expect(await status('/nope')).toBe(404);
  });
});

describe('heartbeat', () => {
  it('terminates a socket that went silent and tells its peer the call ended', async () => {
    ts = await startServer(['--ping-interval-ms', '100', '--idle-timeout-ms', '400']);
    const a = await tutorialUser(ts, 'a');
    const b = await tutorialUser(ts, 'b');
    a.send({ type: 'offer', name: 'b', offer: { type: 'offer', sdp: 'v=0' } });
    await b.next('offer');
    // b's machine vanishes: nothing it receives is read, so it never answers a ping.
    (b.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    expect(await a.next('leave', 3000)).toMatchObject({ reason: 'disconnected', name: 'b' });
    expect(ts.server.gateway.size).toBe(1);
  });

  it('keeps a quiet but healthy client connected (it answers pings)', async () => {
    ts = await startServer(['--ping-interval-ms', '100', '--idle-timeout-ms', '400']);
    const a = await nativeUser(ts, 'a');
    await new Promise((r) => setTimeout(r, 1200));
    await a.settle();
    expect(a.closeCode).toBeUndefined();
  });
});

describe('heartbeat across a stall of the server process', () => {
  let server: ServerProcess | undefined;
  let dataDir = '';
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the clients that were alive while it was stopped past the idle timeout, and drops the dead one', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'callwire-stall-'));
    server = await ServerProcess.start([
      ...['--data-dir', dataDir, '--ping-interval-ms', '300', '--idle-timeout-ms', '1200'],
    ]);
    const login = async (name: string, native: boolean) => {
      const c = await TestClient.open(server!.url());
      c.send({ type: 'login', name, ...(native ? { protocol: 1 } : {}) });
      expect(await c.next('login')).toMatchObject({ success: true });
      return c;
    };
    // `pinger` sends the SDK's heartbeat; `page` only answers the server's pings, as a browser
    // page does; `dead` is in a call with `pinger` and stops reading during the stall.
    const pinger = await login('pinger', true);
    const page = await login('page', false);
    const dead = await login('dead', true);
    await connectedCall(pinger, dead, 'dead');
    const heartbeat = setInterval(() => pinger.send({ type: 'ping' }), 200);
    try {
      (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      server.signal('SIGSTOP');
      // Stopped for twice the idle timeout: nothing to await while a process is stopped.
      await new Promise((r) => setTimeout(r, 2400));
      server.signal('SIGCONT');
      // The dead client is still found out, one idle timeout after the server woke up; by then
      // several sweeps have judged the others, which must still be connected.
      expect(await pinger.next('leave', 5000)).toMatchObject({ reason: 'disconnected', name: 'dead' });
      pinger.send({ type: 'ping', ref: 'after' });
      expect(await pinger.next((m) => m.type === 'pong' && m.ref === 'after')).toBeDefined();
      expect(pinger.closeCode).toBeUndefined();
      expect(page.closeCode).toBeUndefined();
    } finally {
      clearInterval(heartbeat);
    }
  });
});

describe('CLI', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

  it('prints --help and exits 0; refuses a bad flag with exit 2', async () => {
    const help = run(['--help']);
    let out = '';
    help.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await new Promise((r) => help.on('exit', r))).toBe(0);
    expect(out).toContain('--ring-timeout-ms');
    expect(out).toContain('CALLWIRE_');
    const bad = run(['--port', 'eighty']);
    expect(await new Promise((r) => bad.on('exit', r))).toBe(2);
  });

  it('reads flags from CALLWIRE_* and drains on SIGTERM: reconnect hint, 1012, exit 0', async () => {
    const child = run([], { CALLWIRE_PORT: '0', CALLWIRE_HOST: '127.0.0.1', CALLWIRE_LOG_LEVEL: 'info' });
    const lines = createInterface({ input: child.stdout });
    const port = await new Promise<number>((resolve) => {
      lines.on('line', (line) => {
        const rec = JSON.parse(line) as { msg?: string; port?: number };
        if (rec.msg === 'listening') resolve(rec.port!);
      });
    });
    const c = await TestClient.open(`ws://127.0.0.1:${port}/`);
    c.send({ type: 'login', name: 'x', protocol: 1 });
    await c.next('login');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const hint = await c.next('reconnect');
    expect(hint.afterMs).toBeGreaterThanOrEqual(0);
    expect(await c.closed).toBe(1012);
    expect(await exited).toBe(0);
  });
});
