import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); browsers are never downloaded here. */
export const chromiumPath = process.env['CALLWIRE_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Flags known to work on these machines (shared/TESTING.md): headless as root, no network
 * chatter of its own, a fake camera (640x480 test pattern) and microphone (a beep) granted
 * without a prompt, and ICE allowed to use loopback addresses, which are all a test namespace has.
 */
export const fakeMediaFlags: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

export async function launchChromium(extraFlags: readonly string[] = []): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: [...fakeMediaFlags, ...extraFlags],
    timeout: 30_000,
  });
}
