/**
 * Meet by link in the web app: a signed-in person creates and copies a room link; the two people
 * who open it are connected without signing in; a third is told the room is full; a bad link
 * says so. On a server with accounts the operator's rule decides (`--rooms`): guests join under
 * a marked name that cannot be an account's, or only accounts may join, or links are off.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  closeAll,
  expectRemoteVideoPlaying,
  launchBrowser,
  openPerson,
  screenshot,
  signIn,
  startServer,
  waitConnected,
  type Server,
} from './web-harness.js';
import { runAxe } from './support/axe.js';

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

/** On the pre-join screen: type the name others will see, and join. */
async function joinAs(page: Page, name: string): Promise<void> {
  await page.getByRole('heading', { name: 'Ready to join?' }).waitFor();
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
}

describe('web app: meet by link', () => {
  it('connects the two people who open a copied link, without signing in', async () => {
    const host = await signIn(browser, server, 'hannah');
    await host.page.getByRole('button', { name: 'Create meeting link' }).click();
    await host.page.getByText('Link copied.').waitFor();
    const link = await host.page.getByLabel('Meeting link').inputValue();
    expect(link).toMatch(new RegExp(`^${server.url}/r/[A-Za-z0-9]{12}$`));
    // "Copy link" put exactly that on the clipboard.
    await host.page.getByRole('button', { name: 'Copy link' }).click();
    expect(await host.page.evaluate(() => navigator.clipboard.readText())).toBe(link);

    // Opening the link shows the pre-join screen; Join joins. The others wait on the home page
    // until their turn.
    const first = await openPerson(browser, link, 'first');
    await joinAs(first.page, 'Fern');
    const second = await openPerson(browser, server.url, 'second');
    const third = await openPerson(browser, server.url, 'third');
    try {
      // The first one waits, with the link at hand to share.
      await first.page.locator('.call-screen[data-state="waiting"]').waitFor();
      await first.page.getByText('Waiting for the other person to open the link').first().waitFor();
      expect(await first.page.getByLabel('Meeting link').inputValue()).toBe(link);
      await screenshot(first.page, 'meeting-waiting');

      // The second one opening the link connects both, with video both ways, as guests.
      await second.page.goto(link);
      await joinAs(second.page, 'Gus');
      await Promise.all([waitConnected(first.page), waitConnected(second.page)]);
      await Promise.all([expectRemoteVideoPlaying(first.page), expectRemoteVideoPlaying(second.page)]);
      // Each sees the name the other typed.
      const firstSees = await first.page.locator('.call-peer').textContent();
      expect(firstSees).toBe('Gus');
      expect(await second.page.locator('.call-peer').textContent()).toBe('Fern');

      // A third visitor is told the room is full, and when trying again can work.
      await third.page.goto(link);
      await joinAs(third.page, 'Hal');
      await third.page.getByRole('heading', { name: 'This meeting is full' }).waitFor();
      await third.page.getByText('Try again when one of them has left.').waitFor();
      expect(await third.page.getByText('Rejoin to wait').count()).toBe(0);
      await screenshot(third.page, 'meeting-full');

      // The second leaves: the first is told, and can wait for someone else.
      await second.page.getByRole('button', { name: 'Hang up' }).click();
      await second.page.getByRole('heading', { name: 'You left the meeting' }).waitFor();
      await first.page.getByRole('heading', { name: 'The meeting ended' }).waitFor();
      await first.page.getByText(`${firstSees} left the meeting.`, { exact: false }).waitFor();
      await first.page.getByRole('button', { name: 'Rejoin' }).click();
      // Back through the pre-join screen, the name kept.
      expect(await first.page.getByLabel('Your name').inputValue()).toBe('Fern');
      await first.page.getByRole('button', { name: 'Join' }).click();
      await first.page.locator('.call-screen[data-state="waiting"]').waitFor();
      await third.page.getByRole('button', { name: 'Try again' }).click();
      await third.page.getByRole('button', { name: 'Join' }).click();
      await Promise.all([waitConnected(first.page), waitConnected(third.page)]);
      assertClean(host, first, second, third);
    } finally {
      await closeAll(host, first, second, third);
    }
  });

  it('asks first: a name (remembered), a camera preview, a microphone level, devices, camera and microphone off', async () => {
    const room = `prejoin${Date.now()}`;
    const link = `${server.url}/r/${room}`;
    const vera = await openPerson(browser, link, 'vera');
    const wes = await openPerson(browser, link, 'wes');
    try {
      const { page } = vera;
      await page.getByRole('heading', { name: 'Ready to join?' }).waitFor();
      // Nobody is named for them, and nothing is sent before Join.
      expect(await page.getByLabel('Your name').inputValue()).toBe('');
      await page.waitForFunction(() => {
        const v = document.querySelector<HTMLVideoElement>('.prejoin-video');
        return !!v && v.videoWidth > 0 && v.currentTime > 0;
      });
      // The fake microphone's beep moves the level meter.
      await page.waitForFunction(() => (document.querySelector<HTMLMeterElement>('meter[aria-label="Microphone level"]')?.value ?? 0) > 0.01);
      expect(await page.getByLabel('Microphone', { exact: true }).locator('option').count()).toBeGreaterThanOrEqual(1);
      expect(await page.getByLabel('Camera', { exact: true }).locator('option').count()).toBeGreaterThanOrEqual(1);
      await screenshot(page, 'meeting-prejoin');

      await page.getByRole('button', { name: 'Join' }).click();
      await page.getByRole('alert').filter({ hasText: 'Enter the name the other person will see.' }).waitFor();

      // Camera off and microphone muted before joining.
      await page.getByRole('button', { name: 'Turn camera off' }).click();
      await page.getByText('Your camera is off').waitFor();
      expect(await page.locator('.prejoin-video').isVisible()).toBe(false);
      await page.getByRole('button', { name: 'Mute microphone' }).click();
      expect(await page.getByRole('button', { name: 'Microphone muted' }).getAttribute('aria-pressed')).toBe('true');
      await page.waitForFunction(() => document.querySelector<HTMLMeterElement>('meter[aria-label="Microphone level"]')?.value === 0);

      await page.getByLabel('Your name').fill('Vera');
      await page.getByRole('button', { name: 'Join' }).click();
      await page.locator('.call-screen[data-state="waiting"]').waitFor();
      await joinAs(wes.page, 'Wes');
      await Promise.all([waitConnected(page), waitConnected(wes.page)]);
      // Wes sees Vera by name, muted, without a picture; Vera sends no camera.
      expect(await wes.page.locator('.call-peer').textContent()).toBe('Vera');
      await wes.page.locator('.peer-flags li', { hasText: 'Vera is muted' }).waitFor();
      expect(await wes.page.locator('.call-screen').getAttribute('data-layout')).toBe('voice');
      expect(await page.locator('.local-video').isVisible()).toBe(false);

      // The name is remembered in this browser.
      await page.getByRole('button', { name: 'Hang up' }).click();
      await page.reload();
      await page.getByRole('heading', { name: 'Ready to join?' }).waitFor();
      expect(await page.getByLabel('Your name').inputValue()).toBe('Vera');
      assertClean(vera, wes);
    } finally {
      await closeAll(vera, wes);
    }
  });

  it('a malformed link says it is not valid', async () => {
    const visitor = await openPerson(browser, `${server.url}/r/not%20a%20room!`, 'visitor');
    try {
      await visitor.page.getByRole('heading', { name: 'This meeting link is not valid' }).waitFor();
      await visitor.page.getByRole('button', { name: 'Go to callwire home' }).click();
      await visitor.page.getByRole('heading', { name: 'Sign in' }).waitFor();
      assertClean(visitor);
    } finally {
      await closeAll(visitor);
    }
  });
});

/** No serious or critical axe violation on the screen now showing. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  const { serious } = await runAxe(page);
  expect(serious, `${screen}: ${JSON.stringify(serious)}`).toEqual([]);
}

describe('web app: meet by link on a server with accounts (--rooms guests, the default)', () => {
  let secured: Server;

  beforeAll(async () => {
    secured = await startServer(['--auth', 'password'], { ivy: 'correct horse battery staple' });
  });

  afterAll(async () => {
    await secured?.stop();
  });

  it('a guest picks a name (not an account’s) and joins, marked; an account joins as itself and sees the mark', async () => {
    const link = `${secured.url}/r/guestroom`;
    const guest = await openPerson(browser, link, 'guest');
    const ivy = await openPerson(browser, link, 'ivy');
    try {
      // Before: "Sign in to join this meeting" and no way in without an account.
      const { page } = guest;
      await page.getByRole('heading', { name: 'Ready to join?' }).waitFor();
      await page.getByText('You join as a guest: the other person sees this name marked “(guest)”.').waitFor();
      await expectAccessible(page, 'pre-join as a guest');
      await screenshot(page, 'meeting-prejoin-guest');
      // The account's name, or one that looks like it, is not for guests.
      await page.getByLabel('Your name').fill('IVY');
      await page.getByRole('button', { name: 'Join' }).click();
      await page.getByRole('alert').filter({ hasText: 'That name belongs to somebody with an account here.' }).waitFor();
      expect(await page.getByLabel('Your name').getAttribute('aria-invalid')).toBe('true');
      await page.getByLabel('Your name').fill('Gus');
      await page.getByRole('button', { name: 'Join' }).click();
      await page.locator('.call-screen[data-state="waiting"]').waitFor();

      // Ivy, who has an account, signs in from the pre-join screen and comes back as herself.
      await ivy.page.getByRole('link', { name: 'Sign in to join as yourself' }).click();
      await ivy.page.getByLabel('Your name').fill('ivy');
      await ivy.page.getByLabel('Password').fill('correct horse battery staple');
      await ivy.page.getByRole('button', { name: 'Sign in' }).click();
      await ivy.page.getByText('You join as ivy.').waitFor({ timeout: 20_000 });
      expect(new URL(ivy.page.url()).pathname).toBe('/r/guestroom');
      await ivy.page.getByRole('button', { name: 'Join' }).click();
      await Promise.all([waitConnected(page), waitConnected(ivy.page)]);
      await Promise.all([expectRemoteVideoPlaying(page), expectRemoteVideoPlaying(ivy.page)]);
      expect(await ivy.page.locator('.call-peer').textContent()).toBe('Gus (guest)');
      expect(await page.locator('.call-peer').textContent()).toBe('ivy');
      assertClean(guest, ivy);
    } finally {
      await closeAll(guest, ivy);
    }
  });

  it('the home page says that guests may open the links it makes', async () => {
    const ivy = await openPerson(browser, secured.url, 'ivy-home');
    try {
      await ivy.page.getByLabel('Your name').fill('ivy');
      await ivy.page.getByLabel('Password').fill('correct horse battery staple');
      await ivy.page.getByRole('button', { name: 'Sign in' }).click();
      await ivy.page.getByText('People without an account here join as guests, shown with “(guest)”.').waitFor();
      assertClean(ivy);
    } finally {
      await closeAll(ivy);
    }
  });
});

describe('web app: meet by link for accounts only (--rooms accounts)', () => {
  let secured: Server;

  beforeAll(async () => {
    secured = await startServer(['--auth', 'password', '--rooms', 'accounts'], { ivy: 'correct horse battery staple' });
  });

  afterAll(async () => {
    await secured?.stop();
  });

  it('says an account is needed, and after signing in joins as that account', async () => {
    const link = `${secured.url}/r/teamroom`;
    const ivy = await openPerson(browser, link, 'ivy');
    const { page } = ivy;
    try {
      // Not "Wrong name or password" with only "Try again": what is needed, and the way there.
      await page.getByRole('heading', { name: 'Sign in to join this meeting' }).waitFor();
      await page.getByText('only people with an account join meetings').waitFor();
      expect(await page.getByLabel('Your name').count()).toBe(0);
      await screenshot(page, 'meeting-needs-account');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Your name').fill('ivy');
      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Sign in' }).click();

      // Back at the link, as themselves.
      await page.getByRole('heading', { name: 'Ready to join?' }).waitFor({ timeout: 20_000 });
      expect(new URL(page.url()).pathname).toBe('/r/teamroom');
      await page.getByText('You join as ivy.').waitFor();
      expect(await page.getByLabel('Your name').count()).toBe(0);
      await page.getByRole('button', { name: 'Join' }).click();
      await page.locator('.call-screen[data-state="waiting"]').waitFor();
      // The home page (still signed in) says who may open the links it makes.
      await page.goto(secured.url);
      await page.getByText('Anyone with an account on this server who opens the link joins you in a call.').waitFor();
      assertClean(ivy);
    } finally {
      await closeAll(ivy);
    }
  });
});

describe('web app: meeting links turned off (--rooms off)', () => {
  let closed: Server;

  beforeAll(async () => {
    closed = await startServer(['--rooms', 'off']);
  });

  afterAll(async () => {
    await closed?.stop();
  });

  it('the link says links are off, asks for nothing, and the home page offers none', async () => {
    const visitor = await openPerson(browser, `${closed.url}/r/anyroom`, 'visitor');
    try {
      const { page } = visitor;
      await page.getByRole('heading', { name: 'Meeting links are turned off' }).waitFor();
      expect(await page.getByLabel('Your name').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Join' }).count()).toBe(0);
      await expectAccessible(page, 'links off');
      await screenshot(page, 'meeting-links-off');
      await page.getByRole('button', { name: 'Go to callwire home' }).click();
      await page.getByLabel('Your name').fill('vic');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Online now' }).waitFor();
      expect(await page.getByRole('button', { name: 'Create meeting link' }).count()).toBe(0);
      assertClean(visitor);
    } finally {
      await closeAll(visitor);
    }
  });
});
