/**
 * The web app's front door: signing in, names the server refuses, the online list with live
 * presence and search, and the warning on pages that cannot use camera and microphone.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  closeAll,
  launchBrowser,
  onlineEntry,
  openPerson,
  screenshot,
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

describe('web app: sign in and presence', () => {
  it('shows the sign-in form, refuses a name with markup cleanly, and signs in', async () => {
    const visitor = await openPerson(browser, server.url, 'visitor');
    const { page } = visitor;
    // The page runs under the server's real CSP (no inline script or style), which every test
    // checks for violations (assertClean).
    const response = await page.request.get(server.url);
    expect(response.headers()['content-security-policy']).toMatch(/script-src 'self'.*style-src 'self'/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Your name').waitFor();
    await screenshot(page, 'signin');

    // Names are letters, digits, . _ - and spaces: markup is refused, and shown only as text.
    const hostile = '<img src=x onerror=window.__pwned=1>';
    await page.getByLabel('Your name').fill(hostile);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/cannot be used/);
    expect(await page.getByLabel('Your name').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Your name').inputValue()).toBe(hostile);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();

    // Correcting the name signs in; the home screen names the person.
    await page.getByLabel('Your name').fill('Visitor 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Online now' }).waitFor();
    expect(await page.locator('.me-name').textContent()).toBe('Visitor 1');
    assertClean(visitor);
    await closeAll(visitor);
  });

  it('refuses a name that is already online, whatever its case', async () => {
    const first = await signIn(browser, server, 'dana');
    const second = await openPerson(browser, server.url, 'DANA');
    await second.page.getByLabel('Your name').fill('DANA');
    await second.page.getByRole('button', { name: 'Sign in' }).click();
    await second.page.getByRole('alert').waitFor();
    expect(await second.page.getByRole('alert').textContent()).toMatch(/already signed in/);
    // Still on the sign-in screen, the button usable again.
    expect(await second.page.getByRole('button', { name: 'Sign in' }).isEnabled()).toBe(true);
    assertClean(first, second);
    await closeAll(first, second);
  });

  it('lists who is online, live, and searches the list', async () => {
    const alice = await signIn(browser, server, 'alice');
    const bob = await signIn(browser, server, 'bob');
    const carol = await signIn(browser, server, 'carol');
    const page = alice.page;

    // Others appear without a reload; nobody sees themselves.
    await onlineEntry(page, 'bob').waitFor();
    await onlineEntry(page, 'carol').waitFor();
    expect(await onlineEntry(page, 'alice').count()).toBe(0);
    expect(await onlineEntry(page, 'bob').locator('.presence').textContent()).toBe('Online');
    expect(await onlineEntry(bob.page, 'alice').count()).toBe(1);

    // Search asks the server and shows only matches.
    await page.getByLabel('Search people online').fill('car');
    await page.waitForFunction(() => document.querySelectorAll('.user-list li.user').length === 1);
    expect(await onlineEntry(page, 'carol').count()).toBe(1);
    await page.getByLabel('Search people online').fill('nobody-here');
    await page.getByText('Nobody online matches').waitFor();
    await page.getByLabel('Search people online').fill('');
    await onlineEntry(page, 'bob').waitFor();

    // Someone leaving disappears from the list.
    await carol.page.getByRole('button', { name: 'Sign out' }).click();
    await carol.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await onlineEntry(page, 'carol').waitFor({ state: 'detached' });

    // The list is keyboard operable: Tab reaches the call buttons with their names.
    await page.getByLabel('Search people online').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('aria-label'));
    expect(focused).toBe('Voice call bob');
    assertClean(alice, bob, carol);
    await closeAll(alice, bob, carol);
  });

  it('warns that calls cannot work on a plain-http LAN address', async () => {
    // lan.test resolves to loopback (see CHROMIUM_ARGS) but is not localhost: not a secure context.
    const person = await openPerson(browser, `http://lan.test:${server.port}/`, 'lan');
    const banner = person.page.locator('[data-banner="insecure"]');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/plain http \(lan\.test:\d+\)/);
    expect(await person.page.evaluate(() => window.isSecureContext)).toBe(false);
    await closeAll(person);
  });
});

describe('web app: a server with passwords', () => {
  let secured: Server;

  beforeAll(async () => {
    secured = await startServer(['--auth', 'password'], { ivy: 'correct horse battery staple' });
  });

  afterAll(async () => {
    await secured?.stop();
  });

  it('asks for the password when the server needs one, and says when it is wrong', async () => {
    const ivy = await openPerson(browser, secured.url, 'ivy');
    const { page } = ivy;
    try {
      await page.getByLabel('Your name').waitFor();
      expect(await page.getByLabel('Password').isVisible()).toBe(false);
      await page.getByLabel('Your name').fill('ivy');
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Refused with invalid_credentials: the password field appears, focused.
      await page.getByLabel('Password').waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('signin-password');
      expect(await page.getByRole('alert').textContent()).toMatch(/needs a password/);

      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong name or password.' }).waitFor();
      expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');

      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Online now' }).waitFor({ timeout: 20_000 });
      assertClean(ivy);
    } finally {
      await closeAll(ivy);
    }
  });
});
