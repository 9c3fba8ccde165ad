/**
 * The page script of bench/browser/click-to-video.ts, bundled with esbuild from the SDK's
 * sources. Everything is timed in the page with `performance.now()`, from the callee's click on
 * "accept" (the call to `incoming.accept`), so the clock is the page's own.
 */
import {
  connect,
  type CallwireClient,
  type IncomingCall,
} from '../../packages/client/src/index.js';
import {
  firstAudioPackets,
  firstVideoFrame,
  iceConnected,
  sleep,
  type Timing,
} from './media-timing.js';

export class Bench {
  client: CallwireClient | null = null;
  readonly incoming: IncomingCall[] = [];

  async connect(url: string, name: string): Promise<void> {
    this.client = await connect(url, { name });
    this.client.on('incoming', (incoming) => this.incoming.push(incoming));
  }

  async call(name: string, video: boolean): Promise<void> {
    await this.client!.call(name, { audio: true, video });
  }

  async waitIncoming(): Promise<void> {
    while (this.incoming.length === 0) await sleep(1);
  }

  /** Accept the ringing call; times ICE and first media from the click. */
  async accept(video: boolean): Promise<Timing> {
    const incoming = this.incoming.shift()!;
    const t0 = performance.now();
    const call = await incoming.accept({ audio: true, video });
    const pc = () => call.peerConnection;
    const [ice, media] = await Promise.all([
      iceConnected(pc),
      video ? firstVideoFrame(() => call.remoteStream) : firstAudioPackets(pc),
    ]);
    return { iceMs: ice - t0, mediaMs: media - t0 };
  }

  hangup(): void {
    for (const call of this.client?.calls ?? []) call.hangup();
  }

  /**
   * The physical limit: two peer connections in this page exchange their descriptions and
   * candidates directly. The caller's camera is open before the clock starts (as the SDK's
   * caller opens it before ringing); the callee's is opened after, as at an accept.
   */
  async direct(video: boolean): Promise<Timing> {
    const constraints = { audio: true, video };
    const callerStream = await navigator.mediaDevices.getUserMedia(constraints);
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
    b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
    let remote: MediaStream | null = null;
    b.ontrack = (e) => (remote = e.streams[0] ?? new MediaStream([e.track]));
    const t0 = performance.now();
    const calleeStream = await navigator.mediaDevices.getUserMedia(constraints);
    for (const t of callerStream.getTracks()) a.addTrack(t, callerStream);
    for (const t of calleeStream.getTracks()) b.addTrack(t, calleeStream);
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription!);
    const [ice, media] = await Promise.all([
      iceConnected(() => b),
      video ? firstVideoFrame(() => remote) : firstAudioPackets(() => b),
    ]);
    for (const s of [callerStream, calleeStream]) for (const t of s.getTracks()) t.stop();
    a.close();
    b.close();
    return { iceMs: ice - t0, mediaMs: media - t0 };
  }
}

/** What the runner calls through `page.evaluate`. */
export type BenchApi = Bench;

declare global {
  interface Window {
    bench: Bench;
  }
}
window.bench = new Bench();
