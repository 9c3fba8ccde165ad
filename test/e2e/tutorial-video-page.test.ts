/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCallwire, type CallwireProcess } from './support/callwire-process.js';
import { launchChromium } from './support/chromium.js';
import { Cleanup } from './support/cleanup.js';
import {
  mediaStreamObjectUrlShim,
  type MediaStreamUrlShimCounts,
} from './support/legacy-media-shim.js';
import { PageWatch, parseObject } from './support/page-watch.js';
import { assertLoopbackOnlyNetwork, assertPortFree } from './support/ports.js';
import { loadVideoDemoPage, type TutorialPage } from './support/seed-pages.js';
import { serveStatic, type StaticServer } from './support/static-server.js';

/*
 * The "WebRTC" tutorial's video page (shared/seeds/004, chapter 11), extracted from the seed at
 * test time and run unchanged in Chromium against callwire started as `npm start` starts it.
 * The page hard-codes ws://localhost:9090, so this suite runs in its own network namespace
 * (scripts/test.sh: `unshare -n`), where port 9090 is private to it.
 */

// The page reads these globals (top-level `var`s of its classic script); the test only reads them.
declare global {
  interface Window {
    conn: WebSocket;
    yourConn: RTCPeerConnection | undefined;
    __mediaStreamUrlShim: MediaStreamUrlShimCounts;
  }
}

interface TutorialTab {
  page: Page;
  watch: PageWatch;
}

describe('the tutorial video page (seed 004, chapter "Video Demo") against callwire', () => {
  const cleanup = new Cleanup();
  const tabs: TutorialTab[] = [];
  let tutorial: TutorialPage;
  let server: CallwireProcess;
  let site: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    assertLoopbackOnlyNetwork();
    tutorial = loadVideoDemoPage();

    // `npm start` with no flags: default port 9090 and default host (loopback, v4 and v6).
    const signalingPort = Number(new URL(tutorial.signalingUrl).port);
    await assertPortFree(signalingPort, '127.0.0.1');
    await assertPortFree(signalingPort, '::1');
    server = await startCallwire();
    cleanup.add('callwire', () => server.stop());

    site = await serveStatic({
      '/': { body: tutorial.indexHtml, contentType: 'text/html; charset=utf-8' },
      '/client.js': { body: tutorial.clientJs, contentType: 'text/javascript; charset=utf-8' },
    });
    cleanup.add('static site', () => site.close());

    browser = await launchChromium();
    cleanup.add('chromium', () => browser.close());
  });

  afterAll(() => cleanup.run());

  /** One person: their own browser context, the tutorial page loaded and its socket open. */
  async function openTab(label: string): Promise<TutorialTab> {
    const context = await browser.newContext();
    cleanup.add(`context ${label}`, () => context.close());
    const page = await context.newPage();
    const watch = new PageWatch(label, page);
    await page.addInitScript(mediaStreamObjectUrlShim);
    await page.goto(site.url('/'));
    // The page sends its login on the click without checking the socket: wait as a user would
    // for the page to be connected (its own `conn`).
    await page.waitForFunction(() => window.conn.readyState === WebSocket.OPEN);
    const tab = { page, watch };
    tabs.push(tab);
    return tab;
  }

  async function logIn({ page, watch }: TutorialTab, name: string): Promise<void> {
    await page.locator('#usernameInput').fill(name);
    await page.locator('#loginBtn').click();
    await watch.waitForMessage({ type: 'login', success: true });
    await page.locator('#callPage').waitFor({ state: 'visible' });
    // The page creates its peer connection right after showing the camera.
    await waitForVideoPlaying(page, '#localVideo');
    await page.waitForFunction(() => window.yourConn !== undefined);
  }

  /** A `<video>` shows frames and its clock advances: media really flows into it. */
  async function waitForVideoPlaying(page: Page, selector: string): Promise<void> {
    await page.waitForFunction(
      (sel) => (document.querySelector<HTMLVideoElement>(sel)?.videoWidth ?? 0) > 0,
      selector,
      { timeout: 20_000 },
    );
    const start = await page.$eval(selector, (video: HTMLVideoElement) => video.currentTime);
    await page.waitForFunction(
      ({ sel, from }) =>
        (document.querySelector<HTMLVideoElement>(sel)?.currentTime ?? 0) > from + 0.5,
      { sel: selector, from: start },
      { timeout: 20_000 },
    );
  }

  function diagnostics(): string {
    return [
      ...tabs.map((tab) => tab.watch.report()),
      '--- callwire log',
      ...server.otherOutput,
      ...server.logs.map((record) => JSON.stringify(record)),
    ].join('\n');
  }

  it('extracts the page from the seed: the script compiles and finds every element it selects', () => {
    expect(tutorial.signalingUrl).toBe('ws://localhost:9090');
    expect(tutorial.selectedIds).toEqual(
      expect.arrayContaining([
        'loginPage',
        'usernameInput',
        'loginBtn',
        'callPage',
        'callToUsernameInput',
        'callBtn',
        'hangUpBtn',
        'localVideo',
        'remoteVideo',
      ]),
    );
    expect(server.port).toBe(9090);
  });

  it('two pages call each other with video both ways, then one hangs up', async () => {
    onTestFailed(() => console.error(diagnostics()));
    const alice = await openTab('alice');
    const bob = await openTab('bob');
    await logIn(alice, 'alice');
    await logIn(bob, 'bob');

    await alice.page.locator('#callToUsernameInput').fill('bob');
    await alice.page.locator('#callBtn').click();

    // The tutorial's flow, offer first: bob is handed alice's offer, named by her.
    const offer = await bob.watch.waitForMessage({ type: 'offer', name: 'alice' });
    expect(offer['offer']).toMatchObject({ type: 'offer' });
    const answer = await alice.watch.waitForMessage({ type: 'answer' });
    expect(answer['answer']).toMatchObject({ type: 'answer' });

    await Promise.all([
      waitForVideoPlaying(alice.page, '#remoteVideo'),
      waitForVideoPlaying(bob.page, '#remoteVideo'),
    ]);
    for (const { page } of [alice, bob]) {
      expect(await page.evaluate(() => window.yourConn?.connectionState)).toBe('connected');
    }

    await alice.page.locator('#hangUpBtn').click();

    // Bob's page is told, and tears its side down the way the page does it.
    await bob.watch.waitForMessage({ type: 'leave' });
    for (const { page } of [alice, bob]) {
      await page.waitForFunction(() => window.yourConn?.signalingState === 'closed');
      const remote = await page.$eval('#remoteVideo', (video: HTMLVideoElement) => ({
        hasStream: video.srcObject !== null,
        readyState: video.readyState,
        videoWidth: video.videoWidth,
      }));
      // HAVE_NOTHING: the element has no media left to show.
      expect(remote).toEqual({ hasStream: false, readyState: 0, videoWidth: 0 });
    }
    // The one who hung up is not sent a leave for its own hang-up (docs/PROTOCOL.md). Only a
    // leave already delivered can be seen here; the server would send both at the same moment.
    expect(alice.watch.receivedMessages().filter((m) => m?.['type'] === 'leave')).toEqual([]);

    for (const { page, watch } of [alice, bob]) {
      // Every frame the server sent is a JSON object with a type (the original server greeted
      // each client with a plain-text frame its own page could not parse).
      const received = watch.received();
      expect(received.length).toBeGreaterThan(0);
      expect(
        received.filter(
          (frame) => frame.binary || typeof parseObject(frame.payload)?.['type'] !== 'string',
        ),
      ).toEqual([]);
      expect(watch.dialogs).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
      // The page showed both its streams through the one shimmed call, and cleared the remote one.
      expect(await page.evaluate(() => ({ ...window.__mediaStreamUrlShim }))).toEqual({
        created: 2,
        assigned: 2,
        cleared: 1,
      });
    }
  });
});
