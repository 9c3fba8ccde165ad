// The CLI as people meet it: the real `callwire` process, its stdout and stderr, exit codes.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { platformDataDir, runsFromClone } from '../src/data-dir.js';

const BIN = fileURLToPath(new URL('../bin/callwire.js', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dirs: string[] = [];
const blockers: Server[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const b of blockers.splice(0)) b.close();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'callwire-cli-'));
  dirs.push(d);
  return d;
}

/** Run the CLI to its end; with `until`, send SIGTERM once the output contains it. */
function run(args: string[], until?: RegExp): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Run = { code: null, stdout: '', stderr: '' };
  let stopped = false;
  const seen = () => {
    if (stopped || until === undefined || !until.test(out.stdout + out.stderr)) return;
    stopped = true;
    child.kill('SIGTERM');
  };
  child.stdout.on('data', (d: Buffer) => ((out.stdout += d.toString()), seen()));
  child.stderr.on('data', (d: Buffer) => ((out.stderr += d.toString()), seen()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ ...out, code })));
}

const RUNNING = /is running: open (\S+)/;

describe('callwire CLI', () => {
  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`callwire ${VERSION}\n`);
  });

  it('--help names --version, --log-format and the default data directory', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--version');
    expect(r.stdout).toContain('--log-format');
    expect(r.stdout).toContain('.local/share/callwire');
  });

  it('when stdout is not a terminal: JSON logs on stdout, the URL to open on stderr, and it serves there', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, [BIN, '--port', '0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const url = await new Promise<string>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = RUNNING.exec(stderr);
        if (m) resolve(m[1]!);
      }),
    );
    expect(url).toMatch(/^http:\/\/localhost:\d+\/$/);
    const health = await fetch(new URL('/healthz', url.replace('localhost', '127.0.0.1')));
    expect(health.status).toBe(200);
    const exited = new Promise((r) => child.on('close', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = stdout.trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as { msg: string; port?: number });
    const listening = records.find((r) => r.msg === 'listening');
    expect(url).toBe(`http://localhost:${listening?.port}/`);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--log-format plain prints readable lines and the URL on stdout', async () => {
    const r = await run(['--port', '0', '--data-dir', tempDir(), '--log-format', 'plain'], RUNNING);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d INFO {2}listening port=\d+/m);
    expect(r.stdout).toMatch(RUNNING);
    expect(r.stdout).not.toContain('{"level"');
    expect(r.stderr).toBe('');
  });

  it('with --tls self-signed prints the https URL and the certificate fingerprint', async () => {
    const dataDir = tempDir();
    const r = await run(
      ['--port', '0', '--data-dir', dataDir, '--tls', 'self-signed'],
      /fingerprint \S+\n/,
    );
    expect(r, r.stdout + r.stderr).toMatchObject({ code: 0 });
    expect(r.stderr).toMatch(/is running: open https:\/\/localhost:\d+\//);
    const cert = new X509Certificate(readFileSync(join(dataDir, 'tls', 'self-signed-cert.pem')));
    expect(r.stderr).toContain(`fingerprint ${cert.fingerprint256}\n`);
  });

  async function oneSentence(args: string[]): Promise<string> {
    const r = await run(args);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^callwire: .+\.$/);
    return lines[0]!;
  }

  it('a port in use is one sentence on stderr and exit 1', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    const line = await oneSentence(['--port', String(port), '--data-dir', tempDir()]);
    expect(line).toContain(`port ${port}`);
    expect(line).toContain('already in use');
  });

  it('an unreadable or broken certificate is one sentence naming the file', async () => {
    const dir = tempDir();
    const missing = join(dir, 'missing.pem');
    const line = await oneSentence([
      '--port',
      '0',
      '--data-dir',
      dir,
      '--tls-cert',
      missing,
      '--tls-key',
      missing,
    ]);
    expect(line).toContain(`cannot read the TLS certificate ${missing}`);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const broken = await oneSentence([
      '--port',
      '0',
      '--data-dir',
      dir,
      '--tls-cert',
      garbage,
      '--tls-key',
      garbage,
    ]);
    expect(broken).toContain(`${garbage} and ${garbage} must be a PEM certificate`);
  });

  it('a data directory that cannot be one is one sentence naming it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    const bad = join(dir, 'file', 'data');
    const line = await oneSentence(['--port', '0', '--data-dir', bad]);
    expect(line).toContain(`cannot use the data directory ${bad}`);
  });
});

describe('default data directory', () => {
  it('is ./data in a clone (this one)', () => {
    expect(runsFromClone()).toBe(true);
  });

  it('follows each platform convention when installed', () => {
    expect(platformDataDir({}, 'linux', '/home/ann')).toBe('/home/ann/.local/share/callwire');
    expect(platformDataDir({ XDG_DATA_HOME: '/srv/xdg' }, 'linux', '/home/ann')).toBe(
      '/srv/xdg/callwire',
    );
    // XDG: a relative XDG_DATA_HOME is invalid and ignored.
    expect(platformDataDir({ XDG_DATA_HOME: 'rel' }, 'linux', '/home/ann')).toBe(
      '/home/ann/.local/share/callwire',
    );
    expect(platformDataDir({}, 'darwin', '/Users/ann')).toBe(
      '/Users/ann/Library/Application Support/callwire',
    );
    expect(
      platformDataDir(
        { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' },
        'win32',
        'C:\\Users\\ann',
      ),
    ).toMatch(/^C:\\Users\\ann\\AppData\\Local.callwire$/);
  });
});
