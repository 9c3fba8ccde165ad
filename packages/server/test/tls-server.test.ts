// Real TLS: https and wss on one port with a certificate callwire made (or was given), HSTS,
// plaintext refused, and the Origin allowlist checked before the upgrade.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { WebSocket, type ClientOptions } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildServer, parseConfig } from '../src/index.js';
import { TestClient } from './support.js';
import {
  addAccount,
  removeTempDirs,
  startWithData,
  tempDir,
  withSqlite,
  type AccountServer,
} from './auth-support.js';

let ts: AccountServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  removeTempDirs();
});

const certOf = (dataDir: string) =>
  readFileSync(join(dataDir, 'tls', 'self-signed-cert.pem'), 'utf8');

function httpsGet(
  port: number,
  path: string,
  ca: string,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, ca, servername: 'localhost' },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** 101 when the upgrade became a socket, else the HTTP status. */
function wssStatus(port: number, ca: string, origin?: string, path = '/'): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, {
      ca,
      ...(origin ? { origin } : {}),
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', reject);
  });
}

describe('--tls self-signed', () => {
  it('makes a certificate for this machine that a verifying wss client accepts', async () => {
    ts = await startWithData(['--tls', 'self-signed']);
    const cert = certOf(ts.dataDir);
    const x509 = new X509Certificate(cert);
    // The hostname too, when it is a valid DNS name (phones on the LAN may use it).
    const host = hostname().toLowerCase();
    const names = /^[a-z0-9.-]+$/.test(host) ? ['localhost', host] : ['localhost'];
    for (const name of names) expect(x509.checkHost(name), name).toBeDefined();
    for (const ip of ['127.0.0.1', '::1']) expect(x509.checkIP(ip), ip).toBeDefined();
    expect(x509.checkHost('example.com')).toBeUndefined();
    expect(x509.publicKey.asymmetricKeyType).toBe('ec');
    expect(statSync(join(ts.dataDir, 'tls', 'self-signed-key.pem')).mode & 0o777).toBe(0o600);

    // A client that verifies against that certificate connects and signs in.
    const c = new TestClient(`wss://127.0.0.1:${ts.port}/`, { ca: cert });
    await c.opened;
    c.send({ type: 'login', name: 'alice', protocol: 1 });
    expect(await c.next('login')).toMatchObject({ success: true });
    // So does one that checks the name `localhost`.
    // ws hands `servername` on to tls.connect, which then checks the certificate for it.
    const byName = new TestClient(`wss://127.0.0.1:${ts.port}/call`, {
      ca: cert,
      servername: 'localhost',
    } as ClientOptions);
    await byName.opened;
    byName.send({ id: 'register', name: 'bob' });
    expect(await byName.next('registerResponse')).toMatchObject({ response: 'accepted' });
    // A client that verifies against the usual authorities does not.
    const strict = new WebSocket(`wss://127.0.0.1:${ts.port}/`);
    const err = await new Promise<Error & { code?: string }>((resolve) =>
      strict.on('error', resolve),
    );
    expect(err.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it('serves https with HSTS, and refuses plain http on the same port', async () => {
    ts = await startWithData(['--tls', 'self-signed']);
    const res = await httpsGet(ts.port, '/healthz', certOf(ts.dataDir));
    expect(res.status).toBe(200);
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    const plain = await new Promise<string>((resolve) => {
      const req = httpGet({ host: '127.0.0.1', port: ts!.port, path: '/healthz' }, (r) =>
        resolve(`answered ${r.statusCode}`),
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(plain).not.toMatch(/^answered/);
    // Nor does a plaintext WebSocket get in.
    const ws = new WebSocket(`ws://127.0.0.1:${ts.port}/`);
    const opened = await new Promise<boolean>((resolve) => {
      ws.on('open', () => resolve(true));
      ws.on('error', () => resolve(false));
    });
    expect(opened).toBe(false);
  });

  it('keeps the certificate across restarts, so devices that accepted it keep working', async () => {
    const dataDir = tempDir();
    ts = await startWithData(['--tls', 'self-signed'], dataDir);
    const first = new X509Certificate(certOf(dataDir)).fingerprint256;
    await ts.close();
    ts = await startWithData(['--tls', 'self-signed'], dataDir);
    expect(new X509Certificate(certOf(dataDir)).fingerprint256).toBe(first);
    expect((await httpsGet(ts.port, '/healthz', certOf(dataDir))).status).toBe(200);
  });
});

describe('--tls-cert and --tls-key', () => {
  it('serves wss with the given files, and refuses a key that is not the certificate’s', async () => {
    const made = await startWithData(['--tls', 'self-signed']);
    const cert = certOf(made.dataDir);
    const certFile = join(made.dataDir, 'tls', 'self-signed-cert.pem');
    const keyFile = join(made.dataDir, 'tls', 'self-signed-key.pem');
    await made.close();

    ts = await startWithData(['--tls-cert', certFile, '--tls-key', keyFile]);
    expect(await wssStatus(ts.port, cert)).toBe(101);
    await ts.close();
    ts = undefined;

    const other = await startWithData(['--tls', 'self-signed']);
    await other.close();
    const wrongKey = join(tempDir(), 'wrong-key.pem');
    writeFileSync(wrongKey, readFileSync(join(other.dataDir, 'tls', 'self-signed-key.pem')));
    const config = parseConfig(
      [
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--data-dir',
        tempDir(),
        '--tls-cert',
        certFile,
        '--tls-key',
        wrongKey,
      ],
      {},
    );
    const server = buildServer(config, { logger: pino({ level: 'silent' }) });
    await expect(server.listen()).rejects.toThrow(/not the private key/);
    await server.close();
  });
});

describe('origins over wss', () => {
  it('lets only the server’s own page origin in by default once accounts are on', async () => {
    const dataDir = tempDir();
    await withSqlite(dataDir, (s) => addAccount(s, 'alice', 'alice-password'));
    ts = await startWithData(['--tls', 'self-signed', '--auth', 'password'], dataDir);
    const ca = certOf(dataDir);
    expect(await wssStatus(ts.port, ca, 'https://evil.example')).toBe(403);
    expect(await wssStatus(ts.port, ca, 'http://localhost:8080')).toBe(403);
    expect(await wssStatus(ts.port, ca, `https://127.0.0.1:${ts.port}`)).toBe(101);
    expect(await wssStatus(ts.port, ca)).toBe(101); // not a browser: no Origin
  });

  it('takes an explicit --origins allowlist instead', async () => {
    ts = await startWithData([
      '--tls',
      'self-signed',
      '--origins',
      'https://app.example,https://other.example:8443',
    ]);
    const ca = certOf(ts.dataDir);
    expect(await wssStatus(ts.port, ca, 'https://app.example')).toBe(101);
    expect(await wssStatus(ts.port, ca, 'https://other.example:8443', '/call')).toBe(101);
    expect(await wssStatus(ts.port, ca, 'https://evil.example')).toBe(403);
    expect(await wssStatus(ts.port, ca, `https://127.0.0.1:${ts.port}`)).toBe(403);
  });
});
