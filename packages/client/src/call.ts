/**
 * A call with one other person: its state machine, its signaling (offers, answers, candidates
 * relayed by the server, trickled as they come), and the parts it is made of: local media
 * (call-media.ts), the peer connection (peer-session.ts), chat and media state (control-link.ts),
 * files (file-link.ts) and stats (stats.ts).
 *
 * The call survives a dropped signaling connection on either side: media runs peer to peer, and
 * what the call says meanwhile is held and delivered on resume (signaling.ts). When the media
 * path itself breaks, ice-recovery.ts decides when the caller restarts ICE.
 *
 * WebRTC is set up when the call is accepted, or for the caller as soon as it rings (its offer
 * waits on the server until the callee accepts). Where there is no RTCPeerConnection (Node)
 * the call still goes through every signaling step and simply stays `connecting`, which is what
 * lets the signaling be tested without a browser.
 */
import type {
  ClientMessage,
  ConnectivityVerdict,
  EndReason,
  ServerMessageMap,
  SessionDescriptionValue,
} from '@callwire/protocol';
import { CallMedia, type MediaState } from './call-media.js';
import type {
  CallEvents,
  CallRole,
  CallState,
  HoldState,
  PreparedMedia,
  RemoteMedia,
} from './call-types.js';
import { hasWebRtc } from './capture.js';
import { ControlLink } from './control-link.js';
import { Emitter, type Unsubscribe } from './emitter.js';
import { CallwireError, InvalidStateError } from './errors.js';
import { FileLink, type FileLinkOptions } from './file-link.js';
import type { FileTransfer } from './file-transfer.js';
import { ConnectWatch, explainFailure } from './connect-watch.js';
import { IceRecovery, defaultIceRecoveryOptions } from './ice-recovery.js';
import { PeerSession, type Description } from './peer-session.js';
import { StatsSampler, selectedPath, type StatsSample } from './stats.js';
import { assertNever } from './util.js';
import type { DeviceKeys } from './device-key.js';
import { CallVerification, type VerificationState } from './verification.js';

/** How long after ICE connects a call waits for its data channels before it counts as connected. */
const CHANNEL_GRACE_MS = 3_000;

const TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  waiting: ['connecting', 'ended'],
  ringing: ['connecting', 'ended'],
  connecting: ['connected', 'ended'],
  connected: ['ended'],
  ended: [],
};

/** @internal What a call needs from its client. */
export interface CallContext {
  send(msg: ClientMessage): boolean;
  rtcConfiguration(): RTCConfiguration;
  readonly statsIntervalMs: number;
  readonly files: FileLinkOptions;
  ended(call: Call): void;
  error(err: CallwireError): void;
  /** This device's key and trust store (verification.ts), and the account name it is kept under. */
  deviceKeys(): DeviceKeys | null;
  selfName(): string;
}

/** @internal */
export interface CallInit {
  id: string;
  peer: string;
  role: CallRole;
  state: 'waiting' | 'ringing' | 'connecting';
  media: PreparedMedia;
  room?: string;
  /** The server refused the call at once (busy, unavailable): it ends on the next task. */
  refused?: EndReason;
  /**
   * A call taken over on a new peer connection: `reload` (this page reloaded; the client has
   * told the peer to restart) or `moved` (moved here from another device; the server told the
   * peer). Either way this side offers first.
   */
  takeover?: 'reload' | 'moved';
  /** When the call was answered (a call taken over keeps its timer). */
  answeredAtMs?: number;
}

type CallSignal = ServerMessageMap['offer' | 'answer' | 'candidate' | 'leave'];

function toDescription(
  type: 'offer' | 'answer',
  value: SessionDescriptionValue,
): Description | null {
  // The protocol allows a bare SDP string (tutorial clients); its type is the message's.
  if (typeof value === 'string') return { type, sdp: value };
  if (value.type !== type || value.sdp === undefined) return null;
  return { type, sdp: value.sdp };
}

/**
 * A call with one other person, from `client.call()`, `client.join()` or `incoming.accept()`.
 *
 * @example
 * ```ts
 * const call = await client.call('bob', { audio: true, video: true });
 * localVideo.srcObject = call.localStream;
 * call.on('remoteStream', (stream) => (remoteVideo.srcObject = stream));
 * call.on('chat', ({ from, text }) => log(`${from}: ${text}`));
 * call.on('ended', (reason) => log(`ended: ${reason}`));
 * hangupButton.onclick = () => call.hangup();
 * ```
 */
export class Call {
  readonly role: CallRole;
  /** The meeting room this call was joined through, if any. */
  readonly room: string | undefined;
  #id: string;
  #peer: string;
  #state: CallState;
  #endReason: EndReason | undefined;
  #remoteMedia: RemoteMedia = { audio: false, video: false, screen: false };
  /** Whether the peer has said what it sends yet (its first word may be "nothing"). */
  #remoteAnnounced = false;
  #remoteTracks: MediaStreamTrack[] = [];
  #remoteStream: MediaStream | null = null;
  #session: PeerSession | null = null;
  #verification: CallVerification | null = null;
  #control: ControlLink | null = null;
  #files: FileLink | null = null;
  #sampler: StatsSampler | null = null;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #recovery: IceRecovery | null = null;
  readonly #connectWatch = new ConnectWatch();
  #connectivity: ConnectivityVerdict | null = null;
  /** Giving up on a call that did not connect: the explanation is being worked out. */
  #failing = false;
  #iceRestarts = 0;
  #peerReconnecting = false;
  #ownSignalingUp = true;
  #transportUp = false;
  #channelsOpen = 0;
  #channelGraceOver = false;
  #channelGraceTimer: ReturnType<typeof setTimeout> | undefined;
  #lastLocalStream: MediaStream | null;
  #refused: EndReason | undefined;
  #hold: HoldState = { local: false, remote: false };
  #connectedAtMs: number | undefined;
  /** The peer's media is starting over on a new peer connection (its reload, or a moved call). */
  #peerRestarting = false;
  /**
   * This side took the call over and offered on a new connection: until the peer's answer
   * arrives, offers and candidates for the call come from the peer's old connection (an ICE
   * restart it began before it heard of ours) and must not touch the new one.
   */
  #awaitingTakeoverAnswer = false;
  /** Each transceiver's direction before this side held the call, restored on resume. */
  readonly #heldDirections = new Map<RTCRtpTransceiver, RTCRtpTransceiverDirection>();
  readonly #media: CallMedia;
  readonly #events = new Emitter<CallEvents>();
  readonly #ctx: CallContext;

  /** @internal Calls are made by CallwireClient and IncomingCall, never by the app. */
  constructor(ctx: CallContext, init: CallInit) {
    this.#ctx = ctx;
    this.#id = init.id;
    this.#peer = init.peer;
    this.role = init.role;
    this.room = init.room;
    this.#state = init.state;
    this.#media = new CallMedia(init.media.stream, init.media.owned, () =>
      this.#onLocalMediaChanged(),
    );
    this.#lastLocalStream = this.#media.stream;
    this.#refused = init.refused;
    // A call accepted here is answered now; one taken over keeps the time it was answered.
    this.#connectedAtMs =
      init.answeredAtMs ??
      (init.state === 'connecting' && init.takeover === undefined ? Date.now() : undefined);
    if (init.refused !== undefined) {
      const reason = init.refused;
      // Not synchronously: the app gets the Call from an `await` first and can subscribe.
      setTimeout(() => this.end(reason), 0);
    }
    if (init.state === 'connecting') {
      this.#awaitingTakeoverAnswer = init.takeover !== undefined;
      this.#startPeer(init.takeover === undefined ? 'role' : 'offer');
    } else if (init.state === 'ringing' && init.role === 'caller' && init.refused === undefined) {
      // The caller offers while the call rings: the server holds the offer and candidates until
      // the callee accepts, so media starts one round trip (and the ICE gathering) sooner.
      this.#startPeer('role');
    }
  }

  /**
   * When the call was answered (ms since the epoch), for a timer; undefined until then. A call
   * taken back after a reload, or moved here, keeps the original time.
   */
  get connectedAt(): number | undefined {
    return this.#connectedAtMs;
  }

  /** The server's call id ('' while waiting alone in a room). */
  get id(): string {
    return this.#id;
  }
  /** The other person's name ('' while waiting alone in a room). */
  get peer(): string {
    return this.#peer;
  }
  get state(): CallState {
    return this.#state;
  }
  get endReason(): EndReason | undefined {
    return this.#endReason;
  }
  /**
   * Why a call `failed` to connect, judged from what this side's network let through (the
   * same verdict as `client.testConnection()`); null otherwise. A `works` or `relay_only`
   * verdict on a failed call points at the other person's network.
   *
   * @example
   * ```ts
   * call.on('ended', (reason) => {
   *   if (reason === 'failed' && call.connectivity) notice.textContent = failureText(call.connectivity);
   * });
   * ```
   */
  get connectivity(): ConnectivityVerdict | null {
    return this.#connectivity;
  }
  get localStream(): MediaStream | null {
    return this.#media.stream;
  }
  get remoteStream(): MediaStream | null {
    return this.#remoteStream;
  }
  get peerConnection(): RTCPeerConnection | null {
    return this.#session?.pc ?? null;
  }
  /** True while the peer's signaling connection is down and the server waits for it to resume. */
  get peerReconnecting(): boolean {
    return this.#peerReconnecting;
  }
  /** ICE restarts this side has made (the caller restarts; the callee answers restarts). */
  get iceRestarts(): number {
    return this.#iceRestarts;
  }
  /** What the peer says it sends (all false until its first announcement arrives). */
  get remoteMedia(): RemoteMedia {
    return { ...this.#remoteMedia };
  }
  /** What this side sends: microphone enabled, video (camera or screen), screen shared. */
  get localMedia(): RemoteMedia {
    return this.#media.state;
  }

  /** Who holds the call now (see `hold()`). */
  get onHold(): HoldState {
    return { ...this.#hold };
  }

  /**
   * Put the call on hold: audio and video stop in both directions (this side's transceivers
   * go `inactive` through a renegotiation) and the peer is told. Chat and files go on; the call
   * stays connected. `resume()` brings the media back.
   *
   * @example
   * ```ts
   * holdButton.onclick = () => (call.onHold.local ? call.resume() : call.hold());
   * ```
   */
  hold(): void {
    this.#setHold(true);
  }

  /** Take the call off hold (this side's hold; the peer's own hold stays until it resumes). */
  resume(): void {
    this.#setHold(false);
  }

  /**
   * The safety code of this call, six digits as `123 456`, once both sides' keys and nonces are
   * known (null before, and with a peer whose app cannot make one). Both people see the same
   * code unless someone sits in the middle of the call: read it aloud and compare.
   *
   * @example
   * ```ts
   * call.on('verificationChanged', () => (codeLabel.textContent = call.safetyCode ?? '…'));
   * ```
   */
  get safetyCode(): string | null {
    return this.#verification?.code ?? null;
  }

  /**
   * Whether the peer's device key is verified (see {@link VerificationState}): `pending` until
   * the connection's keys are known, then `unverified`, `verified` or `key_changed`.
   *
   * @example
   * ```ts
   * if (call.verification === 'key_changed') showWarning(`${call.peer}'s device key changed`);
   * ```
   */
  get verification(): VerificationState {
    return this.#verification?.state ?? 'pending';
  }

  /**
   * Mark the call verified after both people compared `safetyCode` and it matched. This
   * device then remembers the peer's key for the peer's name: later calls with that device
   * are `verified` without comparing. Resolves with whether it was stored (false where the
   * browser has no IndexedDB). Throws InvalidStateError while there is no code.
   *
   * @example
   * ```ts
   * sameCodeButton.onclick = () => void call.markVerified();
   * ```
   */
  async markVerified(): Promise<boolean> {
    this.#assertLive();
    const verification = this.#verification;
    if (verification === null) throw new InvalidStateError('there is no safety code to compare yet');
    return verification.markVerified();
  }

  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends keyof CallEvents>(event: E, listener: CallEvents[E]): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /** End the call (a ringing outgoing call is cancelled). Idempotent. */
  hangup(): void {
    if (this.#state === 'ended') return;
    if (this.#refused !== undefined) {
      // The server already ended it; there is nothing to tell it.
      this.end(this.#refused);
    } else if (this.#state === 'ringing' && this.role === 'caller') {
      this.#ctx.send({ type: 'cancel', callId: this.#id });
      this.end('cancelled');
    } else {
      // Alone in a room there is no call id yet; a bare hangup leaves the room.
      this.#ctx.send(this.#id === '' ? { type: 'hangup' } : { type: 'hangup', callId: this.#id });
      this.end('hangup');
    }
  }

  /** Mute or unmute the microphone; the peer sees it as `peerMediaChanged`. */
  setMicrophoneEnabled(on: boolean): void {
    this.#assertLive();
    this.#media.setMicrophoneEnabled(on);
  }

  /** Turn the camera off (the device is released) or on (captured again; renegotiates if the call had no video). */
  async setCameraEnabled(on: boolean): Promise<void> {
    this.#assertLive();
    await this.#media.setCameraEnabled(on);
  }

  /** Switch microphone or camera to another device without renegotiating. */
  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void> {
    if (kind !== 'audioinput' && kind !== 'videoinput')
      throw new TypeError('kind must be audioinput or videoinput');
    this.#assertLive();
    await this.#media.switchDevice(kind, deviceId);
  }

  /** Share a screen instead of the camera (the browser asks which screen). */
  async startScreenShare(): Promise<void> {
    this.#assertLive();
    await this.#media.startScreenShare();
  }

  /** Stop sharing and send the camera again (if it is on). */
  async stopScreenShare(): Promise<void> {
    this.#assertLive();
    await this.#media.stopScreenShare();
  }

  /** Add the camera to a voice call (renegotiates). */
  async upgradeToVideo(): Promise<void> {
    this.#assertLive();
    await this.#media.setCameraEnabled(true);
  }

  /** Send a chat message over the data channel. Throws InvalidStateError until it is open. */
  sendChat(text: string): void {
    this.#assertLive();
    if (this.#control === null) throw new InvalidStateError('the chat channel is not open yet');
    this.#control.sendChat(text, Date.now());
  }

  /** Send a file over the data channel; see {@link FileTransfer}. */
  sendFile(file: Blob, name?: string): FileTransfer {
    this.#assertLive();
    if (!(file instanceof Blob)) throw new TypeError('file must be a Blob or File');
    if (this.#files === null || !this.#files.open)
      throw new InvalidStateError('the file channel is not open yet');
    const fileName = name ?? (file as Partial<File>).name ?? 'file';
    return this.#files.send(file, fileName);
  }

  /** Take a stats sample now (rates relative to the previous sample). */
  async getStats(): Promise<StatsSample> {
    if (this.#sampler === null) throw new InvalidStateError('the call has no peer connection');
    return this.#sampler.sample();
  }

  /** @internal The server accepted the call (or the room filled): media setup starts. */
  accepted(msg: ServerMessageMap['accepted']): void {
    if (this.#state !== 'waiting' && this.#state !== 'ringing') return;
    this.#id = msg.callId;
    this.#peer = msg.name;
    this.#connectedAtMs ??= Date.now();
    this.#setState('connecting');
    // A caller's connection already exists (it offered while ringing): the time to connect
    // counts from now.
    if (this.#session === null) this.#startPeer('role');
    else this.#connectWatch.start(() => void this.#failToConnect());
  }

  /** @internal A signaling message for this call. */
  signal(msg: CallSignal): void {
    if (this.#state === 'ended') return;
    if (this.#awaitingTakeoverAnswer && (msg.type === 'offer' || msg.type === 'candidate')) return;
    if (msg.type === 'answer') this.#awaitingTakeoverAnswer = false;
    switch (msg.type) {
      case 'leave':
        if (this.#failing) return;
        // Both sides give up on a call that does not connect at about the same moment; the
        // first one's hangup is the other's failure too.
        if (
          this.#state === 'connecting' &&
          !this.#transportUp &&
          this.#connectWatch.nearlyExpired()
        )
          void this.#failToConnect(false);
        else this.end(msg.reason);
        return;
      case 'offer':
      case 'answer': {
        const description = toDescription(msg.type, msg.type === 'offer' ? msg.offer : msg.answer);
        if (description !== null) void this.#session?.receiveDescription(description);
        return;
      }
      case 'candidate':
        if (msg.candidate !== null)
          void this.#session?.receiveCandidate(candidateInit(msg.candidate));
        return;
      default:
        assertNever(msg);
    }
  }

  /**
   * @internal The peer's media starts over on a new peer connection (it reloaded, or moved the
   * call to another device): drop ours and answer its new offer. The call stays connected; the
   * app sees `peerReconnecting`, then `peerReconnected` once media and channels are back.
   */
  restartPeer(): void {
    if (this.#state === 'ended' || this.#session === null) return;
    this.#teardownPeer();
    if (!this.#peerRestarting) {
      this.#peerRestarting = true;
      this.#events.emit('peerReconnecting');
    }
    this.#startPeer('answer');
    this.#events.emit('verificationChanged', this.verification);
  }

  #teardownPeer(): void {
    clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
    this.#recovery?.close();
    this.#recovery = null;
    clearTimeout(this.#channelGraceTimer);
    this.#channelGraceTimer = undefined;
    this.#channelGraceOver = false;
    this.#files?.close(new CallwireError('transfer_cancelled', 'the peer connection restarted'));
    this.#files = null;
    this.#control = null;
    this.#verification?.close();
    this.#verification = null;
    this.#session?.close();
    this.#session = null;
    this.#sampler = null;
    this.#transportUp = false;
    this.#channelsOpen = 0;
    this.#remoteTracks = [];
    this.#heldDirections.clear();
  }

  /** @internal The peer held the call (`true`) or resumed it. */
  peerHold(held: boolean): void {
    if (this.#state === 'ended' || this.#hold.remote === held) return;
    this.#hold = { ...this.#hold, remote: held };
    this.#events.emit('holdChanged', { ...this.#hold });
  }

  #setHold(on: boolean): void {
    this.#assertLive();
    if (this.#state !== 'connected' && this.#state !== 'connecting') {
      throw new InvalidStateError('only a call that was answered can be held');
    }
    if (this.#hold.local === on) return;
    const pc = this.#session?.pc;
    if (pc !== undefined) {
      // A direction change fires negotiationneeded: the offer/answer carries it to the peer.
      for (const t of pc.getTransceivers()) {
        if (t.currentDirection === 'stopped' || t.direction === 'stopped') continue;
        if (on) {
          this.#heldDirections.set(t, t.direction);
          t.direction = 'inactive';
        } else {
          t.direction = this.#heldDirections.get(t) ?? 'sendrecv';
        }
      }
      if (!on) this.#heldDirections.clear();
    }
    this.#ctx.send({ type: 'hold', callId: this.#id, held: on });
    this.#hold = { ...this.#hold, local: on };
    this.#events.emit('holdChanged', { ...this.#hold });
  }

  /** @internal The peer's signaling connection dropped (`true`) or resumed (`false`). */
  peerPresence(reconnecting: boolean): void {
    if (this.#state === 'ended' || this.#peerReconnecting === reconnecting) return;
    this.#peerReconnecting = reconnecting;
    this.#updateSignalingReady();
    this.#events.emit(reconnecting ? 'peerReconnecting' : 'peerReconnected');
  }

  /** @internal Our own signaling connection is down (suspended) or back (resume settled). */
  ownSignaling(up: boolean): void {
    this.#ownSignalingUp = up;
    this.#updateSignalingReady();
  }

  /** @internal New ICE servers (refreshed TURN credentials) for later ICE restarts. */
  reconfigure(configuration: RTCConfiguration): void {
    const pc = this.#session?.pc;
    if (pc === undefined) return;
    try {
      // Only the servers change: settings such as certificates cannot change on a live connection.
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers: configuration.iceServers ?? [] });
    } catch (err) {
      // Some settings (bundlePolicy, certificates) cannot change; the old ones stay in force.
      this.#ctx.error(
        new CallwireError('protocol_error', 'could not apply new ICE servers', { cause: err }),
      );
    }
  }

  /** @internal End locally (no message is sent). Idempotent. */
  end(reason: EndReason): void {
    if (this.#state === 'ended') return;
    this.#endReason = reason;
    this.#connectWatch.close();
    clearInterval(this.#statsTimer);
    this.#recovery?.close();
    clearTimeout(this.#channelGraceTimer);
    this.#files?.close(new CallwireError('call_ended'));
    this.#verification?.close();
    this.#session?.close();
    this.#media.close();
    this.#setState('ended');
    this.#events.emit('ended', reason);
    this.#events.clear();
    this.#ctx.ended(this);
  }

  #setState(next: CallState): void {
    const previous = this.#state;
    if (previous === next) return;
    if (!TRANSITIONS[previous].includes(next)) {
      throw new InvalidStateError(`call cannot go from ${previous} to ${next}`);
    }
    this.#state = next;
    this.#events.emit('stateChanged', next, previous);
  }

  #assertLive(): void {
    if (this.#state === 'ended') throw new InvalidStateError('the call has ended');
  }

  /**
   * Open the peer connection. `role`: the caller offers, the callee answers (a new call);
   * `offer` / `answer`: a connection that starts over mid-call (this side took the call over,
   * or the peer did).
   */
  #startPeer(mode: 'role' | 'offer' | 'answer'): void {
    if (this.#session !== null || !hasWebRtc()) return;
    const session = new PeerSession(this.#ctx.rtcConfiguration(), this.role === 'callee');
    this.#session = session;
    this.#sampler = new StatsSampler(session.pc);
    this.#verification = this.#newVerification(session.pc);
    session.events.on('description', (d) => {
      if (this.#session !== session) return; // a connection this call has already replaced
      this.#ctx.send(
        d.type === 'offer'
          ? { type: 'offer', callId: this.#id, offer: { type: 'offer', sdp: d.sdp } }
          : { type: 'answer', callId: this.#id, answer: { type: 'answer', sdp: d.sdp } },
      );
    });
    session.events.on('candidate', (candidate) => {
      if (this.#session !== session) return;
      this.#ctx.send({ type: 'candidate', callId: this.#id, candidate: candidateValue(candidate) });
    });
    session.events.on('track', (track) => {
      if (this.#session === session) this.#onRemoteTrack(track);
    });
    session.events.on('connectionState', (state) => {
      if (this.#session === session) this.#onConnectionState(state);
    });
    const initiator = this.role === 'caller';
    const recovery = new IceRecovery(defaultIceRecoveryOptions(initiator), {
      restart: () => this.#restartIce(),
      giveUp: () => void this.#failToConnect(),
    });
    this.#recovery = recovery;
    if (this.#state === 'connecting') this.#connectWatch.start(() => void this.#failToConnect());
    this.#updateSignalingReady();
    session.events.on('iceConnectionState', (state) => recovery.update(state));
    session.events.on('failure', (err) =>
      this.#ctx.error(
        new CallwireError('protocol_error', 'negotiation step failed', { cause: err }),
      ),
    );
    // The caller offers first. The callee adds its tracks and channels only once that offer is
    // set, so they ride on the offered m-lines instead of starting a second, crossing offer.
    const offers = mode === 'offer' || (mode === 'role' && this.role === 'caller');
    if (offers) this.#attachLocal(session.pc);
    else session.onFirstRemoteOffer = () => this.#attachLocal(session.pc);
  }

  #attachLocal(pc: RTCPeerConnection): void {
    this.#media.attach(pc);
    // Negotiated channels with fixed ids exist on both sides without an in-band announcement.
    const control = pc.createDataChannel('callwire-control', {
      negotiated: true,
      id: 0,
      ordered: true,
    });
    const files = pc.createDataChannel('callwire-files', {
      negotiated: true,
      id: 1,
      ordered: true,
    });
    files.addEventListener('open', () => this.#onChannelOpen());
    const verification = this.#verification;
    this.#control = new ControlLink(control, {
      open: () => {
        this.#control?.sendMedia(this.#media.state);
        const link = this.#control;
        verification?.channelOpen((msg) => link?.sendVerify(msg));
        this.#onChannelOpen();
      },
      verify: (msg) => verification?.receive(msg),
      chat: (text, at) => this.#events.emit('chat', { text, from: this.#peer, at }),
      media: (state) => this.#onRemoteMedia(state),
    });
    this.#files = new FileLink(files, this.#ctx.files, (incoming) =>
      this.#events.emit('fileOffered', incoming),
    );
  }

  #newVerification(pc: RTCPeerConnection): CallVerification {
    const verification: CallVerification = new CallVerification({
      pc,
      keys: this.#ctx.deviceKeys(),
      callId: () => this.#id,
      self: () => this.#ctx.selfName(),
      peer: () => this.#peer,
      changed: () => {
        if (this.#verification === verification && this.#state !== 'ended')
          this.#events.emit('verificationChanged', verification.state);
      },
    });
    return verification;
  }

  #onChannelOpen(): void {
    this.#channelsOpen += 1;
    this.#maybeConnected();
  }

  /**
   * `connected` means media flows and chat and files can be sent: the peer connection is
   * connected and both data channels are open (they open a moment after ICE and DTLS). A peer
   * that never opens our channels (not an SDK client) gets `connected` after a grace period.
   */
  #maybeConnected(): void {
    if (!this.#transportUp) return;
    if (this.#channelsOpen < 2 && !this.#channelGraceOver) return;
    if (this.#state === 'connected' && this.#peerRestarting) {
      // The peer's new connection is up: the call goes on where it was.
      clearTimeout(this.#channelGraceTimer);
      this.#peerRestarting = false;
      this.#events.emit('peerReconnected');
      this.#startStats();
      return;
    }
    if (this.#state !== 'connecting') return;
    clearTimeout(this.#channelGraceTimer);
    this.#connectWatch.close();
    this.#setState('connected');
    this.#startStats();
    this.#reportPath();
  }

  #onConnectionState(state: RTCPeerConnectionState): void {
    if (this.#state === 'ended') return;
    if (state === 'connected') {
      this.#transportUp = true;
      this.#verification?.transportConnected();
      const settling = this.#state === 'connecting' || this.#peerRestarting;
      if (settling && this.#channelGraceTimer === undefined) {
        this.#channelGraceTimer = setTimeout(() => {
          this.#channelGraceOver = true;
          this.#maybeConnected();
        }, CHANNEL_GRACE_MS);
      }
      this.#maybeConnected();
    }
    // A failed connection is ICE's business: ice-recovery.ts restarts it or ends the call.
  }

  /** End a call whose media did not connect (or stayed down), with the reason why. */
  async #failToConnect(tellPeer = true): Promise<void> {
    if (this.#state === 'ended' || this.#failing) return;
    this.#failing = true;
    if (tellPeer) this.#ctx.send({ type: 'hangup', callId: this.#id });
    const pc = this.#session?.pc;
    this.#connectivity = await explainFailure(pc, this.#ctx.rtcConfiguration().iceServers);
    this.end('failed');
  }

  /** Tell the server which path the media took, for the call record. */
  #reportPath(): void {
    const pc = this.#session?.pc;
    if (pc === undefined || this.#id === '') return;
    const callId = this.#id;
    selectedPath(pc).then(
      (path) => {
        if (path !== 'unknown') this.#ctx.send({ type: 'report', callId, path });
      },
      () => {
        // getStats fails only on a closed connection: the call is ending, nothing to record.
      },
    );
  }

  #updateSignalingReady(): void {
    this.#recovery?.setSignalingReady(this.#ownSignalingUp && !this.#peerReconnecting);
  }

  /** Restart ICE with the newest ICE servers (TURN credentials may have been refreshed). */
  #restartIce(): void {
    const session = this.#session;
    if (session === null || this.#state === 'ended') return;
    this.#iceRestarts += 1;
    this.reconfigure(this.#ctx.rtcConfiguration());
    session.restartIce().catch(() => {
      // Failures are reported through the session's `failure` event.
    });
  }

  #startStats(): void {
    const interval = this.#ctx.statsIntervalMs;
    if (!(interval > 0) || this.#sampler === null) return;
    const sampler = this.#sampler;
    this.#statsTimer = setInterval(() => {
      sampler.sample().then(
        (sample) => {
          if (this.#state !== 'ended') this.#events.emit('stats', sample);
        },
        () => {
          // getStats fails only on a closed connection, which the call is about to notice.
        },
      );
    }, interval);
  }

  #onRemoteTrack(track: MediaStreamTrack): void {
    if (this.#remoteTracks.includes(track)) return;
    this.#remoteTracks.push(track);
    track.addEventListener('ended', () => {
      this.#remoteTracks = this.#remoteTracks.filter((t) => t !== track);
      this.#publishRemoteStream();
    });
    this.#publishRemoteStream();
  }

  #publishRemoteStream(): void {
    if (this.#state === 'ended') return;
    this.#remoteStream = new MediaStream(this.#remoteTracks);
    this.#events.emit('remoteStream', this.#remoteStream);
  }

  #onRemoteMedia(state: MediaState): void {
    const prev = this.#remoteMedia;
    // The first announcement always counts: a peer that joins muted with its camera off says
    // the same as the "nothing known yet" default, and still has to be shown as muted.
    const same = prev.audio === state.audio && prev.video === state.video && prev.screen === state.screen;
    if (same && this.#remoteAnnounced) return;
    this.#remoteAnnounced = true;
    this.#remoteMedia = state;
    this.#events.emit('peerMediaChanged', { ...state });
  }

  #onLocalMediaChanged(): void {
    this.#control?.sendMedia(this.#media.state);
    const stream = this.#media.stream;
    if (stream !== this.#lastLocalStream) {
      this.#lastLocalStream = stream;
      this.#events.emit('localStreamChanged', stream);
    }
  }
}

type CandidateValue = Exclude<ServerMessageMap['candidate']['candidate'], null>;

function candidateInit(c: CandidateValue): RTCIceCandidateInit {
  const init: RTCIceCandidateInit = { candidate: c.candidate };
  if (c.sdpMid !== undefined) init.sdpMid = c.sdpMid;
  if (c.sdpMLineIndex !== undefined) init.sdpMLineIndex = c.sdpMLineIndex;
  if (c.usernameFragment !== undefined) init.usernameFragment = c.usernameFragment;
  return init;
}

function candidateValue(c: RTCIceCandidateInit): CandidateValue {
  const value: CandidateValue = { candidate: c.candidate ?? '' };
  if (c.sdpMid !== undefined) value.sdpMid = c.sdpMid;
  if (c.sdpMLineIndex !== undefined) value.sdpMLineIndex = c.sdpMLineIndex;
  if (c.usernameFragment !== undefined) value.usernameFragment = c.usernameFragment;
  return value;
}
