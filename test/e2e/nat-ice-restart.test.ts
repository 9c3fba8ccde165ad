/**
 * Two hosts behind a symmetric NAT (support/nat-lab.ts), each with its own Chromium running
 * inside its network namespace, and callwire plus coturn on the public side. Their direct and
 * server-reflexive candidates cannot reach each other, so a call connects through TURN. When the
 * media path of one host breaks mid-call and comes back, the caller restarts ICE through the
 * signaling channel (the callee never does, so the two never restart at once) and the call
 * recovers with nobody touching anything.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectCall,
  expectInboundGrowing,
  expectRemoteVideoPlaying,
  type SdkPages,
} from './fixtures/sdk/support.js';
import { startCallwire, type CallwireProcess } from './support/callwire-process.js';
import { Cleanup } from './support/cleanup.js';
import { PUBLIC_IP, createNatLab, startPublicCoturn, type NatLab } from './support/nat-lab.js';
import { freePort } from './support/ports.js';
import { serveSdkPage } from './support/sdk-page.js';

const cleanup = new Cleanup();
let lab: NatLab;
let callwire: CallwireProcess;
let pageUrl: string;
let browsers: Record<'a' | 'b', Browser>;
let run = 0;

beforeAll(async () => {
  try {
    lab = await createNatLab();
    cleanup.add('nat lab', () => lab.close());
    const coturn = await startPublicCoturn(await freePort(PUBLIC_IP));
    cleanup.add('coturn', () => coturn.stop());
    const page = await serveSdkPage(PUBLIC_IP);
    cleanup.add('page', () => page.close());
    pageUrl = page.url;
    callwire = await startCallwire({
      args: [
        '--port',
        '0',
        '--host',
        PUBLIC_IP,
        '--invites-per-minute',
        '1000',
        // The page is served from another port of the public address: a cross-origin page.
        '--origins',
        page.origin,
        '--turn-secret',
        coturn.secret,
        '--turn-urls',
        coturn.url,
      ],
    });
    cleanup.add('callwire', () => callwire.stop());
    // The page is plain http on a non-loopback address: let it use the (fake) camera anyway.
    const flags = [`--unsafely-treat-insecure-origin-as-secure=${page.origin}`];
    const [a, b] = await Promise.all([
      lab.launchChromium(lab.a, flags),
      lab.launchChromium(lab.b, flags),
    ]);
    cleanup.add('browsers', () => Promise.all([a.close(), b.close()]));
    browsers = { a, b };
  } catch (error) {
    await cleanup.run();
    throw error;
  }
}, 90_000);
afterAll(async () => {
  await cleanup.run();
});

/** Alice in host A, Bob in host B, each signed in on the SDK test page. */
async function people(): Promise<SdkPages> {
  const n = ++run;
  const pageCleanup = new Cleanup();
  const open = async (browser: Browser, name: string): Promise<Page> => {
    const context = await browser.newContext();
    pageCleanup.add(`context ${name}`, () => context.close());
    const page = await context.newPage();
    await page.goto(pageUrl);
    await page.waitForFunction(() => window.cw !== undefined);
    await page.evaluate(([url, who]) => window.cw.connect(url, who), [
      `ws://${PUBLIC_IP}:${callwire.port}/`,
      name,
    ] as const);
    return page;
  };
  const [alice, bob] = await Promise.all([
    open(browsers.a, `alice${n}`),
    open(browsers.b, `bob${n}`),
  ]);
  return { alice, bob, aliceName: `alice${n}`, bobName: `bob${n}`, close: () => pageCleanup.run() };
}

const iceState = (page: Page) =>
  page.evaluate(() => window.cw.call?.peerConnection?.iceConnectionState);
const restarts = (page: Page) => page.evaluate(() => window.cw.call?.iceRestarts ?? -1);
const remoteUfrag = (page: Page) =>
  page.evaluate(
    () =>
      /a=ice-ufrag:(\S+)/.exec(window.cw.call?.peerConnection?.remoteDescription?.sdp ?? '')?.[1],
  );

describe('calls between two hosts behind a symmetric NAT', () => {
  it('connect through TURN', async () => {
    const pages = await people();
    try {
      const { alice, bob } = pages;
      await connectCall(pages, { audio: true, video: true });
      await expectRemoteVideoPlaying(bob);
      await expectRemoteVideoPlaying(alice);
      await alice.waitForFunction(() =>
        window.cw.stats.some((s) => s.path === 'relay' && s.bitrateInKbps > 50),
      );
      expect(await alice.evaluate(() => window.cw.stats.some((s) => s.path === 'direct'))).toBe(
        false,
      );
      const ended = bob.waitForFunction(() => window.cw.call?.state === 'ended');
      await alice.evaluate(() => window.cw.hangup());
      await ended;
    } finally {
      await pages.close();
    }
  });

  it('recover when the path breaks and comes back: the caller restarts ICE, the callee does not', async () => {
    const pages = await people();
    try {
      const { alice, bob } = pages;
      await connectCall(pages, { audio: true, video: true });
      await expectRemoteVideoPlaying(bob);
      await expectRemoteVideoPlaying(alice);
      const ufragBefore = await remoteUfrag(alice);
      expect(await restarts(alice)).toBe(0);

      await lab.breakPath(lab.a);
      await alice.waitForFunction(
        () =>
          ['disconnected', 'failed'].includes(
            window.cw.call?.peerConnection?.iceConnectionState ?? '',
          ),
        undefined,
        { timeout: 20_000 },
      );
      // The caller restarts once the outage outlasts the grace; the call itself stays up.
      await alice.waitForFunction(() => (window.cw.call?.iceRestarts ?? 0) >= 1, undefined, {
        timeout: 20_000,
      });
      await lab.restorePath(lab.a);

      for (const page of [alice, bob]) {
        await page.waitForFunction(
          () =>
            ['connected', 'completed'].includes(
              window.cw.call?.peerConnection?.iceConnectionState ?? '',
            ),
          undefined,
          { timeout: 30_000 },
        );
        await expectRemoteVideoPlaying(page);
        // Packets really arrive again (a MediaStream's playback time runs on without them).
        await expectInboundGrowing(page, 'video');
        expect(await page.evaluate(() => window.cw.call?.state)).toBe('connected');
      }
      // A real restart (new ICE credentials on both sides), made by the caller only.
      expect(await remoteUfrag(alice)).not.toBe(ufragBefore);
      expect(await restarts(bob)).toBe(0);
      for (const page of [alice, bob])
        expect(await page.evaluate(() => window.cw.errors)).toEqual([]);
      expect(await iceState(bob)).toMatch(/connected|completed/);
      const statsBefore = await alice.evaluate(() => window.cw.stats.length);
      await alice.waitForFunction(
        (n) => window.cw.stats.slice(n).some((s) => s.path === 'relay' && s.bitrateInKbps > 50),
        statsBefore,
        { timeout: 20_000 },
      );
      expect(await alice.evaluate(() => window.cw.callStates)).toEqual(['connecting', 'connected']);

      const ended = bob.waitForFunction(() => window.cw.call?.state === 'ended');
      await alice.evaluate(() => window.cw.hangup());
      await ended;
      expect(await bob.evaluate(() => window.cw.call?.endReason)).toBe('hangup');
    } finally {
      await lab.restorePath(lab.a).catch(() => undefined);
      await pages.close();
    }
  });
});
