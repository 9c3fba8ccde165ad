/**
 * Chat and file transfer over the call's data channel, in the web app: messages both ways
 * (markup in them stays text), a 5 MB file each way, accepted by its receiver first and saved
 * through the download link with the same SHA-256 as the original, a file declined, a file above
 * the receiver's limit refused without asking (both sides say so), and a transfer cancelled
 * midway.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertClean,
  callFromList,
  closeAll,
  incomingDialog,
  launchBrowser,
  onlineEntry,
  screenshot,
  sha256,
  sha256File,
  signIn,
  startServer,
  waitConnected,
  type Person,
  type Server,
} from './web-harness.js';
import { runAxe } from './support/axe.js';

let server: Server;
let browser: Browser;
let alice: Person;
let bob: Person;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'callwire-files-'));
  server = await startServer();
  browser = await launchBrowser();
  alice = await signIn(browser, server, 'alice');
  bob = await signIn(browser, server, 'bob');
  // Alice takes files up to 10 MB only (a setting on the home page; 100 MB by default).
  expect(await alice.page.getByLabel('Accept files up to').inputValue()).toBe(String(100 * 1024 * 1024));
  await alice.page.getByLabel('Accept files up to').selectOption({ label: '10 MB' });
  await alice.page.getByText('Saved: files up to 10 MB are offered to you').waitFor();
  await onlineEntry(alice.page, 'bob').waitFor();
  // A voice call: the data channel is what matters here, and it keeps the CPU for the files.
  await callFromList(alice, 'bob', false);
  await incomingDialog(bob.page).waitFor();
  await bob.page.getByRole('button', { name: 'Accept voice only' }).click();
  await Promise.all([waitConnected(alice.page), waitConnected(bob.page)]);
});

afterAll(async () => {
  await closeAll(alice, bob);
  await browser?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function openChat(page: Page): Promise<void> {
  const button = page.getByRole('button', { name: /^Chat/ });
  if ((await button.getAttribute('aria-expanded')) !== 'true') await button.click();
  await page.getByLabel('Message', { exact: true }).waitFor();
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.keyboard.press('Enter');
}

function chatTexts(page: Page): Promise<string[]> {
  return page.locator('.chat-log .message-text').allTextContents();
}

/** Write `bytes` random bytes to a file and return its path and SHA-256. */
function randomFile(name: string, bytes: number): { path: string; hash: string } {
  const data = randomBytes(bytes);
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, hash: sha256(data) };
}

async function sendFile(page: Page, path: string): Promise<void> {
  // The paperclip button opens the file picker; choosing files is what a person does next.
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Send a file' }).click();
  await (await chooser).setFiles(path);
}

/** The receiver's row of an offered file: name and size, then Accept. */
async function acceptOffer(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: `Accept ${name}` }).click();
}

/** Wait for the received file's link, click it, and hash what the browser saved. */
async function downloadReceived(page: Page, name: string): Promise<string> {
  const link = page.getByRole('link', { name: `Save ${name}` });
  await link.waitFor({ timeout: 60_000 });
  const download = page.waitForEvent('download');
  await link.click();
  const saved = await (await download).path();
  return sha256File(saved);
}

describe('web app: chat and files', () => {
  it('chat works both ways, and markup in messages is shown as text', async () => {
    await openChat(alice.page);
    await bob.page.getByRole('button', { name: 'Chat', exact: true }).waitFor();

    const hostile = '<img src=x onerror="window.__pwned=1"> hi bob <b>bold?</b>';
    await say(alice.page, hostile);
    // Bob's chat button counts unread messages (a badge, and in its name) before he opens the panel.
    await bob.page.getByRole('button', { name: 'Chat, 1 unread message' }).locator('.unread-count', { hasText: '1' }).waitFor();
    await openChat(bob.page);
    await bob.page.locator('.chat-log .message-peer .message-text').first().waitFor();
    expect(await chatTexts(bob.page)).toEqual([hostile]);
    expect(await bob.page.locator('.chat-log img, .chat-log b').count()).toBe(0);
    expect(await bob.page.locator('.chat-log .message-author').first().textContent()).toBe('alice');

    await say(bob.page, 'hello alice & friends 👋');
    await alice.page.locator('.chat-log .message-peer .message-text').first().waitFor();
    expect(await chatTexts(alice.page)).toEqual([hostile, 'hello alice & friends 👋']);
    for (const p of [alice.page, bob.page]) {
      expect(await p.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    }
    assertClean(alice, bob);
  });

  it('a 5 MB file goes each way, with a progress bar and a download of identical bytes', async () => {
    const toBob = randomFile('report.bin', 5 * 1024 * 1024);
    const toAlice = randomFile('photo <1>.bin', 5 * 1024 * 1024);

    await sendFile(alice.page, toBob.path);
    await sendFile(bob.page, toAlice.path);
    // Nothing is sent before the receiver accepts: the sender waits, the receiver is asked with
    // the name and size.
    await alice.page.locator('.file-message', { hasText: 'report.bin' }).getByText('Waiting for bob to accept…').waitFor();
    const offer = bob.page.locator('.file-message', { hasText: 'report.bin' });
    await offer.getByText('alice wants to send you this file.').waitFor();
    expect(await offer.locator('.file-size').textContent()).toBe('5.0 MB');
    expect(await offer.getByRole('progressbar').isVisible()).toBe(false);
    await screenshot(bob.page, 'chat-file-offer');
    const axe = await runAxe(bob.page);
    expect(axe.serious, JSON.stringify(axe.serious)).toEqual([]);
    await acceptOffer(bob.page, 'report.bin');
    await acceptOffer(alice.page, 'photo <1>.bin');
    // Both sides show the transfer with its size and a progress bar while it runs.
    await alice.page.getByRole('progressbar', { name: 'Sending report.bin' }).or(alice.page.getByText('Sent', { exact: true })).first().waitFor();

    const [bobHash, aliceHash] = await Promise.all([
      downloadReceived(bob.page, 'report.bin'),
      downloadReceived(alice.page, 'photo <1>.bin'),
    ]);
    expect(bobHash).toBe(toBob.hash);
    expect(aliceHash).toBe(toAlice.hash);
    await alice.page.locator('.file-message', { hasText: 'report.bin' }).getByText('Sent', { exact: true }).waitFor();
    await bob.page.locator('.file-message', { hasText: 'photo <1>.bin' }).getByText('Sent', { exact: true }).waitFor();

    await screenshot(bob.page, 'chat-and-files');
    assertClean(alice, bob);
  });

  it('a declined file is not sent, and the sender sees that it was declined', async () => {
    const unwanted = randomFile('unwanted.bin', 64 * 1024);
    await sendFile(alice.page, unwanted.path);
    const offer = bob.page.locator('.file-message', { hasText: 'unwanted.bin' });
    await offer.getByRole('button', { name: 'Decline unwanted.bin' }).click();
    await offer.getByText('Declined', { exact: true }).waitFor();
    await alice.page.locator('.file-message', { hasText: 'unwanted.bin' }).getByText('bob declined this file.').waitFor();
    expect(await bob.page.getByRole('link', { name: 'Save unwanted.bin' }).count()).toBe(0);
    expect(await offer.getByRole('button', { name: 'Accept unwanted.bin' }).count()).toBe(0);
    assertClean(alice, bob);
  });

  it('a file above the receiver’s limit is refused without asking, with the limit on both sides', async () => {
    const big = randomFile('too-big.bin', 11 * 1024 * 1024);
    await sendFile(bob.page, big.path);
    const refused = alice.page.locator('.file-message', { hasText: 'too-big.bin' });
    await refused.getByText('Refused: larger than the 10 MB you accept').waitFor();
    expect(await refused.getByRole('button', { name: 'Accept too-big.bin' }).count()).toBe(0);
    await bob.page.locator('.file-message', { hasText: 'too-big.bin' }).getByText('Not sent: alice accepts files up to 10 MB.').waitFor();
    expect(await alice.page.getByRole('link', { name: 'Save too-big.bin' }).count()).toBe(0);
    await screenshot(alice.page, 'chat-file-refused');
    assertClean(alice, bob);
  });

  it('a transfer cancelled midway stops on both sides and leaves no download', async () => {
    const big = randomFile('huge.bin', 40 * 1024 * 1024);
    await sendFile(alice.page, big.path);
    const row = alice.page.locator('.file-message', { hasText: 'huge.bin' });
    await row.waitFor();
    await acceptOffer(bob.page, 'huge.bin');
    // Cancel from the receiving side as soon as data is arriving.
    const incoming = bob.page.locator('.file-message', { hasText: 'huge.bin' });
    await incoming.waitFor();
    await bob.page.waitForFunction(() => {
      const bars = [...document.querySelectorAll<HTMLProgressElement>('.file-message progress')];
      return bars.some((b) => b.getAttribute('aria-label') === 'Receiving huge.bin' && b.value > 0);
    });
    await incoming.getByRole('button', { name: 'Cancel transfer of huge.bin' }).click();
    await incoming.getByText('Cancelled', { exact: true }).waitFor();
    await row.getByText('Cancelled', { exact: true }).waitFor();
    expect(await bob.page.getByRole('link', { name: 'Save huge.bin' }).count()).toBe(0);

    // The call and its chat carry on.
    await say(alice.page, 'still here?');
    await bob.page.locator('.chat-log .message-text', { hasText: 'still here?' }).waitFor();
    assertClean(alice, bob);
  });

  it('after hang-up the transcript stays until "Done", so received files can still be saved', async () => {
    await alice.page.getByRole('button', { name: 'Hang up' }).click();
    await bob.page.locator('.call-screen[data-state="ended"]').waitFor();
    // The screen says how the call ended, once: no toast repeating it.
    await bob.page.locator('.voice-status', { hasText: /^Call with alice ended \(\d+:\d\d\)\.$/ }).waitFor();
    expect(await bob.page.locator('.notices .notice-text', { hasText: 'Call with alice ended' }).count()).toBe(0);
    expect(await bob.page.getByRole('link', { name: 'Save report.bin' }).count()).toBe(1);
    await bob.page.getByRole('button', { name: 'Done' }).click();
    await bob.page.getByRole('heading', { name: 'Online now' }).waitFor();
    assertClean(alice, bob);
  });
});
