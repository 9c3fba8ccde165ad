/**
 * Whether media flows into a page, measured where it arrives: the page's own
 * RTCPeerConnections (recorded by an init script; the app is not touched) report inbound RTP
 * bytes through getStats().
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

declare global {
  interface Window {
    callwirePeerConnections?: RTCPeerConnection[];
  }
}

/** Keep every RTCPeerConnection the page makes, to read its stats from the test. */
export function recordPeerConnections(): void {
  const Native = window.RTCPeerConnection;
  const seen: RTCPeerConnection[] = [];
  window.callwirePeerConnections = seen;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      seen.push(this);
    }
  };
}

/** RTP bytes received so far over the page's open peer connections (audio and video). */
export async function inboundBytes(page: Page, kind?: 'video'): Promise<number> {
  return page.evaluate(async (only) => {
    let total = 0;
    for (const pc of window.callwirePeerConnections ?? []) {
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      report.forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
        if (s.type === 'inbound-rtp' && (only === undefined || s.kind === only))
          total += s.bytesReceived ?? 0;
      });
    }
    return total;
  }, kind);
}

/** Inbound bytes grow by more than `minBytes` (media flows). */
export async function expectFlowing(page: Page, kind?: 'video', minBytes = 5_000): Promise<void> {
  const start = await inboundBytes(page, kind);
  await expect
    .poll(() => inboundBytes(page, kind), { timeout: 20_000, interval: 250 })
    .toBeGreaterThan(start + minBytes);
}

/**
 * No inbound bytes for a whole second (media stopped). Packets in flight when the hold took
 * effect may still arrive at first, so the still second is waited for, not assumed.
 */
export async function expectStopped(page: Page): Promise<void> {
  await expect
    .poll(
      async () => {
        const before = await inboundBytes(page);
        await page.waitForTimeout(1_000);
        return (await inboundBytes(page)) - before;
      },
      { timeout: 20_000, interval: 0 },
    )
    .toBe(0);
}

