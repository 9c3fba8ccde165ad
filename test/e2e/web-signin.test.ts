/**
 * The web app's front door: signing in, names the server refuses, the online list with live
 * presence and search, and the warning on pages that cannot use camera and microphone.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  callFromList,
  closeAll,
  incomingDialog,
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

  it('stays signed in across a reload, recent calls included', async () => {
    const alice = await signIn(browser, server, 'amy');
    const bob = await signIn(browser, server, 'ben');
    try {
      await onlineEntry(alice.page, 'ben').waitFor();
      await callFromList(alice, 'ben', false);
      await incomingDialog(bob.page).waitFor();
      await bob.page.getByRole('button', { name: 'Decline' }).click();
      const declined = alice.page.locator('.history-item', { hasText: 'ben' }).locator('.history-meta', { hasText: 'Declined' });
      await declined.waitFor();

      await alice.page.reload();
      // Back on the home screen without typing anything, under the same name, and still online.
      await alice.page.getByRole('heading', { name: 'Online now' }).waitFor();
      expect(await alice.page.locator('.me-name').textContent()).toBe('amy');
      await declined.waitFor();
      await onlineEntry(bob.page, 'amy').waitFor();
      assertClean(alice, bob);
    } finally {
      await closeAll(alice, bob);
    }
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

  it('asks for the password at once, because the page asks the server how it signs people in', async () => {
    const ivy = await openPerson(browser, secured.url, 'ivy');
    const { page } = ivy;
    try {
      const config = await page.request.get(`${secured.url}/api/config`);
      expect(await config.json()).toEqual({ auth: 'password', rooms: 'guests' });
      // Both fields from the start: nobody has to fail a sign-in to learn a password is needed.
      await page.getByLabel('Password').waitFor();
      await page.getByText('sign in with the name and password you were given').waitFor();
      await screenshot(page, 'signin-password');
      await page.getByLabel('Your name').fill('ivy');
      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong name or password.' }).waitFor();
      expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');

      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Online now' }).waitFor({ timeout: 20_000 });
      // Meeting links on this server let guests in too (--rooms guests, the default), and the
      // home page says so (web-link.test.ts covers --rooms accounts and off).
      await page.getByText('People without an account here join as guests, shown with “(guest)”.').waitFor();
      assertClean(ivy);
    } finally {
      await closeAll(ivy);
    }
  });

  it('keeps a person signed in across a reload until they sign out, and says when the session ended', async () => {
    const ivy = await openPerson(browser, secured.url, 'ivy');
    const { page } = ivy;
    try {
      await page.getByLabel('Your name').fill('ivy');
      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Online now' }).waitFor({ timeout: 20_000 });
      // The browser keeps a session token, never the password.
      const stored = await page.evaluate(() => JSON.stringify(Object.values(localStorage)));
      expect(stored).not.toContain('correct horse');
      // An open page renews its token before it expires (POST /api/session); nobody else can.
      const token = await page.evaluate(() => (JSON.parse(localStorage.getItem('callwire:session') ?? '{}') as { token?: string }).token);
      const renewed = await page.request.post(`${secured.url}/api/session`, { headers: { authorization: `Bearer ${token}` } });
      expect(renewed.status()).toBe(200);
      expect(((await renewed.json()) as { sessionToken?: unknown }).sessionToken).toEqual(expect.any(String));
      expect((await page.request.post(`${secured.url}/api/session`)).status()).toBe(401);

      await page.reload();
      await page.getByRole('heading', { name: 'Online now' }).waitFor();
      expect(await page.locator('.me-name').textContent()).toBe('ivy');

      // Signing out forgets the session: a reload shows the form, with the name filled in.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.reload();
      await page.getByLabel('Password').waitFor();
      expect(await page.getByLabel('Your name').inputValue()).toBe('ivy');

      // A token the server no longer takes (here: altered) ends the session with a word why. A
      // reload of this tab would take its live session back (the SDK's resume token, kept for
      // the tab: keepAcrossReload), so the saved token is what a new tab signs in with.
      await page.getByLabel('Password').fill('correct horse battery staple');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Online now' }).waitFor({ timeout: 20_000 });
      await page.evaluate(() => {
        const saved = JSON.parse(localStorage.getItem('callwire:session') ?? '{}') as { token?: string };
        localStorage.setItem('callwire:session', JSON.stringify({ ...saved, token: `${saved.token ?? ''}x` }));
      });
      const tab = await ivy.context.newPage();
      await tab.goto(secured.url);
      await tab.getByRole('alert').filter({ hasText: 'Your session has ended. Sign in again.' }).waitFor();
      expect(await tab.getByLabel('Your name').inputValue()).toBe('ivy');
      assertClean(ivy);
    } finally {
      await closeAll(ivy);
    }
  });
});

describe('web app: a server whose own site signs people in (jwt)', () => {
  let jwtServer: Server;

  beforeAll(async () => {
    jwtServer = await startServer(['--auth', 'jwt', '--jwt-secret', 'a-test-secret-that-is-long-enough-0123456789']);
  });

  afterAll(async () => {
    await jwtServer?.stop();
  });

  it('explains that the site signs people in instead of showing a form that cannot work', async () => {
    const visitor = await openPerson(browser, jwtServer.url, 'visitor');
    const { page } = visitor;
    try {
      await page.getByText('People sign in to this callwire server through its own website.').waitFor();
      expect(await page.getByLabel('Your name').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
      assertClean(visitor);
    } finally {
      await closeAll(visitor);
    }
  });
});
