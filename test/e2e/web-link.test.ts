/**
 * Meet by link in the web app: a signed-in person creates and copies a room link; the two people
 * who open it are connected without signing in; a third is told the room is full; a bad link
 * says so.
 */
import type { Browser } from 'playwright-core';
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

    // Opening the link joins at once; the others wait on the home page until their turn.
    const first = await openPerson(browser, link, 'first');
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
      await Promise.all([waitConnected(first.page), waitConnected(second.page)]);
      await Promise.all([expectRemoteVideoPlaying(first.page), expectRemoteVideoPlaying(second.page)]);
      const firstSees = await first.page.locator('.call-peer').textContent();
      const secondSees = await second.page.locator('.call-peer').textContent();
      expect(firstSees).toMatch(/^guest-[0-9a-f]{6}$/);
      expect(secondSees).toMatch(/^guest-[0-9a-f]{6}$/);
      expect(firstSees).not.toBe(secondSees);

      // A third visitor is told the room is full, and when trying again can work.
      await third.page.goto(link);
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
      await first.page.locator('.call-screen[data-state="waiting"]').waitFor();
      await third.page.getByRole('button', { name: 'Try again' }).click();
      await Promise.all([waitConnected(first.page), waitConnected(third.page)]);
      assertClean(host, first, second, third);
    } finally {
      await closeAll(host, first, second, third);
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
