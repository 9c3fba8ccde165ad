/**
 * How the click-to-video pages see a call become real, shared by every row of the benchmark
 * (the SDK's page, the physical limit and the tutorial's own page) so that they are measured
 * the same way: polled every millisecond, on the page's own `performance.now()` clock.
 */

export interface Timing {
  iceMs: number;
  /** First remote video frame (requestVideoFrameCallback), or first audio packets received. */
  mediaMs: number;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the time `pc` first reaches ICE connected (or completed). */
export function iceConnected(pc: () => RTCPeerConnection | null): Promise<number> {
  return new Promise((resolve) => {
    const poll = (): void => {
      const state = pc()?.iceConnectionState;
      if (state === 'connected' || state === 'completed') resolve(performance.now());
      else setTimeout(poll, 1);
    };
    poll();
  });
}

export function firstVideoFrame(stream: () => MediaStream | null): Promise<number> {
  return new Promise((resolve) => {
    const start = (): void => {
      const s = stream();
      if (s === null || s.getVideoTracks().length === 0) return void setTimeout(start, 1);
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      document.body.append(video);
      video.srcObject = s;
      video.requestVideoFrameCallback(() => {
        resolve(performance.now());
        video.remove();
      });
      void video.play().catch(() => {});
    };
    start();
  });
}

export async function firstAudioPackets(pc: () => RTCPeerConnection | null): Promise<number> {
  for (;;) {
    const conn = pc();
    if (conn !== null) {
      const stats = await conn.getStats();
      for (const s of stats.values()) {
        const r = s as { type: string; kind?: string; packetsReceived?: number };
        if (r.type === 'inbound-rtp' && r.kind === 'audio' && (r.packetsReceived ?? 0) > 0)
          return performance.now();
      }
    }
    await sleep(2);
  }
}
