/**
 * One RTCPeerConnection driven by "perfect negotiation" (W3C WebRTC 1.0, section 10.7 example).
 * Either side may start a renegotiation at any time (a track added, an ICE restart); when both
 * offer at once, the impolite side (the caller) ignores the peer's offer and the polite side
 * (the callee) rolls its own back and answers, so crossing offers never deadlock.
 *
 * Inbound descriptions and candidates are applied strictly one after another: a candidate must
 * never be added before the description it belongs to has been set. ICE restarts go through the
 * same queue, so a restart never interleaves with a description being applied.
 */
import { Emitter } from './emitter.js';

/**
 * An offer of ours still unanswered after this long was probably lost with a dropped socket;
 * an ICE restart rolls it back and offers again instead of waiting for an answer forever.
 */
const STALE_OFFER_MS = 5_000;

export interface Description {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface PeerSessionEvents {
  /** A local description to send to the peer. */
  description: (description: Description) => void;
  /** A trickled local candidate to send to the peer. */
  candidate: (candidate: RTCIceCandidateInit) => void;
  track: (track: MediaStreamTrack) => void;
  connectionState: (state: RTCPeerConnectionState) => void;
  iceConnectionState: (state: RTCIceConnectionState) => void;
  /** A negotiation step failed; the call decides whether that ends it. */
  failure: (err: unknown) => void;
}

export class PeerSession {
  readonly pc: RTCPeerConnection;
  readonly polite: boolean;
  readonly events = new Emitter<PeerSessionEvents>();
  /** Runs once, after the first remote offer is set and before it is answered. */
  onFirstRemoteOffer: (() => void) | null = null;
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  #inbound: Promise<void> = Promise.resolve();
  #closed = false;
  #localOfferAt = 0;

  constructor(configuration: RTCConfiguration, polite: boolean) {
    this.pc = new RTCPeerConnection(configuration);
    this.polite = polite;
    const pc = this.pc;
    pc.addEventListener('negotiationneeded', () => void this.#negotiate());
    pc.addEventListener('icecandidate', ({ candidate }) => {
      // A null candidate marks the end of gathering; peers do not need it.
      if (candidate !== null && candidate.candidate !== '')
        this.events.emit('candidate', candidate.toJSON());
    });
    pc.addEventListener('track', ({ track }) => this.events.emit('track', track));
    pc.addEventListener('connectionstatechange', () =>
      this.events.emit('connectionState', pc.connectionState),
    );
    pc.addEventListener('iceconnectionstatechange', () =>
      this.events.emit('iceConnectionState', pc.iceConnectionState),
    );
  }

  /** Apply a description from the peer (queued behind earlier inbound messages). */
  receiveDescription(description: Description): Promise<void> {
    return this.#enqueue(async () => {
      const pc = this.pc;
      const readyForOffer =
        !this.#makingOffer && (pc.signalingState === 'stable' || this.#settingRemoteAnswer);
      const collision = description.type === 'offer' && !readyForOffer;
      this.#ignoreOffer = !this.polite && collision;
      if (this.#ignoreOffer) return;
      // An answer to an offer we rolled back (an ICE restart replaced it) answers nothing now.
      if (description.type === 'answer' && pc.signalingState !== 'have-local-offer') return;
      this.#settingRemoteAnswer = description.type === 'answer';
      try {
        // For the polite side in a collision this is an implicit rollback of its own offer.
        await pc.setRemoteDescription(description);
      } finally {
        this.#settingRemoteAnswer = false;
      }
      if (description.type !== 'offer') return;
      const first = this.onFirstRemoteOffer;
      this.onFirstRemoteOffer = null;
      first?.();
      await pc.setLocalDescription();
      this.#sendLocalDescription();
    });
  }

  /** Add a candidate from the peer (queued behind earlier inbound messages). */
  receiveCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    return this.#enqueue(async () => {
      try {
        await this.pc.addIceCandidate(candidate);
      } catch (err) {
        // Candidates of an offer we ignored fail to apply; that is expected, not a failure.
        if (!this.#ignoreOffer) throw err;
      }
    });
  }

  /**
   * Restart ICE: `negotiationneeded` follows and the restart offer goes out. If an offer of ours
   * has waited too long for its answer, it is rolled back first, since no restart can be
   * offered while it is outstanding.
   */
  restartIce(): Promise<void> {
    return this.#enqueue(async () => {
      const pc = this.pc;
      const stale =
        pc.signalingState === 'have-local-offer' &&
        !this.#makingOffer &&
        Date.now() - this.#localOfferAt > STALE_OFFER_MS;
      if (stale) await pc.setLocalDescription({ type: 'rollback' });
      pc.restartIce();
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onFirstRemoteOffer = null;
    this.events.clear();
    this.pc.close();
  }

  async #negotiate(): Promise<void> {
    if (this.#closed) return;
    try {
      this.#makingOffer = true;
      // Parameterless setLocalDescription creates the right description for the current state.
      await this.pc.setLocalDescription();
      this.#sendLocalDescription();
    } catch (err) {
      if (!this.#closed) this.events.emit('failure', err);
    } finally {
      this.#makingOffer = false;
    }
  }

  #sendLocalDescription(): void {
    const local = this.pc.localDescription;
    if (this.#closed || local === null) return;
    if (local.type === 'offer') this.#localOfferAt = Date.now();
    if (local.type === 'offer' || local.type === 'answer') {
      this.events.emit('description', { type: local.type, sdp: local.sdp });
    }
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#inbound.then(async () => {
      if (this.#closed) return;
      try {
        await step();
      } catch (err) {
        if (!this.#closed) this.events.emit('failure', err);
      }
    });
    this.#inbound = run;
    return run;
  }
}
