/**
 * The SDK's data channels in real Chromium: chat both ways, a 5 MB file both ways at once
 * with matching SHA-256, and transfers cancelled by the receiver and by the sender.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectCall, openSdkSuite, type SdkPages, type SdkSuite } from './fixtures/sdk/support.js';

let suite: SdkSuite;
let pages: SdkPages;

// One call for the whole file: chat and files share the call's data channels, and each test
// also proves the channels are still healthy after the previous one.
beforeAll(async () => {
  suite = await openSdkSuite();
  pages = await suite.pair();
  await connectCall(pages, { audio: true, video: false });
});
afterAll(async () => {
  await suite?.close();
});

describe('SDK chat and file transfer in Chromium', () => {
  it('chat goes both ways, in order, with the sender stamped', async () => {
    const { alice, bob, aliceName, bobName } = pages;
    await alice.evaluate(() => {
      window.cw.sendChat('hello bob');
      window.cw.sendChat('héllo again ✓ 👋');
    });
    await bob.waitForFunction(() => window.cw.chats.length === 2);
    const got = await bob.evaluate(() => window.cw.chats.map(({ text, from }) => ({ text, from })));
    expect(got).toEqual([
      { text: 'hello bob', from: aliceName },
      { text: 'héllo again ✓ 👋', from: aliceName },
    ]);

    await bob.evaluate(() => window.cw.sendChat('hi alice'));
    await alice.waitForFunction(() => window.cw.chats.length === 1);
    expect(await alice.evaluate(() => window.cw.chats[0])).toMatchObject({
      text: 'hi alice',
      from: bobName,
    });
  });

  it('a 5 MB file goes both ways at once, intact', async () => {
    const { alice, bob } = pages;
    const size = 5 * 1024 * 1024;
    const [fromAlice, fromBob] = await Promise.all([
      alice.evaluate((n) => window.cw.sendRandomFile(n, 'alice.bin'), size),
      bob.evaluate((n) => window.cw.sendRandomFile(n, 'bob.bin'), size),
    ]);
    for (const [receiver, sender, sent] of [
      [bob, alice, fromAlice],
      [alice, bob, fromBob],
    ] as const) {
      await receiver.waitForFunction((id) => window.cw.received[id]?.status === 'done', sent.id, {
        timeout: 60_000,
      });
      const record = await receiver.evaluate((id) => window.cw.received[id]!, sent.id);
      expect(record).toMatchObject({ size, progress: size, sha256: sent.sha256 });
      expect(record.progressEvents).toBeGreaterThan(10);
      // The sender's transfer settles only once the receiver confirmed the hash.
      await sender.waitForFunction((id) => window.cw.sent[id]?.status === 'done', sent.id);
      expect(await sender.evaluate((id) => window.cw.sent[id]!.progress, sent.id)).toBe(size);
    }
  });

  it('the receiver cancels a transfer: both sides see transfer_cancelled', async () => {
    const { alice, bob } = pages;
    const { id } = await alice.evaluate(() =>
      window.cw.sendRandomFile(40 * 1024 * 1024, 'big.bin'),
    );
    await bob.waitForFunction((i) => (window.cw.received[i]?.progress ?? 0) > 1024 * 1024, id, {
      polling: 20,
    });
    await bob.evaluate((i) => window.cw.cancelTransfer(i), id);
    await alice.waitForFunction((i) => window.cw.sent[i]?.status === 'failed', id, {
      timeout: 30_000,
    });
    expect(await alice.evaluate((i) => window.cw.sent[i]!.code, id)).toBe('transfer_cancelled');
    expect(await alice.evaluate((i) => window.cw.sent[i]!.progress, id)).toBeLessThan(
      40 * 1024 * 1024,
    );
    expect(await bob.evaluate((i) => window.cw.received[i]!, id)).toMatchObject({
      status: 'failed',
      code: 'transfer_cancelled',
    });
  });

  it('the sender cancels a transfer: the receiver sees transfer_cancelled; the channel still works', async () => {
    const { alice, bob } = pages;
    const { id } = await bob.evaluate(() => window.cw.sendRandomFile(40 * 1024 * 1024, 'big2.bin'));
    await alice.waitForFunction((i) => (window.cw.received[i]?.progress ?? 0) > 1024 * 1024, id, {
      polling: 20,
    });
    await bob.evaluate((i) => window.cw.cancelTransfer(i), id);
    await bob.waitForFunction((i) => window.cw.sent[i]?.status === 'failed', id);
    expect(await bob.evaluate((i) => window.cw.sent[i]!, id)).toMatchObject({
      status: 'failed',
      code: 'transfer_cancelled',
    });
    await alice.waitForFunction((i) => window.cw.received[i]?.status === 'failed', id, {
      timeout: 30_000,
    });
    expect(await alice.evaluate((i) => window.cw.received[i]!.code, id)).toBe('transfer_cancelled');

    const small = await bob.evaluate(() => window.cw.sendRandomFile(100_000, 'after.bin'));
    await alice.waitForFunction((i) => window.cw.received[i]?.status === 'done', small.id);
    expect(await alice.evaluate((i) => window.cw.received[i]!.sha256, small.id)).toBe(small.sha256);
    await bob.evaluate(() => window.cw.sendChat('still here'));
    await alice.waitForFunction(() => window.cw.chats.some((c) => c.text === 'still here'));
  });
});
