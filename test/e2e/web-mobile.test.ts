/**
 * The call screen on a phone (390x844, touch): hang-up and mute stay reachable with any sheet
 * open (chat, devices, stats), and Share is not offered where a screen cannot be shared.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  closeAll,
  connectVideoCall,
  expectNotice,
  launchBrowser,
  screenshot,
  signIn,
  startServer,
  type Server,
} from './web-harness.js';

const PHONE = { viewport: { width: 390, height: 844 }, mobile: true };

let server: Server;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('web app: call controls on a phone', () => {
  it('keeps mute and hang-up clickable with every sheet open, and offers no screen share', async () => {
    const frank = await signIn(browser, server, 'frank');
    const grace = await signIn(browser, server, 'grace', PHONE);
    try {
      await connectVideoCall(frank, grace);
      const { page } = grace;
      // A desktop offers Share; a touch-only phone, which cannot share its screen, does not.
      await frank.page.getByRole('button', { name: 'Share screen' }).waitFor();
      expect(await page.getByRole('button', { name: 'Share screen' }).count()).toBe(0);

      const mute = page.getByRole('button', { name: 'Mute microphone' });
      for (const sheet of ['Chat', 'Devices', 'Call statistics']) {
        await page.getByRole('button', { name: sheet }).click();
        await page.locator('.side-panel').waitFor({ state: 'visible' });
        // A click lands only on the element on top at that point: a sheet over the control bar
        // would take it (and Playwright would wait for the control until the timeout).
        await mute.click({ timeout: 5_000 });
        expect(await mute.getAttribute('aria-pressed')).toBe('true');
        await frank.page.locator('.peer-flags li', { hasText: 'grace is muted' }).waitFor();
        await mute.click({ timeout: 5_000 });
        expect(await mute.getAttribute('aria-pressed')).toBe('false');
        if (sheet === 'Chat') await screenshot(page, 'mobile-call-chat');
        await page.getByRole('button', { name: 'Close panel' }).click();
        await page.locator('.side-panel').waitFor({ state: 'hidden' });
      }

      // With a sheet open, hang-up ends the call.
      await page.getByRole('button', { name: 'Devices', exact: true }).click();
      await page.locator('.side-panel').waitFor({ state: 'visible' });
      await page.getByRole('button', { name: 'Hang up' }).click({ timeout: 5_000 });
      await expectNotice(frank.page, /Call with grace ended/);
      await page.getByRole('heading', { name: 'Online now' }).waitFor();
      assertClean(frank, grace);
    } finally {
      await closeAll(frank, grace);
    }
  });
});
