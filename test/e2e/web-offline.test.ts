/**
 * The installable app: a manifest, a service worker under the server's CSP, and an app that
 * still opens when its server cannot be reached, saying it is offline, and comes back with it.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClean, closeAll, launchBrowser, openPerson, startServer, type Server } from './web-harness.js';

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

describe('web app: installable, and offline', () => {
  it('opens from its own cache while the server is down, says so, and recovers', async () => {
    const person = await openPerson(browser, server.url, 'olive');
    const { page } = person;
    try {
      const manifest = await page.request.get(`${server.url}/manifest.webmanifest`);
      expect(manifest.ok()).toBe(true);
      expect(await manifest.json()).toMatchObject({ name: 'callwire', start_url: '/', display: 'standalone' });
      expect(await page.locator('link[rel="manifest"]').getAttribute('href')).toBe('/manifest.webmanifest');
      const csp = (await page.request.get(server.url)).headers()['content-security-policy'] ?? '';
      expect(csp).toContain("worker-src 'self'");
      expect(csp).toContain("manifest-src 'self'");

      // The service worker takes over the page (and has cached the shell).
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();

      // The server goes away: a reload still opens the app, which says it is offline.
      await server.kill();
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const banner = page.locator('[data-banner="offline"]');
      await banner.getByText('You are offline.').waitFor();

      // Back online: "Try again" brings the working app back.
      await server.restart();
      await Promise.all([page.waitForEvent('load'), banner.getByRole('button', { name: 'Try again' }).click()]);
      await page.getByLabel('Your name').fill('olive');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Online now' }).waitFor();
      expect(await page.locator('[data-banner="offline"]').count()).toBe(0);
      assertClean(person);
    } finally {
      await closeAll(person);
    }
  });
});
