/**
 * One person on several devices, as people see it in the web app (issue 10), on a server with
 * passwords: alice signed in on a laptop and a phone (two browser contexts: two tabs' worth of
 * sessionStorage, so two devices), bob on one. A call rings both of alice's devices; the one
 * that does not answer says where it went and keeps no missed call. Hold stops the media both
 * ways and resume brings it back. The devices dialog renames and signs out devices live.
 *
 * Media is measured where it arrives: the pages' own RTCPeerConnections (recorded by an init
 * script, the app is not touched) report inbound RTP bytes through getStats().
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../../packages/server/test/store-redis-server.js';
import {
  assertClean,
  callFromList,
  closeAll,
  expectFlowing,
  expectNotice,
  expectStopped,
  incomingDialog,
  launchBrowser,
  onlineEntry,
  screenshot,
  signInWithPassword,
  startServer,
  waitConnected,
  type Person,
  type PersonOptions,
  type Server,
} from './web-harness.js';

const PASSWORDS = { alice: 'alice correct horse', bob: 'bob battery staple' } as const;
const PHONE: PersonOptions = { viewport: { width: 390, height: 844 }, mobile: true };

let server: Server;
let browser: Browser;
/** alice's laptop (desktop size) and phone (390x844), and bob. */
let laptop: Person;
let phone: Person;
let bob: Person;

/** One picture of several pages next to each other (ringing on two devices at once). */
async function screenshotSideBySide(name: string, pages: Page[]): Promise<void> {
  const shots = await Promise.all(
    pages.map(async (p) => (await p.screenshot()).toString('base64')),
  );
  const sheet = await browser.newPage({ viewport: { width: 1900, height: 860 } });
  try {
    await sheet.setContent(
      `<body style="margin:0;display:flex;gap:24px;align-items:center;justify-content:center;height:100vh;background:#cbd5e1">${shots
        .map(
          (b64) =>
            `<img src="data:image/png;base64,${b64}" style="max-height:820px;border-radius:12px;box-shadow:0 8px 24px #0004">`,
        )
        .join('')}</body>`,
    );
    await sheet.waitForFunction(() => [...document.images].every((img) => img.complete));
    await screenshot(sheet, name);
  } finally {
    await sheet.close();
  }
}

/** bob calls alice with video; both of alice's devices ring. */
async function bobCallsAlice(): Promise<void> {
  await onlineEntry(bob.page, 'alice').waitFor();
  await callFromList(bob, 'alice', true);
  await Promise.all([incomingDialog(laptop.page).waitFor(), incomingDialog(phone.page).waitFor()]);
}

async function hangUp(person: Person, ...others: Person[]): Promise<void> {
  await person.page.getByRole('button', { name: 'Hang up' }).click();
  for (const p of [person, ...others])
    await p.page.getByRole('heading', { name: 'Online now' }).waitFor();
}

beforeAll(async () => {
  server = await startServer(['--auth', 'password'], { ...PASSWORDS });
  browser = await launchBrowser();
  laptop = await signInWithPassword(browser, server, 'alice', PASSWORDS.alice);
  phone = await signInWithPassword(browser, server, 'alice', PASSWORDS.alice, PHONE);
  bob = await signInWithPassword(browser, server, 'bob', PASSWORDS.bob);
});

afterAll(async () => {
  await closeAll(laptop, phone, bob);
  await browser?.close();
  await server?.stop();
});

describe('web app: one person on several devices', () => {
  it('rings every device; the one that did not answer says so and keeps no missed call; media flows to the one that did', async () => {
    await bobCallsAlice();
    await screenshotSideBySide('devices-ringing', [laptop.page, phone.page]);

    await phone.page.getByRole('button', { name: 'Accept with video' }).click();
    // The laptop stops ringing at once and says where the call went.
    await incomingDialog(laptop.page).waitFor({ state: 'detached', timeout: 10_000 });
    await expectNotice(laptop.page, 'Answered on another device: the call from bob.');
    await Promise.all([waitConnected(bob.page), waitConnected(phone.page)]);
    await Promise.all([expectFlowing(phone.page, 'video'), expectFlowing(bob.page, 'video')]);

    // The laptop knows where alice's call is, and did not miss it.
    await laptop.page
      .getByRole('status')
      .filter({ hasText: 'In a call with bob on Chrome on Linux' })
      .waitFor();
    expect(await laptop.page.locator('.missed-calls').isHidden()).toBe(true);
    expect(await laptop.page.locator('.history-item', { hasText: 'bob' }).count()).toBe(0);
    await screenshot(laptop.page, 'devices-call-elsewhere');

    await hangUp(bob, phone);
    await laptop.page.locator('.other-call').waitFor({ state: 'hidden' });
    assertClean(laptop, phone, bob);
  });

  it('a decline on one device declines for the caller and the other device says so', async () => {
    await bobCallsAlice();
    await laptop.page.getByRole('button', { name: 'Decline' }).click();
    await incomingDialog(phone.page).waitFor({ state: 'detached', timeout: 10_000 });
    await expectNotice(phone.page, 'Declined on another device: the call from bob.');
    await expectNotice(bob.page, 'alice declined the call.');
    // The device that declined keeps the call in its history; the other has nothing missed.
    await laptop.page
      .locator('.history-item', { hasText: 'bob' })
      .locator('.history-meta', { hasText: 'Declined' })
      .waitFor();
    expect(await phone.page.locator('.missed-calls').isHidden()).toBe(true);
    assertClean(laptop, phone, bob);
  });

  it('hold stops the media both ways while the timer runs on; resume brings it back (button and P key)', async () => {
    await bobCallsAlice();
    await laptop.page.getByRole('button', { name: 'Accept with video' }).click();
    await Promise.all([waitConnected(bob.page), waitConnected(laptop.page)]);
    await Promise.all([expectFlowing(laptop.page), expectFlowing(bob.page)]);

    const hold = laptop.page.getByRole('button', { name: 'Hold', exact: true });
    await hold.click();
    expect(await hold.getAttribute('aria-pressed')).toBe('true');
    await laptop.page.locator('[data-flag="hold"]', { hasText: 'On hold' }).waitFor();
    await bob.page.locator('[data-flag="hold"]', { hasText: 'alice put you on hold' }).waitFor();
    await Promise.all([expectStopped(laptop.page), expectStopped(bob.page)]);
    // Still the same call: the timer goes on.
    const timer = laptop.page.locator('.call-status');
    const heldAt = await timer.textContent();
    await expect.poll(() => timer.textContent(), { timeout: 5_000 }).not.toBe(heldAt);
    await screenshot(laptop.page, 'call-hold');

    await hold.click();
    await laptop.page.locator('[data-flag="hold"]').waitFor({ state: 'detached' });
    await bob.page.locator('[data-flag="hold"]').waitFor({ state: 'detached' });
    await Promise.all([expectFlowing(laptop.page, 'video'), expectFlowing(bob.page, 'video')]);

    // The other side holds from the keyboard, and the shortcut list says which key.
    await bob.page.keyboard.press('?');
    await bob.page
      .getByRole('dialog', { name: 'Keyboard shortcuts' })
      .getByText('Put the call on hold or take it off hold')
      .waitFor();
    await bob.page.keyboard.press('Escape');
    // Gone from the DOM, not only closed: keys go to the call again once its 'close' event ran.
    await bob.page.locator('dialog.shortcut-help').waitFor({ state: 'detached' });
    const bobHold = bob.page.getByRole('button', { name: 'Hold', exact: true });
    await bob.page.keyboard.press('p');
    await expect.poll(() => bobHold.getAttribute('aria-pressed'), { timeout: 5_000 }).toBe('true');
    await laptop.page
      .locator('[data-flag="hold"]', { hasText: 'bob put you on hold' })
      .waitFor({ timeout: 10_000 });
    await expectStopped(laptop.page);
    await bob.page.keyboard.press('p');
    await expect.poll(() => bobHold.getAttribute('aria-pressed'), { timeout: 5_000 }).toBe('false');
    await laptop.page.locator('[data-flag="hold"]').waitFor({ state: 'detached' });
    await expectFlowing(laptop.page, 'video');

    await hangUp(bob, laptop);
    assertClean(laptop, phone, bob);
  });

  it('the devices dialog renames live on the other device and signs a device out', async () => {
    const { page } = laptop;
    await page.getByRole('button', { name: 'Devices' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your devices' });
    await dialog.waitFor();
    await expect.poll(() => dialog.locator('.device').count()).toBe(2);
    await dialog.locator('.device[data-current="true"]').getByText('This device').waitFor();

    // The phone's dialog, open at the same time, is the one that sees the rename.
    await phone.page.getByRole('button', { name: 'Devices' }).click();
    const phoneDialog = phone.page.getByRole('dialog', { name: 'Your devices' });
    await phoneDialog.waitFor();
    // Everything within the phone's width: the top bar's buttons and the dialog's.
    for (const box of [
      await phone.page
        .locator('.topbar')
        .getByRole('button', { name: 'Sign out', exact: true })
        .boundingBox(),
      await phoneDialog
        .locator('.device[data-current="false"]')
        .getByRole('button', { name: /^Sign out/ })
        .boundingBox(),
    ]) {
      expect(box).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(PHONE.viewport?.width ?? 0);
    }

    // Rename by keyboard alone: Rename, type, Enter. Escape cancels an edit, not the dialog.
    const own = dialog.locator('.device[data-current="true"]');
    await own.getByRole('button', { name: /^Rename/ }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    await own.getByRole('textbox').waitFor({ state: 'detached' });
    expect(await dialog.isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    await page.keyboard.type('Work laptop');
    await page.keyboard.press('Enter');
    await own.locator('.device-label', { hasText: 'Work laptop' }).waitFor();
    await phoneDialog
      .locator('.device[data-current="false"] .device-label', { hasText: 'Work laptop' })
      .waitFor();
    await screenshot(page, 'devices-dialog');
    await screenshot(phone.page, 'mobile-devices-dialog');

    // Sign the phone out from the laptop: it is back at sign-in, says why, and keeps no session.
    await dialog
      .locator('.device[data-current="false"]')
      .getByRole('button', { name: /^Sign out/ })
      .click();
    await phone.page
      .getByRole('alert')
      .filter({ hasText: 'This device was signed out from another of your devices.' })
      .waitFor();
    expect(await phone.page.evaluate(() => localStorage.getItem('callwire:session'))).toBeNull();
    await expect.poll(() => dialog.locator('.device').count()).toBe(1);
    await phone.page.reload();
    await phone.page.getByLabel('Password').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assertClean(laptop, phone, bob);
  });
});

/**
 * The same with alice's devices on two nodes of a cluster (one Redis, the accounts in it): her
 * laptop signed in on one node, her phone on the other, bob on the first. Both ring; the phone
 * answers; the laptop says where the call went; media flows between bob and the phone.
 */
describe('web app: one person on devices on two cluster nodes', () => {
  let redis: RedisServer;
  let nodes: Server[] = [];
  let people: Person[] = [];

  beforeAll(async () => {
    redis = new RedisServer();
    await redis.start();
    const store = ['--store', 'redis', '--redis', redis.url];
    const first = await startServer(['--auth', 'password', ...store], { ...PASSWORDS }, store);
    nodes = [first, await startServer(['--auth', 'password', ...store])];
  }, 60_000);

  afterAll(async () => {
    await closeAll(...people);
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  });

  it('rings both devices; the one on the other node answers, the first says so, media flows; "Move call here" takes it back across nodes', async () => {
    const [a, b] = nodes as [Server, Server];
    const alice1 = await signInWithPassword(browser, a, 'alice', PASSWORDS.alice);
    const alice2 = await signInWithPassword(browser, b, 'alice', PASSWORDS.alice, PHONE);
    const caller = await signInWithPassword(browser, a, 'bob', PASSWORDS.bob);
    people = [alice1, alice2, caller];
    await onlineEntry(caller.page, 'alice').waitFor();
    await callFromList(caller, 'alice', true);
    await Promise.all([
      incomingDialog(alice1.page).waitFor(),
      incomingDialog(alice2.page).waitFor(),
    ]);
    await alice2.page.getByRole('button', { name: 'Accept with video' }).click();
    await incomingDialog(alice1.page).waitFor({ state: 'detached', timeout: 10_000 });
    await expectNotice(alice1.page, 'Answered on another device: the call from bob.');
    await Promise.all([waitConnected(caller.page), waitConnected(alice2.page)]);
    await Promise.all([expectFlowing(alice2.page, 'video'), expectFlowing(caller.page, 'video')]);
    // "Move call here" on the laptop (node a) takes the call from the phone (node b).
    await alice1.page.getByRole('button', { name: 'Move call here' }).click();
    await waitConnected(alice1.page, 15_000);
    await alice2.page.getByRole('heading', { name: 'Online now' }).waitFor();
    await Promise.all([expectFlowing(alice1.page, 'video'), expectFlowing(caller.page, 'video')]);
    await hangUp(caller, alice1);
    assertClean(alice1, alice2, caller);
  });
});
