/**
 * Call waiting in the web app (issue 10): alice is in a video call with bob when carol calls.
 * alice gets a call-waiting prompt over the call, not a busy signal for carol, and each of its
 * three choices does what it says: decline (carol hears busy, bob's call goes on), hold bob and
 * answer (bob's media stops, carol's flows; when carol's call ends bob's comes back, on hold
 * until alice resumes), and end bob's call and answer.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  closeAll,
  connectVideoCall,
  expectNotice,
  incomingDialog,
  launchBrowser,
  onlineEntry,
  screenshot,
  signIn,
  startServer,
  waitConnected,
  callFromList,
  expectFlowing,
  expectStopped,
  type Person,
  type Server,
} from './web-harness.js';

let server: Server;
let browser: Browser;
let alice: Person;
let bob: Person;
let carol: Person;

/** alice in a connected video call with bob, and carol calling alice: the waiting prompt. */
async function carolCallsDuringBobsCall() {
  await connectVideoCall(bob, alice);
  await expectFlowing(alice.page, 'video');
  await onlineEntry(carol.page, 'alice').waitFor();
  await callFromList(carol, 'alice', true);
  const prompt = alice.page.getByRole('dialog', { name: 'carol' });
  await prompt.getByText('Call waiting: carol is calling you (video) while you talk with bob.').waitFor();
  return prompt;
}

async function toHome(...people: Person[]): Promise<void> {
  for (const p of people) await p.page.getByRole('heading', { name: 'Online now' }).waitFor();
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  [alice, bob, carol] = await Promise.all([
    signIn(browser, server, 'alice'),
    signIn(browser, server, 'bob'),
    signIn(browser, server, 'carol'),
  ]);
}, 120_000);

afterAll(async () => {
  await closeAll(alice, bob, carol);
  await browser?.close();
  await server?.stop();
});

describe('web app: call waiting', () => {
  it('hold and answer: bob is held, carol talks; when carol hangs up bob comes back, on hold until alice resumes', async () => {
    const prompt = await carolCallsDuringBobsCall();
    // carol hears it ring, not busy.
    await carol.page.locator('.call-screen[data-state="ringing"]').waitFor();
    await screenshot(alice.page, 'call-waiting');

    await prompt.getByRole('button', { name: 'Hold bob and answer' }).click();
    await Promise.all([waitConnected(alice.page), waitConnected(carol.page)]);
    await alice.page.getByRole('heading', { name: /carol/ }).first().waitFor();
    await bob.page.locator('[data-flag="hold"]', { hasText: 'alice put you on hold' }).waitFor();
    await alice.page.getByText('bob is on hold. Their call comes back when this one ends.').waitFor();
    await Promise.all([expectStopped(bob.page), expectFlowing(carol.page, 'video')]);

    // carol hangs up: alice is back in bob's call, still on hold, and resumes it.
    await carol.page.getByRole('button', { name: 'Hang up' }).click();
    await toHome(carol);
    await expectNotice(alice.page, 'bob is on hold. Press Resume to talk again.');
    const hold = alice.page.getByRole('button', { name: 'Hold', exact: true });
    expect(await hold.getAttribute('aria-pressed')).toBe('true');
    await hold.click();
    await bob.page.locator('[data-flag="hold"]').waitFor({ state: 'detached' });
    await Promise.all([expectFlowing(alice.page, 'video'), expectFlowing(bob.page, 'video')]);

    await bob.page.getByRole('button', { name: 'Hang up' }).click();
    await toHome(alice, bob);
    assertClean(alice, bob, carol);
  });

  it('decline: carol is told alice is busy, and bob\'s call goes on', async () => {
    const prompt = await carolCallsDuringBobsCall();
    await prompt.getByRole('button', { name: 'Decline (busy)' }).click();
    await expectNotice(carol.page, 'alice is in another call. Try again later.');
    await incomingDialog(alice.page).waitFor({ state: 'detached' });
    await Promise.all([expectFlowing(alice.page, 'video'), expectFlowing(bob.page, 'video')]);
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await toHome(alice, bob, carol);
    assertClean(alice, bob, carol);
  });

  it('end and answer: bob\'s call ends, carol\'s starts', async () => {
    const prompt = await carolCallsDuringBobsCall();
    await prompt.getByRole('button', { name: 'End call with bob and answer' }).click();
    await toHome(bob);
    await Promise.all([waitConnected(alice.page), waitConnected(carol.page)]);
    await Promise.all([expectFlowing(alice.page, 'video'), expectFlowing(carol.page, 'video')]);
    await carol.page.getByRole('button', { name: 'Hang up' }).click();
    await toHome(alice, carol);
    assertClean(alice, bob, carol);
  });
});
