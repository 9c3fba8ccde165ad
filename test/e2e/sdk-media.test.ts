/**
 * The SDK's media in real Chromium (fake camera and microphone, real WebRTC on loopback):
 * a video call both ways, mute and camera-off seen by the other side, screen sharing,
 * a voice call upgraded to video, device switching, and renegotiation with crossing offers.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  connectCall,
  expectInboundGrowing,
  expectRemoteVideoPlaying,
  openSdkSuite,
  type SdkPages,
  type SdkSuite,
} from './fixtures/sdk/support.js';

let suite: SdkSuite;
let pages: SdkPages;

// One server and one browser for the file; every test gets two new people in new contexts.
beforeAll(async () => {
  suite = await openSdkSuite();
});
afterAll(async () => {
  await suite?.close();
});
beforeEach(async () => {
  pages = await suite.pair();
});
afterEach(async () => {
  await pages?.close();
});

const aspect = ({ width, height }: { width: number; height: number }): string =>
  Math.abs(width / height - 4 / 3) < 0.05
    ? '4:3'
    : Math.abs(width / height - 16 / 9) < 0.05
      ? '16:9'
      : `${width}x${height}`;

const lastPeerMedia = (p: SdkPages['alice']) => p.evaluate(() => window.cw.peerMedia.at(-1));

describe('SDK video calls in Chromium', () => {
  it('video flows both ways and stats are sampled', async () => {
    const { alice, bob } = pages;
    await connectCall(pages, { audio: true, video: true });
    for (const page of [alice, bob]) {
      // The fake camera is 640x480; the encoder may start lower while bandwidth ramps up.
      expect(aspect(await expectRemoteVideoPlaying(page))).toBe('4:3');
      await expectInboundGrowing(page, 'video');
      await expectInboundGrowing(page, 'audio');
    }
    // The data channel announces each side's media as soon as it opens.
    await bob.waitForFunction(() => window.cw.peerMedia.length > 0);
    expect(await lastPeerMedia(bob)).toEqual({ audio: true, video: true, screen: false });

    await alice.waitForFunction(
      () => window.cw.stats.filter((s) => s.bitrateInKbps > 50).length >= 2,
    );
    const sample = await alice.evaluate(() => window.cw.stats.at(-1)!);
    expect(sample.path).toBe('direct');
    expect(sample.rttMs).not.toBeNull();
    expect(sample.framesPerSecond).toBeGreaterThan(0);
    expect(sample.packetLoss).toBeGreaterThanOrEqual(0);
    expect(await alice.evaluate(() => window.cw.errors)).toEqual([]);

    const ended = bob.waitForFunction(() => window.cw.call?.state === 'ended');
    await alice.evaluate(() => window.cw.hangup());
    await ended;
    expect(await bob.evaluate(() => window.cw.call?.endReason)).toBe('hangup');
  });

  it('mute and camera-off reach the other side; the camera comes back', async () => {
    const { alice, bob } = pages;
    await connectCall(pages, { audio: true, video: true });
    await bob.waitForFunction(() => window.cw.peerMedia.at(-1)?.video === true);

    await alice.evaluate(() => window.cw.setMicrophone(false));
    await bob.waitForFunction(() => window.cw.peerMedia.at(-1)?.audio === false);
    expect(
      await alice.evaluate(() => window.cw.localTracks().find((t) => t.kind === 'audio')?.enabled),
    ).toBe(false);

    const offersBefore = await alice.evaluate(() => window.cw.offersSent);
    await alice.evaluate(() => window.cw.setCamera(false));
    await bob.waitForFunction(() => window.cw.peerMedia.at(-1)?.video === false);
    // The camera is released (no video track) and the sender sends nothing; no renegotiation.
    expect(await alice.evaluate(() => window.cw.localTracks().map((t) => t.kind))).toEqual([
      'audio',
    ]);
    expect(await alice.evaluate(() => window.cw.sending())).toContain('(none)');

    await alice.evaluate(() => window.cw.setCamera(true));
    await alice.evaluate(() => window.cw.setMicrophone(true));
    await bob.waitForFunction(() => {
      const m = window.cw.peerMedia.at(-1);
      return m?.video === true && m.audio === true;
    });
    expect(await alice.evaluate(() => window.cw.offersSent)).toBe(offersBefore);
    await expectRemoteVideoPlaying(bob);
    expect(await alice.evaluate(() => window.cw.localStreamChanges)).toBeGreaterThanOrEqual(2);
  });

  it('screen sharing replaces the camera and stops back to it', async () => {
    const { alice, bob } = pages;
    await connectCall(pages, { audio: true, video: true });
    await expectRemoteVideoPlaying(bob);

    await alice.evaluate(() => window.cw.startScreenShare());
    await bob.waitForFunction(() => window.cw.peerMedia.at(-1)?.screen === true);
    // The fake screen is 16:9 (1280x720), the camera 4:3 (640x480).
    await bob.waitForFunction(
      () =>
        Math.abs(window.cw.remoteVideo().width / window.cw.remoteVideo().height - 16 / 9) < 0.05,
      undefined,
      { timeout: 15_000 },
    );
    expect(
      await alice.evaluate(() => window.cw.sending().some((l) => l.startsWith('screen'))),
    ).toBe(true);

    await alice.evaluate(() => window.cw.stopScreenShare());
    await bob.waitForFunction(() => window.cw.peerMedia.at(-1)?.screen === false);
    await bob.waitForFunction(
      () => Math.abs(window.cw.remoteVideo().width / window.cw.remoteVideo().height - 4 / 3) < 0.05,
      undefined,
      { timeout: 15_000 },
    );
    await expectRemoteVideoPlaying(bob);
  });

  it('a voice call is upgraded to video by renegotiation, from either side', async () => {
    const { alice, bob } = pages;
    await connectCall(pages, { audio: true, video: false });
    await expectInboundGrowing(bob, 'audio');
    expect(await bob.evaluate(() => window.cw.remoteVideo().width)).toBe(0);

    await alice.evaluate(() => window.cw.upgradeToVideo());
    expect(aspect(await expectRemoteVideoPlaying(bob))).toBe('4:3');
    await bob.waitForFunction(() => window.cw.peerMedia.at(-1)?.video === true);

    await bob.evaluate(() => window.cw.upgradeToVideo());
    expect(aspect(await expectRemoteVideoPlaying(alice))).toBe('4:3');
    for (const page of [alice, bob])
      expect(await page.evaluate(() => window.cw.signalingState())).toBe('stable');
  });

  it('switching the microphone replaces the track without renegotiating', async () => {
    const { alice, bob } = pages;
    await connectCall(pages, { audio: true, video: false });
    const offersBefore = await alice.evaluate(() => window.cw.offersSent);
    const label = await alice.evaluate(() => window.cw.switchMicrophone());
    expect(await alice.evaluate(() => window.cw.sending())).toContain(label);
    expect(await alice.evaluate(() => window.cw.offersSent)).toBe(offersBefore);
    await expectInboundGrowing(bob, 'audio');
  });

  it('crossing offers never deadlock (perfect negotiation)', async () => {
    const { alice, bob } = pages;
    await connectCall(pages, { audio: true, video: false });

    // Both add video at the same instant: two offers cross on the wire.
    const at = Date.now() + 300;
    await Promise.all(
      [alice, bob].map((p) =>
        p.evaluate(async (t) => {
          await new Promise((r) => setTimeout(r, t - Date.now()));
          await window.cw.upgradeToVideo();
        }, at),
      ),
    );
    await expectRemoteVideoPlaying(alice);
    await expectRemoteVideoPlaying(bob);

    // ICE restarts on both sides at once, until offers have crossed at least once.
    for (let round = 0; round < 10; round++) {
      const collisions = async () =>
        (await alice.evaluate(() => window.cw.collisions)) +
        (await bob.evaluate(() => window.cw.collisions));
      if ((await collisions()) > 0 && round > 0) break;
      const t = Date.now() + 200;
      const sent = await Promise.all(
        [alice, bob].map((p) =>
          p.evaluate(async (when) => {
            const before = window.cw.offersSent;
            await new Promise((r) => setTimeout(r, when - Date.now()));
            window.cw.restartIce();
            return before;
          }, t),
        ),
      );
      for (const [i, page] of [alice, bob].entries()) {
        await page.waitForFunction(
          (before) =>
            window.cw.offersSent > before &&
            window.cw.signalingState() === 'stable' &&
            window.cw.call?.peerConnection?.connectionState === 'connected',
          sent[i]!,
          { timeout: 15_000 },
        );
      }
    }
    const total =
      (await alice.evaluate(() => window.cw.collisions)) +
      (await bob.evaluate(() => window.cw.collisions));
    expect(total).toBeGreaterThan(0);
    for (const page of [alice, bob]) {
      expect(await page.evaluate(() => window.cw.call?.state)).toBe('connected');
      await expectRemoteVideoPlaying(page);
    }
  });
});
