/**
 * Verified calls in the web app (issue 11), between two real Chromium pages: both show the same
 * safety code; once both marked the call verified, the next call is verified without comparing;
 * and when alice's browser loses its device key (a new device, as far as anyone can tell), her
 * side shows `unverified` (she remembers nothing) while bob's shows the key-changed warning,
 * with alice's picture and sound held until bob chooses. That is the rule docs/SECURITY.md
 * states: a key that is not among the ones verified for a person is `key_changed`.
 *
 * The shield panel and the warning are also checked with axe-core.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxe } from './support/axe.js';
import {
  assertClean,
  closeAll,
  connectVideoCall,
  expectRemoteVideoPlaying,
  launchBrowser,
  screenshot,
  signIn,
  startServer,
  type Person,
  type Server,
} from './web-harness.js';

let server: Server;
let browser: Browser;
let alice: Person;
let bob: Person;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  alice = await signIn(browser, server, 'alice');
  bob = await signIn(browser, server, 'bob');
});

afterAll(async () => {
  await closeAll(alice, bob);
  await browser?.close();
  await server?.stop();
});

const shield = (page: Page) => page.locator('.verify-button');

async function expectState(page: Page, state: string): Promise<void> {
  await page.locator(`.verify-button[data-verification="${state}"]`).waitFor({ timeout: 15_000 });
}

/** Open the shield panel and read the code once it is known. */
async function readCode(page: Page): Promise<string> {
  if ((await shield(page).getAttribute('aria-expanded')) !== 'true') await shield(page).click();
  const panel = page.getByRole('dialog', { name: 'Safety code' });
  await panel.waitFor();
  const handle = await page.waitForFunction(() => {
    const text = document.querySelector('.verify-code')?.textContent ?? '';
    return /^\d{3} \d{3}$/.test(text) ? text : null;
  });
  return (await handle.jsonValue()) as string;
}

async function hangUp(person: Person, other: Person): Promise<void> {
  await person.page.getByRole('button', { name: 'Hang up' }).click();
  for (const p of [person, other])
    await p.page.getByRole('heading', { name: 'Online now' }).waitFor();
}

async function expectAxeClean(page: Page): Promise<void> {
  const { serious } = await runAxe(page);
  expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
}

describe('web app: verified calls', () => {
  it('both people see the same code and mark the call verified', async () => {
    await connectVideoCall(alice, bob);
    await Promise.all([expectState(alice.page, 'unverified'), expectState(bob.page, 'unverified')]);
    const [a, b] = await Promise.all([readCode(alice.page), readCode(bob.page)]);
    expect(a).toBe(b);
    await expectRemoteVideoPlaying(bob.page);
    await expectAxeClean(alice.page);
    await screenshot(alice.page, 'verify-code');

    for (const p of [alice.page, bob.page]) {
      await p.getByRole('button', { name: 'Mark as verified' }).click();
      await expectState(p, 'verified');
      await p.getByRole('button', { name: 'Mark as verified' }).waitFor({ state: 'hidden' });
    }
    await hangUp(alice, bob);
    assertClean(alice, bob);
  });

  it('the next call is verified on both sides without comparing', async () => {
    await connectVideoCall(bob, alice);
    await Promise.all([expectState(alice.page, 'verified'), expectState(bob.page, 'verified')]);
    expect(await bob.page.getByRole('alertdialog').count()).toBe(0);
    // A fresh code is still there to compare, the same on both sides.
    expect(await readCode(alice.page)).toBe(await readCode(bob.page));
    await expectRemoteVideoPlaying(alice.page);
    await hangUp(bob, alice);
    assertClean(alice, bob);
  });

  it('a lost device key: the new key is unverified for alice and a key change for bob, who sees the warning before the media', async () => {
    // What a new browser looks like: no device key and nothing remembered.
    await alice.page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = indexedDB.deleteDatabase('callwire');
          req.onsuccess = () => resolve();
          req.onerror = () => reject(req.error ?? new Error('deleteDatabase failed'));
          req.onblocked = () => reject(new Error('the SDK kept the database open'));
        }),
    );
    // Signed out first: a page that is only closed stays resumable for the grace period, and
    // in open mode its name stays taken meanwhile.
    await alice.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await alice.page.getByLabel('Your name').waitFor();
    await alice.context.close();
    alice = await signIn(browser, server, 'alice');

    await connectVideoCall(alice, bob);
    await expectState(alice.page, 'unverified');
    await expectState(bob.page, 'key_changed');
    const warning = bob.page.getByRole('alertdialog', { name: "alice's device key changed" });
    await warning.waitFor();
    // alice is neither seen nor heard on bob's side until he chooses.
    expect(
      await bob.page.$eval('.remote-video', (v) => (v as HTMLVideoElement).srcObject === null),
    ).toBe(true);
    await expectAxeClean(bob.page);
    await screenshot(bob.page, 'verify-key-changed');

    await warning.getByRole('button', { name: 'Compare the code again' }).click();
    await warning.waitFor({ state: 'hidden' });
    expect(await readCode(bob.page)).toBe(await readCode(alice.page));
    await expectRemoteVideoPlaying(bob.page);
    for (const p of [alice.page, bob.page]) {
      await p.getByRole('button', { name: 'Mark as verified' }).click();
      await expectState(p, 'verified');
    }
    await hangUp(alice, bob);

    // Both of alice's keys are now verified for bob (a person may have several devices).
    await connectVideoCall(bob, alice);
    await Promise.all([expectState(alice.page, 'verified'), expectState(bob.page, 'verified')]);
    await hangUp(bob, alice);
    assertClean(alice, bob);
  });
});
