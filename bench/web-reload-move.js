#!/usr/bin/env node
// How long a person waits in the web app, in real Chromium with fake camera and microphone, for
// the other person's video after (1) reloading the page mid-call and (2) clicking "Move call
// here" on another of their devices. One password server on loopback, alice on two browser
// contexts (two devices) and bob on a third; one call, reloaded and moved --rounds times each.
//
//   npm run -s build
//   unshare -n bash -c 'ip link set lo up; node bench/web-reload-move.js [--rounds 10]'
//
// A reload is timed from page.reload() to the reloaded page's remote <video> having decoded
// --frames frames (a fresh element, so counted from 0); a move from the click to the same on
// the device the call moved to. Polled every 20 ms from Node over CDP, so each figure is late
// by up to ~30 ms. Rounds alternate: reloads between the caller's page and the callee's, moves
// between alice's two devices. Prints each series and its median, min and max.
/* global window, document -- the functions passed to page.evaluate run in the page */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    frames: { type: 'string', default: '3' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stderr.write(
    'usage: unshare -n bash -c "ip link set lo up; node bench/web-reload-move.js [--rounds 10] [--frames 3]"\n',
  );
  process.exit(0);
}
const ROUNDS = Number(args.rounds);
const FRAMES = Number(args.frames);

// WebRTC would use any other interface it finds; this measures loopback only (TESTING.md).
const others = Object.keys(networkInterfaces()).filter((n) => n !== 'lo');
if (others.length > 0) {
  process.stderr.write(
    `refusing to run with network interfaces ${others.join(', ')}: run it inside unshare -n (see the header)\n`,
  );
  process.exit(2);
}

const REPO = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(REPO, 'packages/server/bin/callwire.js');
const PASSWORDS = { alice: 'alice correct horse', bob: 'bob battery staple' };
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  // Three people share one browser: background pages must keep decoding.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

const work = mkdtempSync(join(tmpdir(), 'callwire-reload-bench-'));
const children = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

function run(argv, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.stdin.end(input);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: ${out}`)),
    );
  });
}

async function startServer() {
  for (const [name, pw] of Object.entries(PASSWORDS))
    await run([BIN, 'users', 'add', name, '--data-dir', work], `${pw}\n`);
  const child = spawn(
    process.execPath,
    [BIN, '--port', '0', '--host', '127.0.0.1', '--data-dir', work, '--auth', 'password'],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let nl; (nl = buffer.indexOf('\n')) >= 0; buffer = buffer.slice(nl + 1)) {
        try {
          const entry = JSON.parse(buffer.slice(0, nl));
          if (entry.msg === 'listening') resolve(`http://localhost:${entry.port}`);
        } catch {
          // not a log line
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

/**
 * In every page: when (ms since the page's start) the call screen showed, went `connected`, and
 * decoded its first frame, sampled every 10 ms, for the breakdown of a reload.
 */
function recordMilestones() {
  const marks = {};
  window.benchMarks = marks;
  const timer = setInterval(() => {
    const screen = document.querySelector('.call-screen');
    if (screen && marks.screen === undefined) marks.screen = performance.now();
    if (screen?.dataset.state === 'connected' && marks.connected === undefined)
      marks.connected = performance.now();
    const v = screen?.querySelector('.remote-video');
    if (v && v.getVideoPlaybackQuality().totalVideoFrames > 0 && marks.frame === undefined) {
      marks.frame = performance.now();
      clearInterval(timer);
    }
  }, 10);
}

async function signIn(browser, url, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(recordMilestones);
  await context.grantPermissions(['camera', 'microphone'], { origin: url });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  await page.goto(url);
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Password').fill(PASSWORDS[name]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Online now' }).waitFor();
  return page;
}

/** The call screen is connected and its remote video has decoded `FRAMES` frames. */
function videoBack(page) {
  return page.waitForFunction(
    (frames) => {
      const screen = document.querySelector('.call-screen[data-state="connected"]');
      const v = screen?.querySelector('.remote-video');
      return !!v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames >= frames;
    },
    FRAMES,
    { polling: 20, timeout: 30_000 },
  );
}

const callId = (page) => page.locator('.call-screen').getAttribute('data-call-id');

function summary(label, ms) {
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return `${label}: median ${Math.round(median)} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms (n=${ms.length}): ${ms.join(' ')}`;
}

const url = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CALLWIRE_CHROMIUM ?? '/usr/bin/chromium',
  args: FLAGS,
});
try {
  const laptop = await signIn(browser, url, 'alice');
  const phone = await signIn(browser, url, 'alice');
  const bob = await signIn(browser, url, 'bob');

  // alice (laptop) calls bob; the phone rings too and is left alone.
  await laptop.getByRole('button', { name: 'Video call bob', exact: true }).click();
  await bob.getByRole('button', { name: 'Accept with video' }).click();
  await Promise.all([videoBack(laptop), videoBack(bob)]);
  const id = await callId(bob);

  const reloads = { caller: [], callee: [] };
  const phases = { page: [], screen: [], connected: [], frame: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const [who, page] = i % 2 === 0 ? ['caller', laptop] : ['callee', bob];
    const t0 = Date.now();
    await page.reload();
    await videoBack(page);
    reloads[who].push(Date.now() - t0);
    // From the new page's start: its script ran (DOMContentLoaded), the call was back on
    // screen (session resumed, camera captured), connected (ICE, DTLS, data channels), and the
    // first frame decoded.
    const m = await page.evaluate(() => ({
      ...window.benchMarks,
      page: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd,
    }));
    for (const k of Object.keys(phases)) phases[k].push(Math.round(m[k]));
    if ((await callId(page)) !== id) throw new Error('the reloaded page shows another call');
    // The other side's video back too before the next round.
    await (page === laptop ? bob : laptop).waitForFunction(
      () => !document.querySelector('.call-screen .flag-link'),
    );
  }

  const moves = [];
  let inCall = laptop;
  for (let i = 0; i < ROUNDS; i++) {
    const to = inCall === laptop ? phone : laptop;
    const button = to.getByRole('button', { name: 'Move call here' });
    await button.waitFor();
    const t0 = Date.now();
    await button.click();
    await videoBack(to);
    moves.push(Date.now() - t0);
    if ((await callId(to)) !== id) throw new Error('the call moved is another call');
    await inCall.getByRole('heading', { name: 'Online now' }).waitFor();
    await bob.waitForFunction(() => !document.querySelector('.call-screen .flag-link'));
    inCall = to;
  }
  if (
    (await bob.locator('.call-screen').getAttribute('data-state')) !== 'connected' ||
    (await callId(bob)) !== id
  ) {
    throw new Error("bob's call did not go on");
  }

  const all = [...reloads.caller, ...reloads.callee];
  console.log(summary('reload -> remote video (all)', all));
  console.log(summary('  caller reloads', reloads.caller));
  console.log(summary('  callee reloads', reloads.callee));
  for (const [k, ms] of Object.entries(phases))
    console.log(summary(`  reloaded page's start -> ${k}`, ms));
  console.log(summary('"Move call here" click -> remote video on the new device', moves));
} finally {
  await browser.close();
}
process.exit(0);
