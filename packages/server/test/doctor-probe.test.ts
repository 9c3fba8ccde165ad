// `callwire doctor` against a real coturn (UDP, TCP and TLS with a test certificate) and a real
// callwire issuing its credentials: the verdict and exit code for a network where everything
// works, where only the relay does, and where the relay refuses the credentials.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoturn, type Coturn } from '../../../test/e2e/support/coturn.js';
import { freePort } from '../../../test/e2e/support/ports.js';
import { doctorCommand, type DoctorReport } from '../src/doctor/command.js';
import { startServer, type TestServer } from './support.js';

let coturn: Coturn;
let tlsPort: number;
let dir: string;
let caFile: string;
const servers: TestServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'callwire-doctor-'));
  caFile = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '1', '-subj', '/CN=turn.test', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', key, '-out', caFile,
  ], { stdio: 'ignore' }); // prettier-ignore
  tlsPort = await freePort();
  coturn = await startCoturn({ tls: { cert: caFile, key, port: tlsPort } });
}, 30_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await coturn?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function callwire(turnUrls: string[], extra: string[] = []): Promise<TestServer> {
  const server = await startServer([
    '--turn-secret',
    extra.includes('--wrong-secret') ? 'not-the-secret' : coturn.secret,
    '--turn-urls',
    turnUrls.join(','),
    ...extra.filter((f) => f !== '--wrong-secret'),
  ]);
  servers.push(server);
  return server;
}

async function doctor(
  args: string[],
): Promise<{ code: number; report: DoctorReport | null; text: string }> {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const code = await doctorCommand(args, sink, sink);
  const report = args.includes('--json') ? (JSON.parse(text) as DoctorReport) : null;
  return { code, report, text };
}

const urls = () => ({
  udp: `turn:127.0.0.1:${coturn.port}?transport=udp`,
  tcp: `turn:127.0.0.1:${coturn.port}?transport=tcp`,
  tls: `turns:127.0.0.1:${tlsPort}?transport=tcp`,
});

describe('callwire doctor', () => {
  it('an open network: STUN and TURN over UDP, TCP and TLS all work; exit 0', async () => {
    const u = urls();
    const server = await callwire([u.udp, u.tcp, u.tls]);
    // A guest whose name has a space: the issued TURN username must still authenticate.
    const { code, report } = await doctor([
      server.url('/'), '--json', '--name', 'Ann Lee', '--ca', caFile, '--timeout-ms', '3000',
    ]); // prettier-ignore
    expect(report?.checks.map((c) => [c.check, c.outcome])).toEqual([
      ['signaling', 'ok'],
      ['stun', 'ok'],
      ['turn-udp', 'ok'],
      ['turn-tcp', 'ok'],
      ['turn-tls', 'ok'],
    ]);
    expect(report?.probe.publicAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(report?.verdict.text).toBe('Calls will work.');
    expect(code).toBe(0);
  });

  it('UDP unanswered, TCP and TLS relay: relay only; exit 3', async () => {
    const u = urls();
    // STUN at a UDP port nobody answers on stands in for a network that drops UDP.
    const server = await callwire([u.tcp, u.tls], [
      '--stun-urls', `stun:127.0.0.1:${await freePort()}`,
    ]); // prettier-ignore
    const { code, report, text } = await doctor([
      server.url('/'),
      '--json',
      '--timeout-ms',
      '1500',
      '--ca',
      caFile,
    ]);
    expect(report?.probe).toMatchObject({
      stun: 'failed',
      turn: { udp: 'not_tested', tcp: 'ok', tls: 'ok' },
    });
    expect(report?.verdict).toMatchObject({ kind: 'relay_only', route: 'relay-tcp' });
    expect(code).toBe(3);
    expect(text).toContain('Calls will only work through the relay.');
  });

  it('credentials the relay refuses: blocked, and the check says so; exit 4', async () => {
    const u = urls();
    // TCP only: over UDP the TURN server would answer STUN (no credentials needed), which
    // alone makes direct calls possible.
    const server = await callwire([u.tcp], ['--wrong-secret']);
    const { code, text } = await doctor([server.url('/'), '--timeout-ms', '3000']);
    expect(code).toBe(4);
    expect(text).toContain('TURN error 401 (the credentials were refused: check --turn-secret)');
    expect(text).toContain(
      'Calls cannot connect from this network: ask your administrator to allow',
    );
  });

  it('a TLS certificate it cannot verify fails TURN over TLS', async () => {
    const u = urls();
    const server = await callwire([u.tls]);
    const { report } = await doctor([server.url('/'), '--json', '--timeout-ms', '3000']);
    expect(report?.probe.turn.tls).toBe('failed');
  });

  it('a server it cannot reach is blocked; bad usage exits 2', async () => {
    const port = await freePort();
    const { code, report } = await doctor([
      `ws://127.0.0.1:${port}/`,
      '--json',
      '--timeout-ms',
      '1000',
    ]);
    expect(report?.verdict.allow).toEqual([`connections to the call server to 127.0.0.1:${port}`]);
    expect(code).toBe(4);
    expect((await doctor([])).code).toBe(2);
    expect((await doctor(['ftp://x/'])).code).toBe(2);
    expect((await doctor(['ws://x/', '--timeout-ms', 'soon'])).code).toBe(2);
    expect(readFileSync(caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
