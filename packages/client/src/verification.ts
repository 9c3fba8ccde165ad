/**
 * Verified calls (issue 11): a safety code both people can read aloud, and the trust state of
 * the peer's device key. See docs/SECURITY.md, "Verified calls", for the threat model.
 *
 * The fingerprints come from getStats() (the transport's local and remote certificate, i.e. the
 * keys the DTLS handshake actually used), never from the SDP the server relayed. The code also
 * covers one random nonce per side, exchanged over the call's control channel with a hash
 * commitment first (each side commits before it can see the other's nonce, as in ZRTP and
 * Bluetooth's numeric comparison). Without it, someone in the middle who picks its own two
 * certificates could search for a pair whose codes agree on both legs, and a six-digit code
 * would fall to about a million tries; with it, each attempt succeeds with odds 1 in 10^6 and
 * a failed one shows two different codes.
 */
import { InvalidStateError } from './errors.js';
import type { DeviceKeys } from './device-key.js';
import { normalizeFingerprint } from './device-key.js';

/**
 * Whether the person on the other end is known to be who was verified before:
 *
 * - `pending`: the call's keys are not known yet (before DTLS connects).
 * - `unverified`: nothing was ever compared with this person (or this device cannot remember).
 * - `verified`: the code was compared on this call (`markVerified()`), or the peer's key is one
 *   this device verified for this person before.
 * - `key_changed`: this person has verified keys, and this key is not one of them: a new
 *   device, a new key, or someone in the middle. Compare the code before trusting the call.
 *
 * @example
 * ```ts
 * call.on('verificationChanged', (state: VerificationState) => {
 *   if (state === 'key_changed') warn(`${call.peer}'s device key changed`);
 * });
 * ```
 */
export type VerificationState = 'pending' | 'unverified' | 'verified' | 'key_changed';

/** The two fingerprints of one DTLS connection, normalized (`sha-256 AB:CD:…`). */
export interface CertificatePair {
  local: string;
  remote: string;
}

/** One side's contribution to the code: its certificate fingerprint and its nonce (hex). */
export interface CodeSide {
  fingerprint: string;
  nonce: string;
}

/** The control-channel messages of the nonce exchange. */
export type VerifyMessage =
  { type: 'verify-commit'; commit: string } | { type: 'verify-reveal'; nonce: string };

type StatsRecord = Record<string, unknown> & { id: string; type: string };

/** How long after the transport connects the stats may still lack the certificates. */
const FINGERPRINT_TRIES = 20;
const FINGERPRINT_RETRY_MS = 100;

const CODE_LABEL = 'callwire safety code v1';
const COMMIT_LABEL = 'callwire safety code commit v1';

/**
 * The certificates of the connected DTLS transport in a stats report, or null while there is
 * none. Pure, for unit tests.
 */
export function fingerprintsFromStats(report: Iterable<StatsRecord>): CertificatePair | null {
  const byId = new Map<string, StatsRecord>();
  for (const s of report) byId.set(s.id, s);
  for (const t of byId.values()) {
    if (t.type !== 'transport' || t.dtlsState !== 'connected') continue;
    const local = byId.get(String(t.localCertificateId));
    const remote = byId.get(String(t.remoteCertificateId));
    const lf = certificateFingerprint(local);
    const rf = certificateFingerprint(remote);
    if (lf !== null && rf !== null) return { local: lf, remote: rf };
  }
  return null;
}

function certificateFingerprint(s: StatsRecord | undefined): string | null {
  if (s?.type !== 'certificate') return null;
  const { fingerprint, fingerprintAlgorithm } = s;
  if (typeof fingerprint !== 'string' || typeof fingerprintAlgorithm !== 'string') return null;
  return normalizeFingerprint(fingerprintAlgorithm, fingerprint);
}

/** The trust state of a remote key given the fingerprints verified for that person before. */
export function classify(
  remote: string,
  trusted: readonly string[],
): Exclude<VerificationState, 'pending'> {
  if (trusted.length === 0) return 'unverified';
  return trusted.includes(remote) ? 'verified' : 'key_changed';
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A fresh 256-bit nonce, as 64 lowercase hex digits. */
export function newNonce(): string {
  return hex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The commitment to a nonce that is sent before the nonce itself. */
export async function commitmentOf(nonce: string): Promise<string> {
  return hex(await sha256(`${COMMIT_LABEL}\n${nonce}`));
}

/**
 * The safety code of a call: six digits, shown as `123 456`.
 *
 * SHA-256 over a label, the call id and the two sides' `fingerprint|nonce`, sorted so that both
 * ends hash the same bytes; the first 8 bytes of the hash, as a big-endian integer, modulo 10^6
 * (the modulo bias is below 10^-13). Documented, with test vectors, in docs/SECURITY.md.
 */
export async function deriveSafetyCode(callId: string, a: CodeSide, b: CodeSide): Promise<string> {
  const entries = [a, b].map((s) => `${s.fingerprint}|${s.nonce}`).sort();
  const hash = await sha256([CODE_LABEL, callId, ...entries].join('\n'));
  let n = 0n;
  for (const byte of hash.subarray(0, 8)) n = (n << 8n) | BigInt(byte);
  const digits = (n % 1_000_000n).toString().padStart(6, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

/** @internal What a call's verification needs from its call and client. */
export interface VerificationDeps {
  readonly pc: RTCPeerConnection;
  /** The device keys and trust store; null where there is no WebRTC. */
  readonly keys: DeviceKeys | null;
  callId(): string;
  /** Own account name and the peer's: the trust store is kept per pair. */
  self(): string;
  peer(): string;
  /** State or code changed. */
  changed(): void;
}

/** @internal The verification of one peer connection (a restarted connection gets a new one). */
export class CallVerification {
  readonly #deps: VerificationDeps;
  #state: VerificationState = 'pending';
  #code: string | null = null;
  #pair: CertificatePair | null = null;
  #send: ((msg: VerifyMessage) => void) | null = null;
  #ownNonce: string | null = null;
  #commitSent = false;
  #revealed = false;
  #peerCommit: string | null = null;
  #peerNonce: string | null = null;
  #reading = false;
  #closed = false;

  constructor(deps: VerificationDeps) {
    this.#deps = deps;
  }

  get state(): VerificationState {
    return this.#state;
  }

  get code(): string | null {
    return this.#code;
  }

  /** The peer's key fingerprint once known. */
  get remoteFingerprint(): string | null {
    return this.#pair?.remote ?? null;
  }

  /** The transport is connected: read the keys it used and look the peer's up. */
  transportConnected(): void {
    if (this.#reading || this.#pair !== null) return;
    this.#reading = true;
    void this.#readKeys();
  }

  /** The control channel is open: commit to our nonce. */
  channelOpen(send: (msg: VerifyMessage) => void): void {
    if (this.#send !== null) return;
    this.#send = send;
    const nonce = newNonce();
    this.#ownNonce = nonce;
    void commitmentOf(nonce).then((commit) => {
      if (this.#closed) return;
      send({ type: 'verify-commit', commit });
      this.#commitSent = true;
      this.#maybeReveal();
    });
  }

  /** A verification message from the peer. Out of order or repeated messages are ignored. */
  receive(msg: VerifyMessage): void {
    if (this.#closed) return;
    if (msg.type === 'verify-commit') {
      if (this.#peerCommit !== null) return;
      this.#peerCommit = msg.commit;
      this.#maybeReveal();
      return;
    }
    // A reveal before its commitment would let a man in the middle choose it freely.
    if (this.#peerCommit === null || this.#peerNonce !== null) return;
    const expected = this.#peerCommit;
    void commitmentOf(msg.nonce).then((actual) => {
      if (this.#closed || actual !== expected || this.#peerNonce !== null) return;
      this.#peerNonce = msg.nonce;
      void this.#maybeDerive();
    });
  }

  /**
   * The people compared the code and it matched: the call is verified and the peer's key is
   * remembered. Resolves with whether it was stored (false without IndexedDB).
   */
  async markVerified(): Promise<boolean> {
    const remote = this.#pair?.remote;
    if (this.#code === null || remote === undefined)
      throw new InvalidStateError('there is no safety code to compare yet');
    this.#setState('verified');
    const keys = this.#deps.keys;
    if (keys === null) return false;
    return keys.remember(this.#deps.self(), this.#deps.peer(), remote);
  }

  close(): void {
    this.#closed = true;
  }

  #maybeReveal(): void {
    // Our nonce goes out only once the peer is bound to its own: neither side can then pick
    // its nonce after seeing the other's.
    if (this.#revealed || !this.#commitSent || this.#peerCommit === null) return;
    const nonce = this.#ownNonce;
    if (nonce === null || this.#send === null) return;
    this.#revealed = true;
    this.#send({ type: 'verify-reveal', nonce });
  }

  async #maybeDerive(): Promise<void> {
    const pair = this.#pair;
    const own = this.#ownNonce;
    const theirs = this.#peerNonce;
    if (pair === null || own === null || theirs === null || this.#code !== null) return;
    const code = await deriveSafetyCode(
      this.#deps.callId(),
      { fingerprint: pair.local, nonce: own },
      { fingerprint: pair.remote, nonce: theirs },
    );
    if (this.#closed || this.#code !== null) return;
    this.#code = code;
    this.#deps.changed();
  }

  async #readKeys(): Promise<void> {
    let pair: CertificatePair | null = null;
    for (let i = 0; i < FINGERPRINT_TRIES && pair === null && !this.#closed; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, FINGERPRINT_RETRY_MS));
      try {
        const records: StatsRecord[] = [];
        (await this.#deps.pc.getStats()).forEach((s: StatsRecord) => records.push(s));
        pair = fingerprintsFromStats(records);
      } catch {
        // A closed connection: the call is ending.
      }
    }
    if (this.#closed) return;
    if (pair === null) {
      // No key to check: say so rather than stay pending (and hold the media) forever.
      this.#setState('unverified');
      return;
    }
    const keys = this.#deps.keys;
    const trusted = keys === null ? [] : await keys.trusted(this.#deps.self(), this.#deps.peer());
    if (this.#closed) return;
    // The pair is set only now, so no code (and no markVerified) exists before the state.
    this.#pair = pair;
    this.#setState(classify(pair.remote, trusted));
    await this.#maybeDerive();
  }

  #setState(next: VerificationState): void {
    if (this.#state === next) return;
    this.#state = next;
    this.#deps.changed();
  }
}
