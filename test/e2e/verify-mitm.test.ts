/**
 * A man in the middle (issue 11), with real Chromium pages and real media. alice and bob sign
 * in through a malicious signaling relay (support/mitm-relay.ts, test only). While it attacks,
 * their offers, answers and candidates go to mallory, a third page that answers each of them
 * with a peer connection of its own and bridges the two: alice's camera and microphone reach
 * bob through mallory and back, the control channel is relayed message by message, and
 * nothing but the DTLS keys gives mallory away.
 *
 * The test asserts what the people would notice: the two safety codes differ (on a first call,
 * where both sides can only say `unverified`, and later), and between devices that verified
 * each other before, both sides say `key_changed`.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectCall,
  expectRemoteVideoPlaying,
  openSdkSuite,
  type SdkPages,
  type SdkSuite,
} from './fixtures/sdk/support.js';
import { startMitmRelay, type MitmRelay, type Signal } from './support/mitm-relay.js';

type Side = 'caller' | 'callee';

interface Mallory {
  handle(side: Side, signal: Signal): void;
  inboundBytes(): Promise<{ caller: number; callee: number }>;
}

declare global {
  interface Window {
    mallory: Mallory;
    malloryOut(side: Side, signal: Signal): Promise<void>;
  }
}

/**
 * Runs in mallory's page: one peer connection facing the caller and one facing the callee,
 * media and data channels bridged between them. Its certificates are its own (the browser
 * makes a fresh one per connection), which is all an attacker can do: it has neither alice's
 * nor bob's private key.
 */
function installMallory(): void {
  const pcs: Record<Side, RTCPeerConnection> = {
    caller: new RTCPeerConnection(),
    callee: new RTCPeerConnection(),
  };
  const other = (s: Side): Side => (s === 'caller' ? 'callee' : 'caller');
  let callId = '';
  let offeredToCallee = false;
  const chains: Record<Side, Promise<void>> = {
    caller: Promise.resolve(),
    callee: Promise.resolve(),
  };

  // The SDK's negotiated channels (ids 0 and 1), relayed frame by frame in both directions.
  const channels: Record<Side, RTCDataChannel[]> = { caller: [], callee: [] };
  for (const side of ['caller', 'callee'] as const) {
    for (const id of [0, 1]) {
      const dc = pcs[side].createDataChannel(`relay-${id}`, {
        negotiated: true,
        id,
        ordered: true,
      });
      dc.binaryType = 'arraybuffer';
      channels[side][id] = dc;
    }
  }
  for (const side of ['caller', 'callee'] as const) {
    channels[side].forEach((dc, id) => {
      const queue: Array<string | ArrayBuffer> = [];
      const target = (): RTCDataChannel => channels[other(side)][id]!;
      target().addEventListener('open', () => {
        for (const data of queue.splice(0)) target().send(data as string);
      });
      dc.onmessage = ({ data }: MessageEvent<string | ArrayBuffer>) => {
        if (target().readyState === 'open') target().send(data as string);
        else queue.push(data);
      };
    });
  }

  for (const side of ['caller', 'callee'] as const) {
    const pc = pcs[side];
    pc.onicecandidate = ({ candidate }) => {
      if (candidate !== null && candidate.candidate !== '')
        void window.malloryOut(side, { type: 'candidate', callId, candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track }) => {
      received[side].push(track);
      bridge();
    };
  }

  // What one victim sends goes out to the other on the transceiver of the same kind (the
  // callee's connection has none until the caller's offer came in, so this runs again then).
  const received: Record<Side, MediaStreamTrack[]> = { caller: [], callee: [] };
  function bridge(): void {
    for (const side of ['caller', 'callee'] as const) {
      for (const track of received[side]) {
        const t = pcs[other(side)]
          .getTransceivers()
          .find((x) => x.receiver.track.kind === track.kind);
        if (t !== undefined && t.sender.track !== track) void t.sender.replaceTrack(track);
      }
    }
  }

  async function step(side: Side, signal: Signal): Promise<void> {
    const pc = pcs[side];
    callId = signal.callId;
    if (signal.type === 'offer') {
      await pc.setRemoteDescription(signal.offer);
      for (const t of pc.getTransceivers())
        if (t.direction === 'recvonly') t.direction = 'sendrecv';
      await pc.setLocalDescription();
      void window.malloryOut(side, {
        type: 'answer',
        callId,
        answer: { type: 'answer', sdp: pc.localDescription!.sdp },
      });
      if (side === 'caller' && !offeredToCallee) {
        // Offer the callee what the caller offered: audio, video and the data channels.
        offeredToCallee = true;
        const callee = pcs.callee;
        callee.addTransceiver('audio', { direction: 'sendrecv' });
        callee.addTransceiver('video', { direction: 'sendrecv' });
        await callee.setLocalDescription();
        bridge();
        void window.malloryOut('callee', {
          type: 'offer',
          callId,
          offer: { type: 'offer', sdp: callee.localDescription!.sdp },
        });
      }
    } else if (signal.type === 'answer') {
      await pc.setRemoteDescription(signal.answer);
    } else if (signal.candidate !== null) {
      await pc.addIceCandidate(signal.candidate).catch(() => undefined);
    }
  }

  const inbound = async (pc: RTCPeerConnection): Promise<number> => {
    let bytes = 0;
    (await pc.getStats()).forEach((s: { type: string; bytesReceived?: number }) => {
      if (s.type === 'inbound-rtp') bytes += s.bytesReceived ?? 0;
    });
    return bytes;
  };

  window.mallory = {
    handle(side, signal) {
      // In order per side: a candidate is never added before its description.
      chains[side] = chains[side].then(() => step(side, signal)).catch((err) => console.error(err));
    },
    inboundBytes: async () => ({
      caller: await inbound(pcs.caller),
      callee: await inbound(pcs.callee),
    }),
  };
}

let suite: SdkSuite;
let relay: MitmRelay;
let pages: SdkPages;
let mallory: Page;

beforeAll(async () => {
  suite = await openSdkSuite();
  relay = await startMitmRelay(suite.wsUrl, (from, signal) => {
    const side: Side = from === pages.aliceName ? 'caller' : 'callee';
    void mallory.evaluate(([s, sig]) => window.mallory.handle(s, sig), [side, signal] as const);
  });
  pages = await suite.pair(relay.url);
});

afterAll(async () => {
  await pages?.close();
  await relay?.close();
  await suite?.close();
});

async function openMallory(): Promise<void> {
  const context = await suite.browser.newContext();
  mallory = await context.newPage();
  await mallory.exposeFunction('malloryOut', (side: Side, signal: Signal) => {
    // Written into the victim's socket as if the server relayed it from the other victim.
    const [to, from] =
      side === 'caller' ? [pages.aliceName, pages.bobName] : [pages.bobName, pages.aliceName];
    relay.inject(to, from, signal);
  });
  await mallory.goto(suite.pageUrl);
  await mallory.evaluate(installMallory);
}

const verification = (p: Page) => p.evaluate(() => window.cw.call?.verification);

async function codeOf(p: Page): Promise<string> {
  const handle = await p.waitForFunction(() => window.cw.call?.safetyCode ?? null, undefined, {
    timeout: 15_000,
  });
  return (await handle.jsonValue()) as string;
}

async function hangUp(): Promise<void> {
  const ended = pages.bob.waitForFunction(() => window.cw.call?.state === 'ended');
  await pages.alice.evaluate(() => window.cw.hangup());
  await ended;
}

describe('a man in the middle of the signaling', () => {
  it('the codes differ, and devices that verified each other both see key_changed', async () => {
    const { alice, bob } = pages;
    // First contact, attacked: nothing is remembered, so only the codes can tell.
    await openMallory();
    relay.attacking = true;
    await connectCall(pages, { audio: true, video: true });
    const [first, firstOther] = await Promise.all([codeOf(alice), codeOf(bob)]);
    // The odds of a match by chance are 1 in a million per attempt (docs/SECURITY.md).
    expect(first).not.toBe(firstOther);
    expect(await verification(alice)).toBe('unverified');
    expect(await verification(bob)).toBe('unverified');
    await hangUp();
    relay.attacking = false;
    await mallory.context().close();

    // An honest call: the same code on both sides, compared and marked verified.
    await connectCall(pages, { audio: true, video: true });
    const honest = await codeOf(alice);
    expect(await codeOf(bob)).toBe(honest);
    await Promise.all([alice, bob].map((p) => p.evaluate(() => window.cw.call!.markVerified())));
    expect(await verification(alice)).toBe('verified');
    await hangUp();

    // The server turns: mallory sits in the next call.
    await openMallory();
    relay.attacking = true;
    await connectCall(pages, { audio: true, video: true });
    // Media really flows through mallory, both ways.
    await Promise.all([expectRemoteVideoPlaying(bob), expectRemoteVideoPlaying(alice)]);
    const through = await mallory.evaluate(() => window.mallory.inboundBytes());
    expect(through.caller).toBeGreaterThan(0);
    expect(through.callee).toBeGreaterThan(0);

    expect(await verification(alice)).toBe('key_changed');
    expect(await verification(bob)).toBe('key_changed');
    const [a, b] = await Promise.all([codeOf(alice), codeOf(bob)]);
    expect(a).toMatch(/^\d{3} \d{3}$/);
    expect(b).toMatch(/^\d{3} \d{3}$/);
    expect(a).not.toBe(b);
    await hangUp();
    relay.attacking = false;
    await mallory.context().close();
  });

  it('rotateDeviceKey(): a new fingerprint, kept; the peer who verified the old one sees key_changed', async () => {
    const { alice, bob } = pages;
    const before = await alice.evaluate(() => window.cw.client!.deviceKey);
    expect(before?.persistent).toBe(true);
    const after = await alice.evaluate(() => window.cw.client!.rotateDeviceKey());
    expect(after.fingerprint).toMatch(/^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(after.fingerprint).not.toBe(before?.fingerprint);
    expect(after.persistent).toBe(true);

    await connectCall(pages, { audio: true, video: true });
    await bob.waitForFunction(() => window.cw.call?.verification === 'key_changed');
    // bob's key did not change, and alice verified it: her side stays verified.
    expect(await codeOf(alice)).toBe(await codeOf(bob)); // a code means the state is known
    expect(await verification(alice)).toBe('verified');
    await hangUp();
  });
});
