/**
 * The ICE servers of the login reply are what the SDK's calls use: with callwire handing out
 * TURN credentials for a private coturn and the page forcing relay-only ICE, the call still
 * connects, video flows, and the SDK's stats report the relayed path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoturn, type Coturn } from './support/coturn.js';
import { assertLoopbackOnlyNetwork } from './support/ports.js';
import {
  connectCall,
  expectRemoteVideoPlaying,
  openSdkSuite,
  type SdkPages,
  type SdkSuite,
} from './fixtures/sdk/support.js';

let coturn: Coturn;
let suite: SdkSuite;
let pages: SdkPages;

beforeAll(async () => {
  assertLoopbackOnlyNetwork();
  coturn = await startCoturn();
  // No iceServers here: the SDK takes them from the server's login reply.
  suite = await openSdkSuite(['--turn-secret', coturn.secret, '--turn-urls', coturn.url], {
    iceTransportPolicy: 'relay',
  });
  pages = await suite.pair();
});
afterAll(async () => {
  await suite?.close();
  await coturn?.stop();
});

describe('SDK calls through TURN', () => {
  it('relays media with the credentials from the login reply', async () => {
    const { alice, bob, aliceName } = pages;
    await connectCall(pages, { audio: true, video: true });
    await expectRemoteVideoPlaying(bob);
    await expectRemoteVideoPlaying(alice);

    const servers = await alice.evaluate(() => window.cw.iceServers());
    const turn = servers.find((s) => [s.urls].flat().includes(coturn.url));
    expect(turn?.username).toMatch(new RegExp(`^\\d+:${aliceName}$`));
    expect(turn?.credential).toBeTruthy();

    await alice.waitForFunction(() =>
      window.cw.stats.some((s) => s.path === 'relay' && s.bitrateInKbps > 50),
    );
    expect(await alice.evaluate(() => window.cw.stats.some((s) => s.path === 'direct'))).toBe(
      false,
    );
  });
});
