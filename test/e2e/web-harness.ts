/**
 * Shared helpers for the web app's browser suites (test/e2e/web-*.test.ts): build the app when
 * its sources changed, start the real server on port 0, drive Debian's Chromium with fake
 * camera and microphone, and sign people in the way a person does (type a name, press Sign in).
 *
 * Every page records uncaught errors and Content-Security-Policy violations; `assertClean()`
 * fails a test that caused any, so the app is checked against the server's real CSP throughout.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { expect } from 'vitest';
import { getCurrentTest } from 'vitest/suite';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WEB = join(REPO, 'packages/web');
/**
 * Screenshots of the main screens go to test-results/ on every run (ignored by git), and to
 * docs/screenshots/ when CALLWIRE_UPDATE_SCREENSHOTS=1, so a test run never dirties the tree.
 */
export const SCREENSHOTS =
  process.env.CALLWIRE_UPDATE_SCREENSHOTS === '1' ? join(REPO, 'docs/screenshots') : join(REPO, 'test-results/screenshots');

/** The fake-media flags of every browser suite (support/chromium.ts), plus what the app needs. */
export const CHROMIUM_ARGS = [
  // Ring tones may start without a click in tests (the app unlocks audio on sign-in anyway).
  '--autoplay-policy=no-user-gesture-required',
  // Screen share without a picker: capture the (virtual) screen at once.
  '--auto-select-desktop-capture-source=Entire screen',
  // A name that is not localhost and resolves to loopback: a plain-http LAN-like origin, which
  // browsers do not treat as a secure context.
  '--host-resolver-rules=MAP lan.test 127.0.0.1',
  // Background tabs must keep decoding: several people share one browser here.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

// ---------------------------------------------------------------------------------------------
// The web build

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Build packages/web/dist when any input is newer than the last build. */
export async function ensureWebBuild(): Promise<void> {
  const output = join(WEB, 'dist/index.html');
  const inputs = [
    join(WEB, 'src'),
    join(WEB, 'index.html'),
    join(WEB, 'vite.config.ts'),
    join(WEB, 'public'),
    join(REPO, 'packages/client/src'),
    join(REPO, 'packages/protocol/dist'),
  ];
  const newestInput = Math.max(...inputs.filter((p) => existsSync(p)).map(newestMtime));
  if (existsSync(output) && statSync(output).mtimeMs >= newestInput) return;
  const { build } = await import('vite');
  await build({ configFile: join(WEB, 'vite.config.ts'), root: WEB, logLevel: 'warn' });
}

// ---------------------------------------------------------------------------------------------
// The server

export type Server = {
  readonly url: string;
  readonly port: number;
  readonly logs: string[];
  /** Stop gracefully (SIGTERM) and remove the data directory. */
  stop(): Promise<void>;
  /** Die at once (SIGKILL), as a crash or a pulled cable looks to clients; data is kept. */
  kill(): Promise<void>;
  /** Start again on the same port and data directory (after kill). */
  restart(): Promise<void>;
};

/** `callwire users add NAME`, password on stdin, in the data directory the server will use. */
async function addUser(dataDir: string, name: string, password: string, storeArgs: string[] = []): Promise<void> {
  const child = spawn(process.execPath, [join(REPO, 'packages/server/bin/callwire.js'), 'users', 'add', name, '--data-dir', dataDir, ...storeArgs], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(`${password}\n`);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`users add ${name} failed (${code}): ${output}`);
}

type Running = { child: ChildProcessWithoutNullStreams; port: number };

function spawnServer(dataDir: string, port: number, extraArgs: string[], logs: string[]): Promise<Running> {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      join(REPO, 'packages/server/bin/callwire.js'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      // The suites place many calls from the same few people.
      '--invites-per-minute',
      '1000',
      ...extraArgs,
    ],
    { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new Promise<Running>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${logs.join('\n')}`)), 20_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && typeof entry.port === 'number') {
            clearTimeout(timer);
            resolve({ child, port: entry.port });
          }
        } catch {
          // Not JSON: keep it in the logs for diagnosis.
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => logs.push(chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`));
    });
  });
}

async function stopChild(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The real server on a free port (`--port 0`), with its own data directory. `users` are added
 * to its store (`storeArgs`: `--store redis --redis URL` for a store the nodes of a cluster share).
 */
export async function startServer(
  extraArgs: string[] = [],
  users: Record<string, string> = {},
  storeArgs: string[] = [],
): Promise<Server> {
  await ensureWebBuild();
  const dataDir = mkdtempSync(join(tmpdir(), 'callwire-web-'));
  for (const [name, password] of Object.entries(users)) await addUser(dataDir, name, password, storeArgs);
  const logs: string[] = [];
  let running = await spawnServer(dataDir, 0, extraArgs, logs);
  const port = running.port;
  return {
    url: `http://localhost:${port}`,
    port,
    logs,
    async stop() {
      await stopChild(running.child, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
    async kill() {
      await stopChild(running.child, 'SIGKILL');
    },
    async restart() {
      running = await spawnServer(dataDir, port, extraArgs, logs);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Browsers and people

export async function launchBrowser(): Promise<Browser> {
  return launchChromium(CHROMIUM_ARGS);
}

export type Person = {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors and CSP violations seen on this page. */
  readonly problems: string[];
};

export type PersonOptions = {
  viewport?: { width: number; height: number };
  mobile?: boolean;
};

/** The last console lines of each page, for what a failed wait reports. */
const consoleLogs = new WeakMap<Page, string[]>();
const CONSOLE_KEPT = 40;

/** A browser context with camera, microphone and clipboard allowed, on the app's page. */
export async function openPerson(
  browser: Browser,
  url: string,
  name: string,
  opts: PersonOptions = {},
): Promise<Person> {
  const origin = new URL(url).origin;
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    ...(opts.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    acceptDownloads: true,
  });
  // Permissions exist only for secure origins; the plain-http LAN test opens an insecure one.
  if (new URL(url).hostname === 'localhost') {
    await context.grantPermissions(['camera', 'microphone', 'clipboard-read', 'clipboard-write'], { origin });
  }
  // Generous waits: these machines have 2 cores, often shared with other suites.
  context.setDefaultTimeout(45_000);
  // Every page keeps its peer connections, for stats and for what a failed wait reports.
  await context.addInitScript(recordPeerConnections);
  const page = await context.newPage();
  const problems: string[] = [];
  const log: string[] = [];
  consoleLogs.set(page, log);
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    log.push(`${new Date().toISOString().slice(11, 23)} ${msg.type()}: ${text.slice(0, 300)}`);
    if (log.length > CONSOLE_KEPT) log.shift();
    if (/Content Security Policy|Refused to (execute|apply|load|evaluate|connect)/i.test(text)) {
      problems.push(`csp: ${text}`);
    }
  });
  await page.goto(url);
  return { name, context, page, problems };
}

/** Open the app and sign in as `name`; resolves when the home screen shows. */
export async function signIn(browser: Browser, server: Server, name: string, opts: PersonOptions = {}): Promise<Person> {
  const person = await openPerson(browser, server.url, name, opts);
  const { page } = person;
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const home = page.getByRole('heading', { name: 'Online now' });
  if (isRetry()) {
    // The failed attempt's pages may still hold the name for the resume grace: a person
    // whose old tab still holds it signs in again a moment later.
    const taken = page.getByRole('alert').filter({ hasText: /already signed in/ });
    for (const until = Date.now() + 30_000; Date.now() < until;) {
      await home.or(taken).first().waitFor();
      if (!(await taken.isVisible())) break;
      await page.waitForTimeout(1_000);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
  }
  await explained(page, home.waitFor());
  return person;
}

/** Whether the running test is a retry of one that failed (vitest.e2e.config.ts retries once). */
function isRetry(): boolean {
  return (getCurrentTest()?.result?.retryCount ?? 0) > 0;
}

declare global {
  interface Window {
    callwirePeerConnections?: RTCPeerConnection[];
  }
}

/**
 * An init script: keep every RTCPeerConnection the page makes, so a test can read its stats
 * (the app is not touched). Runs again on every load of the page, a reload included.
 */
export function recordPeerConnections(): void {
  if (window.callwirePeerConnections !== undefined) return;
  const Native = window.RTCPeerConnection;
  const seen: RTCPeerConnection[] = [];
  window.callwirePeerConnections = seen;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      seen.push(this);
    }
  };
}

/**
 * Open the app on a `--auth password` server and sign in with a password, with the page's
 * peer connections recorded (`recordPeerConnections`); resolves when the home screen shows.
 */
export async function signInWithPassword(
  browser: Browser,
  server: Server,
  name: string,
  password: string,
  opts: PersonOptions = {},
): Promise<Person> {
  const person = await openPerson(browser, server.url, name, opts);
  const { page } = person;
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Online now' }).waitFor({ timeout: 20_000 });
  return person;
}

/** RTP bytes received so far over the page's open peer connections (audio and video). */
export async function inboundBytes(page: Page, kind?: 'video'): Promise<number> {
  return page.evaluate(async (only) => {
    let total = 0;
    for (const pc of window.callwirePeerConnections ?? []) {
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      report.forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp' && (only === undefined || s.kind === only))
          total += s.bytesReceived ?? 0;
      });
    }
    return total;
  }, kind);
}

/** Inbound bytes grow by more than `minBytes` (media flows). */
export async function expectFlowing(page: Page, kind?: 'video', minBytes = 5_000): Promise<void> {
  const start = await inboundBytes(page, kind);
  await expect
    .poll(() => inboundBytes(page, kind), { timeout: 20_000, interval: 250 })
    .toBeGreaterThan(start + minBytes);
}

/**
 * No inbound bytes for a whole second (media stopped). Packets in flight when the hold took
 * effect may still arrive at first, so the still second is waited for, not assumed.
 */
export async function expectStopped(page: Page): Promise<void> {
  await expect
    .poll(
      async () => {
        const before = await inboundBytes(page);
        await page.waitForTimeout(1_000);
        return (await inboundBytes(page)) - before;
      },
      { timeout: 20_000, interval: 0 },
    )
    .toBe(0);
}

export function assertClean(...people: Person[]): void {
  for (const p of people) expect(p.problems, `${p.name}: errors or CSP violations`).toEqual([]);
}

export async function closeAll(...people: Array<Person | undefined>): Promise<void> {
  await Promise.all(people.map(async (p) => p?.context.close().catch(() => undefined)));
}

// ---------------------------------------------------------------------------------------------
// What a person sees

/** The entry for `name` in the online list. */
export function onlineEntry(page: Page, name: string) {
  return page.locator('.user-list li.user').filter({ has: page.locator('.user-name', { hasText: new RegExp(`^${escapeRe(name)}$`) }) });
}

export function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A notice (toast) with this text appears. */
export async function expectNotice(page: Page, text: string | RegExp, timeoutMs = 15_000): Promise<void> {
  await page.locator('.notices .notice-text', { hasText: text }).first().waitFor({ timeout: timeoutMs });
}

/** Place a call from the online list. */
export async function callFromList(caller: Person, callee: string, video: boolean): Promise<void> {
  const button = caller.page.getByRole('button', { name: `${video ? 'Video' : 'Voice'} call ${callee}`, exact: true });
  await button.click();
}

/** The callee's ringing dialog. */
export function incomingDialog(page: Page) {
  return page.getByRole('dialog');
}

/** `caller` places a video call from the online list and `callee` accepts it with video. */
export async function connectVideoCall(caller: Person, callee: Person): Promise<void> {
  await onlineEntry(caller.page, callee.name).waitFor();
  await callFromList(caller, callee.name, true);
  await incomingDialog(callee.page).waitFor();
  await callee.page.getByRole('button', { name: 'Accept with video' }).click();
  await Promise.all([waitConnected(caller.page), waitConnected(callee.page)]);
}

/**
 * Wait until the call screen says connected (the timer runs) on this page. When it does not,
 * the error says what the page was doing: the call screen, its peer connections (states,
 * candidates gathered and received, candidate pairs) and its last console lines.
 */
export async function waitConnected(page: Page, timeoutMs = 20_000): Promise<void> {
  await explained(
    page,
    page.locator('.call-screen[data-state="connected"]').waitFor({ timeout: timeoutMs }),
  );
}

/** `wait`, and when it fails, an error that adds what the page was showing and doing then. */
export async function explained<T>(page: Page, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    const state = await describePage(page).catch((e: unknown) => `(page unreadable: ${String(e)})`);
    throw new Error(`${(err as Error).message}\n--- the page at the timeout ---\n${state}`, {
      cause: err,
    });
  }
}

/** What a page shows and what its peer connections are doing, for a failed wait's message. */
export async function describePage(page: Page): Promise<string> {
  const seen = await page.evaluate(async () => {
    const screen = document.querySelector<HTMLElement>('.call-screen');
    const lines = [
      `url ${location.href}`,
      `screen: "${document.body.innerText.replace(/\s+/g, ' ').slice(0, 300)}"`,
      `call screen: ${screen ? `state=${screen.dataset.state} "${(screen.innerText || '').replace(/\s+/g, ' ').slice(0, 200)}"` : 'none'}`,
    ];
    for (const [i, pc] of (window.callwirePeerConnections ?? []).entries()) {
      lines.push(
        `pc ${i}: connection=${pc.connectionState} ice=${pc.iceConnectionState} gathering=${pc.iceGatheringState} signaling=${pc.signalingState} local=${pc.localDescription?.type ?? '-'} remote=${pc.remoteDescription?.type ?? '-'}`,
      );
      if (pc.connectionState === 'closed') continue;
      const counts: Record<string, number> = {};
      const pairs: string[] = [];
      (await pc.getStats()).forEach((s: { type: string; state?: string; nominated?: boolean }) => {
        counts[s.type] = (counts[s.type] ?? 0) + 1;
        if (s.type === 'candidate-pair') pairs.push(`${s.state}${s.nominated ? '*' : ''}`);
      });
      lines.push(
        `  local candidates ${counts['local-candidate'] ?? 0}, remote candidates ${counts['remote-candidate'] ?? 0}, pairs [${pairs.join(' ')}], data channels ${counts['data-channel'] ?? 0}`,
      );
    }
    return lines.join('\n');
  });
  return `${seen}\n--- console ---\n${(consoleLogs.get(page) ?? []).join('\n')}`;
}

/** Remote video decodes frames: a size, and playback time that moves on. */
export async function expectRemoteVideoPlaying(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const v = document.querySelector<HTMLVideoElement>('.remote-video');
      return !!v && v.videoWidth > 0 && v.currentTime > 0;
    },
    undefined,
    { timeout: 20_000 },
  );
  const t0 = await page.$eval('.remote-video', (v) => (v as HTMLVideoElement).currentTime);
  await page.waitForFunction(
    (start) => (document.querySelector<HTMLVideoElement>('.remote-video')?.currentTime ?? 0) > start + 0.3,
    t0,
    { timeout: 10_000 },
  );
}

/** Open the call statistics panel and wait for a receiving bitrate above `minKbps`. */
export async function receivingKbps(page: Page, minKbps: number): Promise<number> {
  const panelOpen = await page.getByRole('button', { name: 'Call statistics' }).getAttribute('aria-expanded');
  if (panelOpen !== 'true') await page.getByRole('button', { name: 'Call statistics' }).click();
  const handle = await page.waitForFunction(
    (min) => {
      const text = document.querySelector('[data-stat="in"]')?.textContent ?? '';
      const kbps = Number.parseFloat(text);
      return Number.isFinite(kbps) && kbps > min ? kbps : null;
    },
    minKbps,
    { timeout: 20_000 },
  );
  return (await handle.jsonValue()) as number;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}
