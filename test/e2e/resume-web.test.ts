/**
 * A signaling drop in the middle of a call, in the web app in real Chromium. Alice's browser
 * reaches the server through a TCP proxy that the test cuts, as a network blip does; Bob's is
 * connected directly. Her call must not end: the media goes on peer to peer, both screens say
 * who is reconnecting, what Alice's browser says meanwhile (a renegotiation) reaches Bob once
 * she is back, and the call goes on as before. Staying away past the grace period ends the call
 * on both sides with the "connection lost" message.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import {
  assertClean,
  callFromList,
  closeAll,
  expectNotice,
  expectRemoteVideoPlaying,
  incomingDialog,
  launchBrowser,
  onlineEntry,
  openPerson,
  screenshot,
  signIn,
  startServer,
  waitConnected,
  type Person,
  type Server,
} from './web-harness.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** Sign in through `url` (the proxy's origin): the app's WebSocket goes to the same origin. */
async function signInAt(url: string, name: string): Promise<Person> {
  const person = await openPerson(browser, url, name);
  await person.page.getByLabel('Your name').fill(name);
  await person.page.getByRole('button', { name: 'Sign in' }).click();
  await person.page.getByRole('heading', { name: 'Online now' }).waitFor();
  return person;
}

/** Bob calls Alice; she answers voice only (so her camera can be added later). */
async function connect(alice: Person, bob: Person, video: boolean): Promise<void> {
  await onlineEntry(bob.page, 'alice').waitFor();
  await callFromList(bob, 'alice', video);
  await incomingDialog(alice.page).waitFor();
  await alice.page.getByRole('button', { name: 'Accept voice only' }).click();
  await Promise.all([waitConnected(alice.page), waitConnected(bob.page)]);
}

/**
 * Count the remote video's decoded frames every 200 ms from now on, in the page, so a stall
 * anywhere in between (not only at the moments the test looks) is seen afterwards. Frames, not
 * `currentTime`: a MediaStream's playback time runs on even when nothing arrives.
 */
async function watchFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { frames?: number[] };
    w.frames = [];
    setInterval(() => {
      const v = document.querySelector<HTMLVideoElement>('.remote-video');
      w.frames?.push(v?.getVideoPlaybackQuality().totalVideoFrames ?? -1);
    }, 200);
  });
}

/** The longest time in which no new frame was decoded, in ms (at 200 ms resolution). */
async function longestStallMs(page: Page): Promise<{ stallMs: number; samples: number }> {
  const samples = await page.evaluate(
    () => (window as unknown as { frames?: number[] }).frames ?? [],
  );
  let stall = 0;
  let longest = 0;
  for (let i = 1; i < samples.length; i++) {
    stall = samples[i]! > samples[i - 1]! ? 0 : stall + 200;
    longest = Math.max(longest, stall);
  }
  return { stallMs: longest, samples: samples.length };
}

const banner = (page: Page) => page.locator('[data-banner="connection"]');
const linkFlag = (page: Page) => page.locator('.call-screen .flag-link');

describe('web app: a signaling drop mid-call', () => {
  let server: Server;
  let proxy: TcpProxy;
  beforeAll(async () => {
    server = await startServer();
    proxy = await startTcpProxy(server.port);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('keeps the media flowing, resumes, delivers the held renegotiation, and the call goes on', async () => {
    const alice = await signInAt(`http://localhost:${proxy.port}`, 'alice');
    const bob = await signIn(browser, server, 'bob');
    try {
      await connect(alice, bob, true);
      await expectRemoteVideoPlaying(alice.page);
      await watchFrames(alice.page);

      const cutSamples = await alice.page.evaluate(
        () => (window as unknown as { frames?: number[] }).frames!.length,
      );
      proxy.cut();
      await banner(alice.page).filter({ hasText: 'Reconnecting' }).waitFor();
      await linkFlag(alice.page).filter({ hasText: 'Reconnecting…' }).waitFor();
      await linkFlag(bob.page).filter({ hasText: 'alice is reconnecting…' }).waitFor();
      await screenshot(bob.page, 'call-peer-reconnecting');
      await screenshot(alice.page, 'call-reconnecting');
      // The call is still on screen on both sides, with Bob's camera still playing for Alice.
      await expectRemoteVideoPlaying(alice.page);
      expect(await alice.page.locator('.call-screen').getAttribute('data-state')).toBe('connected');
      expect(await bob.page.locator('.call-screen').getAttribute('data-state')).toBe('connected');

      // Alice turns her camera on while away: the renegotiation waits for her connection.
      await alice.page.getByRole('button', { name: 'Turn camera off' }).click();
      await alice.page.locator('.local-video:not([hidden])').waitFor();
      expect(await remoteVideoWidth(bob.page)).toBe(0);
      // Stay away while two more seconds of Bob's video are decoded on Alice's screen.
      await alice.page.waitForFunction(
        (n) => (window as unknown as { frames?: number[] }).frames!.length > n + 10,
        cutSamples,
      );
      expect(await banner(alice.page).count()).toBe(1);

      proxy.restore();
      await banner(alice.page).waitFor({ state: 'detached', timeout: 30_000 });
      await expectNotice(alice.page, 'Reconnected.');
      await linkFlag(alice.page).waitFor({ state: 'detached' });
      await linkFlag(bob.page).waitFor({ state: 'detached' });
      // Held and delivered: Bob now sees Alice's camera.
      await expectRemoteVideoPlaying(bob.page);
      const { stallMs, samples } = await longestStallMs(alice.page);
      expect(samples).toBeGreaterThan(10);
      expect(stallMs).toBeLessThan(1_000);

      // After the resume: camera off and on, a screen share, and the hang-up, as usual.
      const camera = alice.page.getByRole('button', { name: 'Turn camera off' });
      await camera.click();
      await bob.page.locator('.flag', { hasText: 'alice turned their camera off' }).waitFor();
      await camera.click();
      await bob.page
        .locator('.flag', { hasText: 'alice turned their camera off' })
        .waitFor({ state: 'detached' });
      await alice.page.getByRole('button', { name: 'Share screen' }).click();
      await bob.page.locator('.flag', { hasText: 'alice is sharing their screen' }).waitFor();
      await expectRemoteVideoPlaying(bob.page);
      await alice.page.getByRole('button', { name: 'Hang up' }).click();
      await expectNotice(bob.page, /Call with alice ended/);
      await expectNotice(alice.page, /Call with bob ended/);
      assertClean(alice, bob);
    } finally {
      await closeAll(alice, bob);
    }
  });
});

describe('web app: away longer than the grace period', () => {
  let server: Server;
  let proxy: TcpProxy;
  beforeAll(async () => {
    server = await startServer(['--resume-grace-ms', '3000']);
    proxy = await startTcpProxy(server.port);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('ends the call on both sides as disconnected, then the app is online again', async () => {
    const alice = await signInAt(`http://localhost:${proxy.port}`, 'alice');
    const bob = await signIn(browser, server, 'bob');
    try {
      await connect(alice, bob, false);
      proxy.cut();
      await linkFlag(bob.page).filter({ hasText: 'alice is reconnecting…' }).waitFor();
      await expectNotice(bob.page, 'The call dropped: the connection to alice was lost.');
      await expectNotice(alice.page, 'The call dropped: your connection to the server was lost.');
      expect(await alice.page.locator('.call-screen').count()).toBe(0);

      proxy.restore();
      await banner(alice.page).waitFor({ state: 'detached', timeout: 30_000 });
      await alice.page.locator('.conn', { hasText: 'Online' }).waitFor();
      // Signed in afresh under the same name: Bob can call her again.
      await connect(alice, bob, false);
      await bob.page.getByRole('button', { name: 'Hang up' }).click();
      await expectNotice(alice.page, /Call with bob ended/);
      assertClean(alice, bob);
    } finally {
      await closeAll(alice, bob);
    }
  });
});

async function remoteVideoWidth(page: Page): Promise<number> {
  return page.$eval('.remote-video', (v) => (v as HTMLVideoElement).videoWidth);
}
