/**
 * The timing probe for the tutorial's own video page (shared/seeds/004, chapter 11), injected
 * with `page.addInitScript` before the page's classic script runs, so that the page itself runs
 * unchanged. Bundled by esbuild as a classic script (IIFE).
 *
 * The tutorial page has no ringing and no "accept": the callee's page answers the moment the
 * caller's offer reaches it (its `handleOffer`). That moment is the closest thing it has to an
 * accept, so it is the clock's start here: the offer frame's arrival in the callee's page, seen
 * by a listener that runs just before the page's own `onmessage`.
 */
import { firstVideoFrame, iceConnected, type Timing } from './media-timing.js';

declare global {
  interface Window {
    /** The page's peer connection, a top-level `var` of its script. */
    yourConn?: RTCPeerConnection;
    tutorialProbe: TutorialProbe;
  }
}

export class TutorialProbe {
  #timing: Promise<Timing> | null = null;
  readonly #offered: Array<() => void> = [];

  /** Called on every frame the page's socket receives, before the page's own handler. */
  onFrame(data: unknown): void {
    if (typeof data !== 'string' || this.#timing !== null) return;
    let type: unknown;
    try {
      type = (JSON.parse(data) as { type?: unknown }).type;
    } catch {
      return;
    }
    if (type !== 'offer') return;
    const t0 = performance.now();
    const remoteVideo = document.querySelector<HTMLVideoElement>('#remoteVideo');
    this.#timing = Promise.all([
      iceConnected(() => window.yourConn ?? null),
      // The page shows the remote stream in #remoteVideo (through the legacy-media shim's
      // srcObject); the frame is timed on an element of the probe's own, as in the other rows.
      firstVideoFrame(() => {
        const stream = remoteVideo?.srcObject;
        return stream instanceof MediaStream ? stream : null;
      }),
    ]).then(([ice, media]) => ({ iceMs: ice - t0, mediaMs: media - t0 }));
    for (const resolve of this.#offered.splice(0)) resolve();
  }

  /** Resolves with this page's one call's timing once the offer has come and media flows. */
  async timing(): Promise<Timing> {
    while (this.#timing === null) await new Promise<void>((r) => this.#offered.push(r));
    return this.#timing;
  }
}

const probe = new TutorialProbe();
window.tutorialProbe = probe;

// The page opens its one socket with `new WebSocket(url)` and handles frames in `onmessage`. A
// subclass adds the probe's listener at construction, so it is registered before the page
// assigns `onmessage` and runs first for every frame; statics (`WebSocket.OPEN`) are inherited.
const PageWebSocket = window.WebSocket;
window.WebSocket = class extends PageWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    this.addEventListener('message', (event: MessageEvent) => probe.onFrame(event.data));
  }
};
