/**
 * What the app says about a call, read as a person reads it (visible text): a video call whose
 * peer turns the camera off is still a video call, someone who is only ringing is not "in a
 * call", and the end of a call is said once.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  callFromList,
  closeAll,
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

/**
 * How often `text` shows on the page: text nodes in rendered elements, leaving out what is
 * only for screen readers (.visually-hidden announcers).
 */
async function timesShown(page: Page, text: string): Promise<number> {
  return page.evaluate((needle) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let count = 0;
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest('.visually-hidden') || !parent.checkVisibility()) continue;
      count += (node.textContent ?? '').split(needle).length - 1;
    }
    return count;
  }, text);
}

describe('web app: status text', () => {
  it('says busy, not "in a call", while ringing; keeps a camera-off video call a video call; says the end once', async () => {
    const alice = await signIn(browser, server, 'alice');
    const bob = await signIn(browser, server, 'bob');
    const carol = await signIn(browser, server, 'carol');
    try {
      await onlineEntry(alice.page, 'bob').waitFor();
      await onlineEntry(carol.page, 'alice').waitFor();
      await callFromList(alice, 'bob', true);
      await incomingDialog(bob.page).waitFor();

      // Only ringing: the others see both as busy (a call to them now is refused), and nothing
      // claims a call is going on.
      await onlineEntry(carol.page, 'alice').locator('.presence', { hasText: 'Busy' }).waitFor();
      await onlineEntry(carol.page, 'bob').locator('.presence', { hasText: 'Busy' }).waitFor();
      expect(await timesShown(carol.page, 'In a call')).toBe(0);

      await bob.page.getByRole('button', { name: 'Accept with video' }).click();
      await Promise.all([waitConnected(alice.page), waitConnected(bob.page)]);
      await alice.page.locator('.call-screen[data-layout="video"]').waitFor();

      // bob turns the camera off: alice's screen says so, and does not call it a voice call.
      await bob.page.getByRole('button', { name: 'Turn camera off' }).click();
      await alice.page.locator('.call-screen[data-layout="voice"]').waitFor();
      await alice.page.locator('.voice-status', { hasText: /^Camera off · \d+:\d\d$/ }).waitFor();
      await alice.page.locator('.peer-flags li', { hasText: 'bob turned their camera off' }).waitFor();
      expect(await timesShown(alice.page, 'Voice call')).toBe(0);

      // Something said in the chat keeps the ended call on screen; the end is said there, once.
      await alice.page.getByRole('button', { name: 'Chat' }).click();
      await alice.page.getByLabel('Message', { exact: true }).fill('see you');
      await alice.page.keyboard.press('Enter');
      await alice.page.locator('.chat-log .message-text', { hasText: 'see you' }).waitFor();
      await alice.page.getByRole('button', { name: 'Hang up' }).click();
      await alice.page.locator('.call-screen[data-state="ended"]').waitFor();
      await alice.page.locator('.voice-status', { hasText: /^Call with bob ended \(\d+:\d\d\)\.$/ }).waitFor();
      // Give a toast the moment it would need to appear, then count what is on screen.
      await alice.page.waitForTimeout(500);
      expect(await timesShown(alice.page, 'Call with bob ended')).toBe(1);
      assertClean(alice, bob, carol);
    } finally {
      await closeAll(alice, bob, carol);
    }
  });

  it('shows a message that arrives with the chat closed as a preview, and counts the unread ones', async () => {
    const dora = await signIn(browser, server, 'dora');
    const eli = await signIn(browser, server, 'eli');
    try {
      await onlineEntry(dora.page, 'eli').waitFor();
      await callFromList(dora, 'eli', false);
      await incomingDialog(eli.page).waitFor();
      await eli.page.getByRole('button', { name: 'Accept voice only' }).click();
      await Promise.all([waitConnected(dora.page), waitConnected(eli.page)]);

      await dora.page.getByRole('button', { name: 'Chat', exact: true }).click();
      for (const text of ['lunch?', 'at noon, the usual place']) {
        await dora.page.getByLabel('Message', { exact: true }).fill(text);
        await dora.page.keyboard.press('Enter');
      }
      // eli's chat is closed: a preview of the latest message, and a count on the Chat button.
      const preview = eli.page.locator('.chat-toast');
      await preview.filter({ hasText: 'dora: at noon, the usual place' }).waitFor();
      const chatButton = eli.page.getByRole('button', { name: 'Chat, 2 unread messages' });
      await chatButton.waitFor();
      expect(await chatButton.locator('.unread-count').textContent()).toBe('2');
      await screenshot(eli.page, 'chat-preview');

      // The preview opens the chat; the count goes.
      await preview.click();
      await eli.page.locator('.chat-log .message-text', { hasText: 'lunch?' }).waitFor();
      await preview.waitFor({ state: 'hidden' });
      await eli.page.getByRole('button', { name: 'Chat', exact: true }).waitFor();
      assertClean(dora, eli);
    } finally {
      await closeAll(dora, eli);
    }
  });
});
