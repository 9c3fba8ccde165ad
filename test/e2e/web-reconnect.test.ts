/**
 * Losing the server: a call in progress ends with a clear message, the app says it is
 * reconnecting, and when the server is back the app is online again with a fresh list.
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

describe('web app: losing the connection to the server', () => {
  it('ends the call with a clear message, shows reconnecting, and recovers when the server is back', async () => {
    const alice = await signIn(browser, server, 'alice');
    const bob = await signIn(browser, server, 'bob');
    try {
      await onlineEntry(alice.page, 'bob').waitFor();
      await callFromList(alice, 'bob', false);
      await incomingDialog(bob.page).waitFor();
      await bob.page.getByRole('button', { name: 'Accept voice only' }).click();
      await Promise.all([waitConnected(alice.page), waitConnected(bob.page)]);

      await server.kill();
      // The call stays on screen (its media is peer to peer) while the app tries to resume.
      for (const p of [alice.page, bob.page]) {
        await p.locator('[data-banner="connection"]', { hasText: 'Reconnecting' }).waitFor();
        await p.locator('.call-screen .flag', { hasText: 'Reconnecting…' }).waitFor();
      }

      // A restarted server has lost every session: the resume is refused and the call ends.
      await server.restart();
      for (const p of [alice.page, bob.page]) {
        await expectNotice(p, 'The call dropped: your connection to the server was lost.');
        await p.locator('[data-banner="connection"]').waitFor({ state: 'detached', timeout: 30_000 });
        await expectNotice(p, 'Reconnected.');
        await p.locator('.conn', { hasText: 'Online' }).waitFor();
      }
      // The online list is fresh again, and calls work.
      await onlineEntry(alice.page, 'bob').waitFor();
      await callFromList(alice, 'bob', false);
      await incomingDialog(bob.page).waitFor();
      await bob.page.getByRole('button', { name: 'Accept voice only' }).click();
      await Promise.all([waitConnected(alice.page), waitConnected(bob.page)]);
      await alice.page.getByRole('button', { name: 'Hang up' }).click();
      await expectNotice(bob.page, /Call with alice ended/);
      expect(await alice.page.locator('.history-item').count()).toBeGreaterThanOrEqual(2);
      assertClean(alice, bob);
    } finally {
      await closeAll(alice, bob);
    }
  });
});
