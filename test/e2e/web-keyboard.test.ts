/**
 * The keyboard: "?" lists the shortcuts; A and D answer a ringing call; M, V, C and H work in a
 * call (and are letters, not commands, while typing a message); focus is visible.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  callFromList,
  closeAll,
  expectNotice,
  incomingDialog,
  launchBrowser,
  onlineEntry,
  screenshot,
  signIn,
  startServer,
  waitConnected,
  type Server,
} from './web-harness.js';

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

describe('web app: keyboard', () => {
  it('lists the shortcuts, answers and runs a call from the keyboard, and shows where focus is', async () => {
    const alice = await signIn(browser, server, 'alice');
    const bob = await signIn(browser, server, 'bob');
    try {
      const { page } = bob;
      await onlineEntry(alice.page, 'bob').waitFor();

      // Focus is visible: a keyboard-focused control has an outline.
      await page.getByLabel('Search people online').focus();
      await page.keyboard.press('Tab');
      const outline = await page.evaluate(() => {
        const el = document.activeElement;
        return el ? getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth : '';
      });
      expect(outline).toMatch(/^solid [1-9]/);

      // "?" lists the shortcuts; Escape closes the list.
      await page.keyboard.press('?');
      const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
      await help.waitFor();
      await help.getByText('Mute or unmute the microphone (in a call)').waitFor();
      await screenshot(page, 'shortcuts');
      await page.keyboard.press('Escape');
      await help.waitFor({ state: 'detached' });

      // D declines.
      await callFromList(alice, 'bob', true);
      await incomingDialog(page).waitFor();
      await page.keyboard.press('d');
      await expectNotice(alice.page, 'bob declined the call.');

      // A accepts, with video as asked.
      await alice.page.getByRole('heading', { name: 'Online now' }).waitFor();
      await callFromList(alice, 'bob', true);
      await incomingDialog(page).waitFor();
      await page.keyboard.press('a');
      await Promise.all([waitConnected(alice.page), waitConnected(page)]);
      await page.locator('.local-video').waitFor({ state: 'visible' });

      // M mutes, V turns the camera off: alice sees both.
      await page.keyboard.press('m');
      await alice.page.locator('.peer-flags li', { hasText: 'bob is muted' }).waitFor();
      await page.keyboard.press('v');
      await alice.page.locator('.peer-flags li', { hasText: 'bob turned their camera off' }).waitFor();

      // C opens the chat; typed there, "m" and "h" are letters.
      await page.keyboard.press('c');
      await page.getByLabel('Message', { exact: true }).waitFor();
      await page.getByLabel('Message', { exact: true }).focus();
      await page.keyboard.type('hmm');
      expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('hmm');
      expect(await page.getByRole('button', { name: 'Mute microphone' }).getAttribute('aria-pressed')).toBe('true');
      await page.keyboard.press('Escape');
      await page.locator('.side-panel').waitFor({ state: 'hidden' });

      // H hangs up.
      await page.keyboard.press('h');
      await expectNotice(alice.page, /Call with bob ended/);
      assertClean(alice, bob);
    } finally {
      await closeAll(alice, bob);
    }
  });
});
