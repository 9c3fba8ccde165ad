/**
 * Calls in the web app between real Chromium pages with fake camera and microphone: a video
 * call where both sides decode frames, what the peer sees of mute, camera off and screen share,
 * busy (a declined waiting call), a voice-only call, hang up, and a tab closed mid-call.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  callFromList,
  closeAll,
  connectVideoCall,
  expectNotice,
  expectRemoteVideoPlaying,
  incomingDialog,
  launchBrowser,
  onlineEntry,
  receivingKbps,
  screenshot,
  signIn,
  startServer,
  waitConnected,
  type Server,
} from './web-harness.js';

// A short heartbeat, so a vanished peer is noticed within a few seconds.
const PING_MS = 1000;
const IDLE_MS = 3000;
/**
 * A short resume grace: a page that goes (closed or reloaded: it cannot tell which) leaves
 * with 4000 so that a reload keeps the call (web-reload-move.test.ts), and the session waits
 * this long for it.
 */
const GRACE_MS = 4000;

let server: Server;
let browser: Browser;

beforeAll(async () => {
  server = await startServer([
    '--ping-interval-ms',
    String(PING_MS),
    '--idle-timeout-ms',
    String(IDLE_MS),
    '--resume-grace-ms',
    String(GRACE_MS),
  ]);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('web app: calls', () => {
  it('video call: ringing, both sides decode video, peer sees mute, camera off and screen share, busy, hang up', async () => {
    const alice = await signIn(browser, server, 'alice');
    const bob = await signIn(browser, server, 'bob');
    const carol = await signIn(browser, server, 'carol');
    try {
      await onlineEntry(alice.page, 'bob').waitFor();
      await callFromList(alice, 'bob', true);

      // The caller sees the ringing state with a cancel button.
      await alice.page.locator('.call-screen .call-status', { hasText: 'Ringing' }).waitFor();
      await alice.page.getByRole('button', { name: 'Cancel call' }).waitFor();

      // The callee gets a modal ringing dialog: caller name, ring tone, focus on accept.
      const dialog = incomingDialog(bob.page);
      await dialog.waitFor();
      expect(await dialog.getByRole('heading').textContent()).toBe('alice');
      expect(await dialog.textContent()).toContain('Incoming video call');
      expect(await dialog.getAttribute('data-ringtone')).toBe('playing');
      expect(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Accept with video');
      await screenshot(bob.page, 'incoming-call');
      // The keyboard answers: Enter on the focused button.
      await bob.page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'detached' });

      await Promise.all([waitConnected(alice.page), waitConnected(bob.page)]);
      await Promise.all([expectRemoteVideoPlaying(alice.page), expectRemoteVideoPlaying(bob.page)]);
      expect(await alice.page.locator('.call-screen').getAttribute('data-layout')).toBe('video');
      expect(await bob.page.locator('.call-screen').getAttribute('data-layout')).toBe('video');

      // Media flows: both receive a real bitrate, twice in a row (inbound bytes keep rising).
      expect(await receivingKbps(alice.page, 50)).toBeGreaterThan(50);
      expect(await receivingKbps(bob.page, 50)).toBeGreaterThan(50);
      await bob.page.waitForTimeout(1100); // one stats interval
      expect(await receivingKbps(bob.page, 50)).toBeGreaterThan(50);
      // Close the panels again (Escape inside a panel closes it, like the close button).
      await bob.page.getByRole('button', { name: 'Close panel' }).click();
      await alice.page.getByRole('button', { name: 'Call statistics' }).click();
      await alice.page.locator('.side-panel').waitFor({ state: 'hidden' });

      // A third person sees both as busy. Calling one of them is call waiting there (the
      // call-waiting suite covers its choices); declined, it is "busy" for the caller.
      await onlineEntry(carol.page, 'bob').locator('.presence', { hasText: 'Busy' }).waitFor();
      await onlineEntry(carol.page, 'alice').locator('.presence', { hasText: 'Busy' }).waitFor();
      await callFromList(carol, 'bob', false);
      await bob.page.getByRole('button', { name: 'Decline (busy)' }).click();
      await expectNotice(carol.page, 'bob is in another call');
      await carol.page.getByRole('heading', { name: 'Online now' }).waitFor();

      // The call timer runs.
      const status = alice.page.locator('.call-top .call-status');
      expect(await status.textContent()).toMatch(/^\d+:\d\d$/);

      // Mute: bob sees it; unmute clears it.
      await alice.page.getByRole('button', { name: 'Mute microphone' }).click();
      expect(await alice.page.getByRole('button', { name: 'Mute microphone' }).getAttribute('aria-pressed')).toBe('true');
      await bob.page.locator('.peer-flags li', { hasText: 'alice is muted' }).waitFor();
      await alice.page.getByRole('button', { name: 'Mute microphone' }).click();
      await bob.page.locator('.peer-flags li', { hasText: 'alice is muted' }).waitFor({ state: 'detached' });

      // Camera off: bob's screen switches to alice's name and a notice; on again brings video back.
      await alice.page.getByRole('button', { name: 'Turn camera off' }).click();
      await bob.page.locator('.peer-flags li', { hasText: 'alice turned their camera off' }).waitFor();
      await bob.page.locator('.call-screen[data-layout="voice"]').waitFor();
      await alice.page.locator('.local-video').waitFor({ state: 'hidden' });
      await alice.page.getByRole('button', { name: 'Turn camera off' }).click();
      await bob.page.locator('.call-screen[data-layout="video"]').waitFor();
      await alice.page.locator('.local-video').waitFor({ state: 'visible' });

      await screenshot(alice.page, 'in-call');

      // Screen share starts and stops; bob is told either way.
      await alice.page.getByRole('button', { name: 'Share screen' }).click();
      await bob.page.locator('.peer-flags li', { hasText: 'alice is sharing their screen' }).waitFor();
      expect(await alice.page.getByRole('button', { name: 'Share screen' }).getAttribute('aria-pressed')).toBe('true');
      await expectRemoteVideoPlaying(bob.page);
      await alice.page.getByRole('button', { name: 'Share screen' }).click();
      await bob.page.locator('.peer-flags li', { hasText: 'sharing their screen' }).waitFor({ state: 'detached' });
      expect(await alice.page.getByRole('button', { name: 'Share screen' }).getAttribute('aria-pressed')).toBe('false');

      // Stats panel for the screenshot: graph and figures.
      await alice.page.getByRole('button', { name: 'Call statistics' }).click();
      await alice.page.waitForTimeout(2500); // let the graph draw a few samples
      await screenshot(alice.page, 'in-call-stats');

      // Hang up: both return home; history lists the call with its duration.
      await bob.page.getByRole('button', { name: 'Hang up' }).click();
      await expectNotice(alice.page, /Call with bob ended/);
      await expectNotice(bob.page, /Call with alice ended/);
      await alice.page.getByRole('heading', { name: 'Online now' }).waitFor();
      await alice.page.locator('.history-item', { hasText: 'bob' }).first().waitFor();
      expect(await alice.page.locator('.history-item').first().locator('.history-meta').textContent()).toMatch(/Outgoing\s*\d+:\d\d/);
      // Presence goes back to online for the others.
      await onlineEntry(carol.page, 'bob').locator('.presence', { hasText: 'Online' }).waitFor();
      assertClean(alice, bob, carol);
    } finally {
      await closeAll(alice, bob, carol);
    }
  });

  it('voice-only call: audio flows, no video track, the voice layout shows the peer', async () => {
    const dave = await signIn(browser, server, 'dave');
    const erin = await signIn(browser, server, 'erin');
    try {
      await onlineEntry(dave.page, 'erin').waitFor();
      await callFromList(dave, 'erin', false);
      const dialog = incomingDialog(erin.page);
      await dialog.waitFor();
      expect(await dialog.textContent()).toContain('Incoming voice call');
      await erin.page.getByRole('button', { name: 'Accept voice only' }).click();
      await Promise.all([waitConnected(dave.page), waitConnected(erin.page)]);

      for (const p of [dave, erin]) {
        const peer = p === dave ? 'erin' : 'dave';
        expect(await p.page.locator('.call-screen').getAttribute('data-layout')).toBe('voice');
        expect(await p.page.locator('.voice-name').textContent()).toBe(peer);
        // Sound arrives (about 30-50 kbps of Opus), and there is no video at all.
        expect(await receivingKbps(p.page, 10)).toBeGreaterThan(10);
        const tracks = await p.page.$eval('.remote-video', (v) => {
          const s = (v as HTMLVideoElement).srcObject as MediaStream | null;
          return { audio: s?.getAudioTracks().filter((t) => t.readyState === 'live').length ?? 0, video: s?.getVideoTracks().length ?? 0 };
        });
        expect(tracks).toEqual({ audio: 1, video: 0 });
        expect(await p.page.locator('.local-video').isVisible()).toBe(false);
      }
      await dave.page.locator('.voice-status', { hasText: /Voice call · \d+:\d\d/ }).waitFor();
      await erin.page.getByRole('button', { name: 'Call statistics' }).click();
      await erin.page.locator('.side-panel').waitFor({ state: 'hidden' });

      // The device pickers list the (fake) microphone and camera by name.
      await dave.page.getByRole('button', { name: 'Devices' }).click();
      const mic = dave.page.getByLabel('Microphone');
      await mic.locator('option').first().waitFor({ state: 'attached' });
      expect((await mic.locator('option').allTextContents()).every((t) => t.length > 0)).toBe(true);
      expect(await dave.page.getByLabel('Camera').locator('option').count()).toBeGreaterThanOrEqual(1);
      // Escape closes the panel and puts focus back on the button that opened it.
      await dave.page.keyboard.press('Escape');
      await dave.page.locator('.side-panel').waitFor({ state: 'hidden' });
      expect(await dave.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Devices');
      await screenshot(erin.page, 'voice-call');

      await erin.page.getByRole('button', { name: 'Hang up' }).click();
      await expectNotice(dave.page, /Call with erin ended/);
      assertClean(dave, erin);
    } finally {
      await closeAll(dave, erin);
    }
  });

  it('on a phone: smaller capture, a layout that fits; a tab closed mid-call: "reconnecting", then the call ends when the resume grace is over', async () => {
    const frank = await signIn(browser, server, 'frank');
    const grace = await signIn(browser, server, 'grace', { viewport: { width: 390, height: 844 }, mobile: true });
    try {
      await screenshot(grace.page, 'mobile-home');
      await connectVideoCall(frank, grace);
      await expectRemoteVideoPlaying(grace.page);
      // The phone captures 640x360 at 15 fps; the desktop keeps a larger picture.
      const phoneCamera = await grace.page.waitForFunction(() => {
        const v = document.querySelector<HTMLVideoElement>('.local-video');
        const track = (v?.srcObject as MediaStream | null)?.getVideoTracks()[0];
        const s = track?.getSettings();
        return s && s.width === 640 && s.height === 360 ? { width: s.width, height: s.height, fps: s.frameRate } : null;
      });
      expect(await phoneCamera.jsonValue()).toEqual({ width: 640, height: 360, fps: 15 });
      const desktopWidth = await frank.page.waitForFunction(() => {
        const v = document.querySelector<HTMLVideoElement>('.local-video');
        const w = (v?.srcObject as MediaStream | null)?.getVideoTracks()[0]?.getSettings().width ?? 0;
        return w > 640 ? w : null;
      });
      expect(await desktopWidth.jsonValue()).toBe(1280);
      // Everything in the control bar is on screen on a 390 px wide phone.
      const bar = await grace.page.locator('.control-bar').boundingBox();
      expect(bar && bar.x >= 0 && bar.x + bar.width <= 390).toBe(true);
      await grace.page.waitForTimeout(1000); // let a few frames in at the new size
      await screenshot(grace.page, 'mobile-call');

      const closedAt = Date.now();
      await grace.page.close();
      // The page could have been reloaded, so grace's call waits for her for the grace period.
      await frank.page.locator('.call-screen .flag-link', { hasText: 'grace is reconnecting…' }).waitFor({ timeout: 5000 });
      await expectNotice(frank.page, 'The call dropped: the connection to grace was lost.', GRACE_MS + 5000);
      expect(Date.now() - closedAt).toBeLessThan(GRACE_MS + PING_MS + IDLE_MS + 5000);
      await frank.page.getByRole('heading', { name: 'Online now' }).waitFor();
      await onlineEntry(frank.page, 'grace').waitFor({ state: 'detached' });
      assertClean(frank);
    } finally {
      await closeAll(frank, grace);
    }
  });
});
