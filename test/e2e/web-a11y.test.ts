/**
 * axe-core on every main screen of the web app, at desktop and phone sizes: sign-in, home,
 * incoming call, in a call (also on hold, both sides), chat, a meeting link's pre-join and
 * waiting screens, and (on a server with passwords) the devices dialog. Any serious
 * or critical violation fails; the findings per screen are written to
 * test-results/axe-results.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAxe, type AxeSummary } from './support/axe.js';
import {
  REPO,
  assertClean,
  callFromList,
  closeAll,
  incomingDialog,
  launchBrowser,
  onlineEntry,
  openPerson,
  signIn,
  startServer,
  waitConnected,
  type Person,
  type PersonOptions,
  type Server,
} from './web-harness.js';

let server: Server;
let browser: Browser;
const report: Record<string, { serious: number; other: string[] }> = {};

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  const dir = join(REPO, 'test-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'axe-results.json'), `${JSON.stringify(report, null, 2)}\n`);
});

const SIZES: Array<[string, PersonOptions]> = [
  ['desktop', {}],
  ['phone', { viewport: { width: 390, height: 844 }, mobile: true }],
];

/** Serious and critical findings of the current test, asserted at its end so one run shows all. */
let failures: string[] = [];

async function check(person: Person, screen: string, size: string): Promise<void> {
  const summary: AxeSummary = await runAxe(person.page);
  report[`${screen} (${size})`] = {
    serious: summary.serious.length,
    other: summary.other.map((f) => `${f.impact} ${f.id}: ${f.help}`),
  };
  for (const f of summary.serious) failures.push(`${screen} at ${size}: ${f.impact} ${f.id} (${f.help}) at ${f.targets.join(', ')}`);
}

describe('web app: accessibility (axe-core)', () => {
  for (const [size, opts] of SIZES) {
    it(`has no serious or critical violations on any main screen (${size})`, async () => {
      failures = [];
      const me = `ana-${size}`;
      const other = `ben-${size}`;
      const visitor = await openPerson(browser, server.url, me, opts);
      let caller: Person | undefined;
      let guest: Person | undefined;
      try {
        await visitor.page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await check(visitor, 'sign-in', size);
        await visitor.page.getByLabel('Your name').fill(me);
        await visitor.page.getByRole('button', { name: 'Sign in' }).click();
        await visitor.page.getByRole('heading', { name: 'Online now' }).waitFor();
        caller = await signIn(browser, server, other);
        await onlineEntry(visitor.page, other).waitFor();
        await check(visitor, 'home', size);

        await callFromList(caller, me, true);
        await incomingDialog(visitor.page).waitFor();
        await check(visitor, 'incoming', size);
        await visitor.page.getByRole('button', { name: 'Accept with video' }).click();
        await Promise.all([waitConnected(visitor.page), waitConnected(caller.page)]);
        await check(visitor, 'in-call', size);
        await visitor.page.getByRole('button', { name: 'Hold', exact: true }).click();
        await caller.page.locator('[data-flag="hold"]').waitFor();
        await check(visitor, 'on-hold', size);
        await check(caller, 'held', size);
        await visitor.page.getByRole('button', { name: 'Hold', exact: true }).click();

        await visitor.page.getByRole('button', { name: 'Chat', exact: true }).click();
        await visitor.page.getByLabel('Message', { exact: true }).fill('hello');
        await visitor.page.keyboard.press('Enter');
        await visitor.page.locator('.chat-log .message-text', { hasText: 'hello' }).waitFor();
        await check(visitor, 'chat', size);
        await caller.page.getByRole('button', { name: 'Hang up' }).click();

        guest = await openPerson(browser, `${server.url}/r/a11y${size}`, `guest-${size}`, opts);
        await guest.page.getByRole('heading', { name: 'Ready to join?' }).waitFor();
        await guest.page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('.prejoin-video')?.videoWidth ?? 0) > 0);
        await check(guest, 'pre-join', size);
        await guest.page.getByLabel('Your name').fill(`Guest ${size}`);
        await guest.page.getByRole('button', { name: 'Join' }).click();
        await guest.page.locator('.call-screen[data-state="waiting"]').waitFor();
        await check(guest, 'room', size);
        expect(failures).toEqual([]);
        assertClean(visitor, caller, guest);
      } finally {
        await closeAll(visitor, caller, guest);
      }
    });
  }
});

describe('web app: accessibility of the devices dialog (a server with passwords)', () => {
  const PASSWORD = 'a11y correct horse';
  let secured: Server;

  beforeAll(async () => {
    secured = await startServer(['--auth', 'password'], { cleo: PASSWORD, dora: PASSWORD });
  });

  afterAll(async () => {
    await secured?.stop();
  });

  async function signInCleo(opts: PersonOptions, name = 'cleo'): Promise<Person> {
    const person = await openPerson(browser, secured.url, name, opts);
    await person.page.getByLabel('Your name').fill(name);
    await person.page.getByLabel('Password').fill(PASSWORD);
    await person.page.getByRole('button', { name: 'Sign in' }).click();
    await person.page.getByRole('heading', { name: 'Online now' }).waitFor({ timeout: 20_000 });
    return person;
  }

  for (const [index, [size, opts]] of SIZES.entries()) {
    it(`has no serious or critical violations in the devices dialog, listing and renaming (${size})`, async () => {
      failures = [];
      // Two devices, so the list has one to sign out as well as this one. One account per
      // size: a closed page's session stays resumable for the grace period, still a device.
      const name = index === 0 ? 'cleo' : 'dora';
      const here = await signInCleo(opts, name);
      let there: Person | undefined;
      try {
        there = await signInCleo({}, name);
        const { page } = here;
        await page.getByRole('button', { name: 'Devices' }).click();
        const dialog = page.getByRole('dialog', { name: 'Your devices' });
        await expect.poll(() => dialog.locator('.device').count()).toBe(2);
        await check(here, 'devices', size);
        await dialog.locator('.device[data-current="true"]').getByRole('button', { name: /^Rename/ }).click();
        await dialog.getByRole('textbox').waitFor();
        await check(here, 'devices-rename', size);
        expect(failures).toEqual([]);
        assertClean(here, there);
      } finally {
        await closeAll(here, there);
      }
    });
  }
});
