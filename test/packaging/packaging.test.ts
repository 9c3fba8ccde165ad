// The packages as users get them: packed with `npm pack`, installed from the tarballs into an
// empty project with `npm install`, and used there: the `callwire` command, the web app it
// serves, and an app that type-checks and bundles @callwire/client. Also the SDK's size.
//
// Packing skips the prepack build (`--ignore-scripts`): `npm test` has just built everything,
// and building twice would double the time. The native addon better-sqlite3 would otherwise be
// compiled from source again (its prebuilt download needs the internet); its install script is
// pointed at the addon this machine's own install already built, for the same version, so the
// install script still runs, just without minutes of compiling.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'node_modules', '.bin');
const PACKAGES = ['packages/protocol', 'packages/client', 'packages/server'];
/** The PeerJS client's size, minified and gzipped: the SDK must not cost an app more. */
const SDK_BUDGET_BYTES = 24 * 1024;

let work: string;
let app: string;
let installed: { stdout: string; stderr: string };
let packed: Array<{ name: string; filename: string; files: Array<{ path: string }> }>;
const version = (dir: string): string =>
  (JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { version: string })
    .version;

beforeAll(async () => {
  for (const dir of PACKAGES) {
    if (!existsSync(join(ROOT, dir, 'dist', 'index.js'))) {
      throw new Error(`${dir}/dist is missing: run npm run build first`);
    }
  }
  work = mkdtempSync(join(tmpdir(), 'callwire-pack-'));
  const { stdout } = await run(
    'npm',
    [
      'pack',
      '--ignore-scripts',
      '--json',
      '--pack-destination',
      work,
      ...PACKAGES.flatMap((p) => ['-w', p]),
    ],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  packed = JSON.parse(stdout) as typeof packed;

  const prebuilds = join(work, 'prebuilds');
  mkdirSync(prebuilds);
  const sqlite = join(ROOT, 'node_modules', 'better-sqlite3');
  const sqliteVersion = (
    JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8')) as { version: string }
  ).version;
  await run('tar', [
    'czf',
    join(
      prebuilds,
      `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`,
    ),
    '-C',
    sqlite,
    'build/Release/better_sqlite3.node',
  ]);

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  installed = await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      ...packed.map((p) => join(work, p.filename)),
    ],
    {
      cwd: app,
      env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
}, 600_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

// Each step starts npm or npx, which take seconds on a busy machine.
describe('the packed packages', { timeout: 120_000 }, () => {
  it('carry built code, declarations with maps, README and LICENSE, and no tests', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([
      '@callwire/client',
      '@callwire/protocol',
      'callwire',
    ]);
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files, p.name).toEqual(
        expect.arrayContaining([
          'package.json',
          'README.md',
          'LICENSE',
          'dist/index.js',
          'dist/index.d.ts',
          'dist/index.d.ts.map',
        ]),
      );
      expect(
        files.filter((f) => /(^|\/)test\/|tsbuildinfo/.test(f)),
        p.name,
      ).toEqual([]);
    }
    const server = packed.find((p) => p.name === 'callwire')!.files.map((f) => f.path);
    expect(server).toEqual(
      expect.arrayContaining(['bin/callwire.js', 'dist/cli.js', 'dist/web/index.html']),
    );
  });

  it('install on Node 20 without engine warnings, with patch-release ranges between them', () => {
    // fastify's light-my-request >= 6.7 pulls cookie 2, which wants Node 22: callwire pins it.
    expect(installed.stderr).not.toContain('EBADENGINE');
    for (const name of ['callwire', '@callwire/client', '@callwire/protocol']) {
      const pkg = JSON.parse(
        readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8'),
      ) as {
        license: string;
        engines: { node: string };
        private?: boolean;
        dependencies: Record<string, string>;
      };
      expect(pkg, name).toMatchObject({ license: 'MIT', engines: { node: '>=20.11' } });
      expect(pkg.private, name).toBeUndefined();
      for (const [dep, range] of Object.entries(pkg.dependencies)) {
        if (dep.startsWith('@callwire/')) expect(range, `${name} -> ${dep}`).toMatch(/^[~^]/);
      }
    }
  });

  it('npx callwire --version and --help work in the installed project', async () => {
    const v = await run('npx', ['--no-install', 'callwire', '--version'], { cwd: app });
    expect(v.stdout).toBe(`callwire ${version('packages/server')}\n`);
    const help = await run('npx', ['--no-install', 'callwire', '--help'], { cwd: app });
    expect(help.stdout).toContain('--port');
    expect(help.stdout).toContain('--data-dir');
  });

  it('npx callwire --port 0 serves the web app and its assets, keeping data in the XDG data directory', async () => {
    const xdg = join(work, 'xdg');
    const child = spawn('npx', ['--no-install', 'callwire', '--port', '0'], {
      cwd: app,
      env: { ...process.env, XDG_DATA_HOME: xdg },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: npx runs callwire as a child, and both must get the signal.
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          const m = /is running: open (\S+)/.exec(stderr);
          if (m) resolve(m[1]!.replace('localhost', '127.0.0.1'));
        });
        child.on('close', () => reject(new Error(`callwire exited: ${stderr}`)));
      });
      const page = await fetch(url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
      expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
      for (const asset of assets) {
        const res = await fetch(new URL(asset, url));
        expect(res.status, asset).toBe(200);
        expect(res.headers.get('content-type'), asset).toMatch(
          asset.endsWith('.js') ? /javascript/ : /css/,
        );
      }
      expect(existsSync(join(xdg, 'callwire', 'callwire.db'))).toBe(true);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
    // npx itself dies by the signal; callwire drains and says so in its last log record.
    await exited;
    expect(stdout).toContain('"msg":"stopped"');
  });

  it('an app importing @callwire/client type-checks and bundles, within the size budget, with no eval', async () => {
    mkdirSync(join(app, 'src'));
    writeFileSync(
      join(app, 'src', 'main.ts'),
      [
        "import { connect, type CallwireClient } from '@callwire/client';",
        '',
        'export async function start(url: string): Promise<CallwireClient> {',
        "  const client = await connect(url, { name: 'ann' });",
        "  client.on('incoming', (incoming) => void incoming.decline());",
        '  return client;',
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        include: ['src'],
      }),
    );
    await run(join(BIN, 'tsc'), ['-p', 'tsconfig.json'], { cwd: app });
    await run(
      join(BIN, 'esbuild'),
      [
        'src/main.ts',
        '--bundle',
        '--minify',
        '--format=esm',
        '--platform=browser',
        '--outfile=out/app.js',
      ],
      { cwd: app },
    );
    const bundle = readFileSync(join(app, 'out', 'app.js'));
    const gzipBytes = gzipSync(bundle, { level: 9 }).length;
    console.log(
      `SDK in an app importing connect: ${bundle.length} bytes minified, ${gzipBytes} bytes gzip`,
    );
    expect(gzipBytes).toBeLessThanOrEqual(SDK_BUDGET_BYTES);
    expect(bundle.toString()).not.toMatch(/new Function|\beval\(/);
  });
});

describe('package-lock.json', () => {
  it('carries every optional dependency of every locked package (other platforms too), so npm ci works anywhere', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { optionalDependencies?: Record<string, string> }>;
    };
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
        const nested = `${path === '' ? '' : `${path}/`}node_modules/${dep}`;
        if (!(nested in lock.packages) && !(`node_modules/${dep}` in lock.packages))
          missing.push(`${path} -> ${dep}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
