/**
 * A call to a tab in the background: the title flashes and, where the person allowed
 * notifications (asked with a click, never on load), a system notification says who calls.
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
  signIn,
  startServer,
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

declare global {
  interface Window {
    seenNotifications?: Notification[];
    permissionAsks?: number;
  }
}

async function setVisible(page: Page, visible: boolean): Promise<void> {
  await page.evaluate((v) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (v ? 'visible' : 'hidden') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => !v });
    document.dispatchEvent(new Event('visibilitychange'));
  }, visible);
}

describe('web app: calls to a background tab', () => {
  it('flashes the title and shows a notification where notifications are allowed', async () => {
    const alice = await signIn(browser, server, 'alice');
    const bob = await signIn(browser, server, 'bob');
    try {
      const { page, context } = bob;
      // Watch the notifications the page makes (they are real ones, kept in a list as well).
      await context.addInitScript(() => {
        const Real = window.Notification;
        window.seenNotifications = [];
        window.permissionAsks = 0;
        const ask = Real.requestPermission.bind(Real);
        Real.requestPermission = () => {
          window.permissionAsks = (window.permissionAsks ?? 0) + 1;
          return ask();
        };
        window.Notification = class extends Real {
          constructor(title: string, options?: NotificationOptions) {
            super(title, options);
            window.seenNotifications?.push(this);
          }
        };
      });
      // bob has allowed notifications for this site (headless Chromium cannot show the prompt
      // the "Turn on call alerts" button asks with).
      await context.grantPermissions(['notifications'], { origin: new URL(server.url).origin });
      await page.reload();
      await page.getByRole('heading', { name: 'Online now' }).waitFor();
      // Nothing is asked on load, and with permission given there is nothing to turn on.
      expect(await page.evaluate(() => window.permissionAsks)).toBe(0);
      expect(await page.getByRole('button', { name: 'Turn on call alerts' }).count()).toBe(0);

      // bob looks at another tab; alice calls. (Headless Chromium keeps every tab visible, so
      // the page is told it is hidden the way the browser tells it: visibilityState and the
      // visibilitychange event.)
      await setVisible(page, false);
      await onlineEntry(alice.page, 'bob').waitFor();
      await callFromList(alice, 'bob', true);

      await page.waitForFunction(() => document.title === '📞 alice is calling');
      await page.waitForFunction(() => document.title !== '📞 alice is calling'); // it flashes
      await page.waitForFunction(() => (window.seenNotifications?.length ?? 0) === 1);
      const shown = await page.evaluate(() => {
        const n = window.seenNotifications?.[0];
        return n ? { title: n.title, body: n.body } : null;
      });
      expect(shown).toEqual({ title: 'Incoming video call', body: 'alice is calling you on callwire.' });

      // Back on the tab: the ringing dialog is there, and the title stops flashing.
      await page.evaluate(() => window.seenNotifications?.[0]?.dispatchEvent(new Event('click')));
      await setVisible(page, true);
      await incomingDialog(page).waitFor();
      await page.waitForFunction(() => document.title === 'Incoming call from alice · callwire');
      await page.getByRole('button', { name: 'Decline' }).click();
      assertClean(alice, bob);
    } finally {
      await closeAll(alice, bob);
    }
  });
});
