/**
 * Calls that never connect, as people see them: declined, cancelled by the caller, not answered
 * before the ring timeout (a missed call), and a name nobody is using.
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
  type Person,
  type Server,
} from './web-harness.js';

const RING_TIMEOUT_MS = 3000;

let server: Server;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  server = await startServer(['--ring-timeout-ms', String(RING_TIMEOUT_MS)]);
  browser = await launchBrowser();
  alice = await signIn(browser, server, 'alice');
  bob = await signIn(browser, server, 'bob');
  await onlineEntry(alice.page, 'bob').waitFor();
});

afterAll(async () => {
  await closeAll(alice, bob);
  await browser?.close();
  await server?.stop();
});

describe('web app: calls that do not connect', () => {
  it('decline: the caller is told, the callee returns to where it was', async () => {
    await callFromList(alice, 'bob', true);
    const dialog = incomingDialog(bob.page);
    await dialog.waitFor();
    await bob.page.getByRole('button', { name: 'Decline' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expectNotice(alice.page, 'bob declined the call.');
    await alice.page.getByRole('heading', { name: 'Online now' }).waitFor();
    // Focus returns to the page behind the dialog; the ring tone stopped.
    expect(await bob.page.locator('dialog').count()).toBe(0);
    await bob.page.locator('.history-item', { hasText: 'alice' }).locator('.history-meta', { hasText: 'Declined' }).waitFor();
    await alice.page.locator('.history-item', { hasText: 'bob' }).locator('.history-meta', { hasText: 'Declined' }).waitFor();
    assertClean(alice, bob);
  });

  it('caller cancels while ringing: the dialog goes away and the callee has a missed call', async () => {
    await callFromList(alice, 'bob', false);
    const dialog = incomingDialog(bob.page);
    await dialog.waitFor();
    await alice.page.locator('.call-screen .call-status', { hasText: 'Ringing' }).waitFor();
    await alice.page.getByRole('button', { name: 'Cancel call' }).click();
    await expectNotice(alice.page, 'Call cancelled.');
    await dialog.waitFor({ state: 'detached' });
    await expectNotice(bob.page, 'Missed call from alice.');
    const missed = bob.page.locator('.missed-calls .history-item', { hasText: 'alice' });
    await missed.first().waitFor();
    expect(await missed.first().locator('.history-meta').textContent()).toContain('Voice call');
    assertClean(alice, bob);
  });

  it('nobody answers: the caller hears "no answer", the callee sees a missed call', async () => {
    const before = await bob.page.locator('.missed-calls .history-item').count();
    const started = Date.now();
    await callFromList(alice, 'bob', true);
    await incomingDialog(bob.page).waitFor();
    await expectNotice(alice.page, "bob didn't answer.", RING_TIMEOUT_MS + 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(RING_TIMEOUT_MS - 500);
    await incomingDialog(bob.page).waitFor({ state: 'detached' });
    await expectNotice(bob.page, 'Missed call from alice.');
    await bob.page.waitForFunction((n) => document.querySelectorAll('.missed-calls .history-item').length === n + 1, before);
    await bob.page.locator('.missed-calls .badge', { hasText: 'new' }).waitFor();
    await screenshot(bob.page, 'home');
    assertClean(alice, bob);
  });

  it('calling a name nobody is using says so', async () => {
    await alice.page.getByLabel('Name to call').fill('nobody');
    await alice.page.getByRole('button', { name: 'Voice call', exact: true }).click();
    await expectNotice(alice.page, 'nobody is not available right now');
    await alice.page.getByRole('heading', { name: 'Online now' }).waitFor();
    // Calling oneself is refused with its own message.
    await alice.page.getByLabel('Name to call').fill('alice');
    await alice.page.getByRole('button', { name: 'Voice call', exact: true }).click();
    await expectNotice(alice.page, "You can't call yourself.");
    assertClean(alice, bob);
  });

  it('history lives in this browser: a new sign-in shows the same missed calls', async () => {
    const missedBefore = await bob.page.locator('.missed-calls .history-item').count();
    expect(missedBefore).toBeGreaterThanOrEqual(2);
    await bob.page.getByRole('button', { name: 'Sign out' }).click();
    await bob.page.reload();
    await bob.page.getByLabel('Your name').fill('bob');
    await bob.page.getByRole('button', { name: 'Sign in' }).click();
    await bob.page.getByRole('heading', { name: 'Online now' }).waitFor();
    expect(await bob.page.locator('.missed-calls .history-item').count()).toBe(missedBefore);
    assertClean(bob);
  });
});
