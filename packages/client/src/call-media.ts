/**
 * The local side of a call's media: which microphone, camera and screen tracks exist, which
 * are enabled, and how they map onto the peer connection's senders.
 *
 * Changes use `RTCRtpSender.replaceTrack` whenever a sender of that kind exists (mute, camera
 * off/on, device switch, screen share over the camera: no renegotiation, no glitch), and
 * `addTrack` only when a kind is sent for the first time (a voice call upgraded to video, a
 * screen shared in a voice call), which fires `negotiationneeded` and renegotiates through
 * perfect negotiation. Tracks the SDK captured are stopped when dropped; tracks the app passed
 * in (`localStream`) are the app's and are never stopped here.
 */
import { captureScreen, captureTrack } from './capture.js';

/** What a side sends: the control message that reaches the peer as `peerMediaChanged`. */
export interface MediaState {
  audio: boolean;
  video: boolean;
  screen: boolean;
}

export class CallMedia {
  #pc: RTCPeerConnection | null = null;
  #mic: MediaStreamTrack | null = null;
  #camera: MediaStreamTrack | null = null;
  #screen: MediaStreamTrack | null = null;
  #micEnabled = true;
  #cameraDeviceId: string | undefined;
  #audioSender: RTCRtpSender | null = null;
  #videoSender: RTCRtpSender | null = null;
  #stream: MediaStream | null;
  readonly #owned = new Set<MediaStreamTrack>();
  /** Groups our tracks under one msid so the peer sees them as one stream. */
  #msid: MediaStream | null = null;
  readonly #onChange: () => void;
  #closed = false;

  /**
   * @param stream - the initial local stream (captured by the SDK when `owned`)
   * @param onChange - called after every change of tracks or enabled state
   */
  constructor(stream: MediaStream | null, owned: boolean, onChange: () => void) {
    this.#stream = stream;
    this.#mic = stream?.getAudioTracks()[0] ?? null;
    this.#camera = stream?.getVideoTracks()[0] ?? null;
    if (owned && stream !== null) for (const t of stream.getTracks()) this.#owned.add(t);
    this.#onChange = onChange;
  }

  get stream(): MediaStream | null {
    return this.#stream;
  }

  get state(): MediaState {
    return {
      audio: this.#mic !== null && this.#micEnabled && this.#mic.readyState === 'live',
      video: (this.#screen ?? this.#camera) !== null,
      screen: this.#screen !== null,
    };
  }

  get sharingScreen(): boolean {
    return this.#screen !== null;
  }

  /** Add the current tracks to the connection (caller: at once; callee: on the first offer). */
  attach(pc: RTCPeerConnection): void {
    this.#pc = pc;
    this.#msid = new MediaStream();
    if (this.#mic !== null) this.#audioSender = pc.addTrack(this.#mic, this.#msid);
    const video = this.#screen ?? this.#camera;
    if (video !== null) this.#videoSender = pc.addTrack(video, this.#msid);
  }

  setMicrophoneEnabled(on: boolean): void {
    this.#micEnabled = on;
    // A disabled track sends silence without renegotiating or releasing the device.
    if (this.#mic !== null) this.#mic.enabled = on;
    this.#changed();
  }

  async setCameraEnabled(on: boolean): Promise<void> {
    if (!on) {
      const camera = this.#camera;
      if (camera === null) return;
      this.#camera = null;
      if (this.#screen === null) await this.#sendVideo(null);
      this.#release(camera);
      this.#changed();
      return;
    }
    if (this.#camera !== null && this.#camera.readyState === 'live') return;
    const track = await captureTrack('video', this.#cameraDeviceId);
    if (this.#closed) {
      track.stop();
      return;
    }
    this.#owned.add(track);
    const old = this.#camera;
    this.#camera = track;
    if (this.#screen === null) await this.#sendVideo(track);
    if (old !== null) this.#release(old);
    this.#changed();
  }

  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void> {
    if (kind === 'videoinput') {
      this.#cameraDeviceId = deviceId;
      // With the camera off, the choice applies when it is turned on again.
      if (this.#camera === null) return;
      const track = await captureTrack('video', deviceId);
      if (this.#closed) return track.stop();
      this.#owned.add(track);
      const old = this.#camera;
      this.#camera = track;
      if (this.#screen === null) await this.#sendVideo(track);
      this.#release(old);
    } else {
      const track = await captureTrack('audio', deviceId);
      if (this.#closed) return track.stop();
      this.#owned.add(track);
      track.enabled = this.#micEnabled;
      const old = this.#mic;
      this.#mic = track;
      if (this.#pc !== null) {
        if (this.#audioSender !== null) await this.#audioSender.replaceTrack(track);
        else this.#audioSender = this.#pc.addTrack(track, this.#msidStream());
      }
      if (old !== null) this.#release(old);
    }
    this.#changed();
  }

  async startScreenShare(): Promise<void> {
    if (this.#screen !== null) return;
    const track = await captureScreen();
    if (this.#closed) return track.stop();
    this.#owned.add(track);
    this.#screen = track;
    // The browser's own "Stop sharing" button ends the track; treat it like stopScreenShare().
    track.addEventListener('ended', () => {
      this.stopScreenShare().catch(() => {
        // replaceTrack fails only on a closed connection: the call is ending anyway.
      });
    });
    await this.#sendVideo(track);
    this.#changed();
  }

  async stopScreenShare(): Promise<void> {
    const screen = this.#screen;
    if (screen === null) return;
    this.#screen = null;
    if (!this.#closed) await this.#sendVideo(this.#camera);
    this.#release(screen);
    this.#changed();
  }

  /** Stop every track the SDK captured. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#owned) t.stop();
    this.#owned.clear();
    this.#pc = null;
  }

  async #sendVideo(track: MediaStreamTrack | null): Promise<void> {
    const pc = this.#pc;
    if (pc === null || this.#closed) return;
    if (this.#videoSender !== null) {
      await this.#videoSender.replaceTrack(track);
    } else if (track !== null) {
      // First video of the call: a new m-line, so renegotiate (negotiationneeded fires).
      this.#videoSender = pc.addTrack(track, this.#msidStream());
    }
  }

  #msidStream(): MediaStream {
    this.#msid ??= new MediaStream();
    return this.#msid;
  }

  #release(track: MediaStreamTrack): void {
    if (this.#owned.delete(track)) track.stop();
  }

  #changed(): void {
    if (this.#closed) return;
    const tracks = [this.#mic, this.#screen ?? this.#camera].filter(
      (t): t is MediaStreamTrack => t !== null,
    );
    const current = this.#stream?.getTracks() ?? [];
    const same = tracks.length === current.length && tracks.every((t, i) => current[i] === t);
    // A new MediaStream object per change makes <video srcObject> pick the new tracks reliably.
    if (!same) this.#stream = tracks.length > 0 ? new MediaStream(tracks) : null;
    this.#onChange();
  }
}
