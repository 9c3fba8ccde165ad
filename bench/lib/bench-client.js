// One simulated user: a WebSocket, an inbox for the replies a flow waits for, and a fast path
// for relayed candidates (the bulk of the traffic), which go straight to a callback.
import WebSocket from 'ws';
import { candidateJson, candidateSeqOfFrame } from './fixtures.js';

// Replies a flow may wait for (PeerJS's in capitals). Anything else (presence, users, pong) is
// counted and dropped, so a server that pushes presence cannot grow the generator's memory.
const AWAITED = new Set([
  'login',
  'ringing',
  'incoming',
  'accepted',
  'offer',
  'answer',
  'leave',
  'OPEN',
  'OFFER',
  'ANSWER',
]);
// What PeerJS servers send instead of a relayed message when something went wrong.
const PEERJS_ERRORS = new Set(['ERROR', 'ID-TAKEN', 'INVALID-KEY', 'EXPIRE']);
// Presence frames (callwire's native dialect) start with this: counted and dropped unparsed.
// One generator process plays a hundred or more clients on the server's own cores, and
// parsing every client's presence would slow the generator's flows, not the server's.
const PRESENCE_PREFIX = Buffer.from('{"type":"presence');

export class BenchClient {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
    this.ufrag = (name.length.toString(36) + name.slice(-3)).padEnd(4, 'x');
    /** @type {WebSocket | null} */
    this.ws = null;
    /**
     * JSON text before and after the candidate in every candidate this client sends (set by the
     * dialect after setup).
     */
    this.candidatePrefix = '';
    this.candidateSuffix = '}';
    /**
     * Where the server names the sender of what it relays (PeerJS's `src`): the id every
     * relayed candidate must name, since each client hears from its peer only. Null where the
     * dialect's relayed candidates do not name their sender.
     * @type {string | null}
     */
    this.expectedSrc = null;
    /** The start of a relayed candidate from `expectedSrc`, as both PeerJS servers write it. */
    this.expectedSrcPrefix = Buffer.alloc(0);
    /**
     * Called with each relayed candidate's sequence number, arrival time, raw frame and whether
     * it names the right sender (always true where the dialect names none).
     * @type {(seq: number, now: number, frame: Buffer, fromPeer: boolean) => void}
     */
    this.onCandidate = () => {};
    /**
     * Called with the arrival time of each `pong` (the reply to an application-level `ping`).
     * @type {((now: number) => void) | null}
     */
    this.onPong = null;
    this.ignored = 0;
    this.errors = 0;
    /** @type {string | null} */
    this.lastErrorCode = null;
    /** @type {number | null} */
    this.closeCode = null;
    this.inbox = new Map();
    this.waiters = new Map();
  }

  /**
   * Opens the socket; resolves once it is open. `localAddress` picks the loopback source
   * address (127.0.0.N), so that generators do not share one address's ephemeral ports.
   */
  open(url, localAddress) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: 1 << 20,
        ...(localAddress === undefined ? {} : { localAddress }),
      });
      this.ws = ws;
      ws.once('open', resolve);
      // A permanent listener: an 'error' after open must not become an uncaught exception.
      // Rejecting a settled promise is a no-op, so this only matters before 'open'.
      ws.on('error', reject);
      ws.on('message', (data) => this.#onMessage(data));
      ws.on('close', (code) => {
        this.closeCode = code;
        this.#failWaiters(new Error(`${this.name}: socket closed (${code})`));
      });
    });
  }

  /** Sends one message as JSON. */
  send(message) {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends candidate `seq` using the route the dialect set up (peer name, callId or id). */
  sendCandidate(seq) {
    this.ws.send(this.candidatePrefix + candidateJson(seq, this.ufrag) + this.candidateSuffix);
  }

  /** For dialects whose server stamps the sender: relayed candidates must come from `id`. */
  expectSource(id) {
    this.expectedSrc = id;
    this.expectedSrcPrefix = Buffer.from(`{"type":"CANDIDATE","src":${JSON.stringify(id)},`);
  }

  /** The next message of `type`, including one that arrived before anyone asked for it. */
  next(type) {
    const queued = this.inbox.get(type);
    if (queued?.length) return Promise.resolve(queued.shift());
    if (this.waiters.has(type)) throw new Error(`${this.name}: already waiting for ${type}`);
    if (this.closeCode !== null) return Promise.reject(new Error(`${this.name}: socket closed`));
    return new Promise((resolve, reject) => this.waiters.set(type, { resolve, reject }));
  }

  /**
   * Forgets replies nobody waits for any more and fails the waits still pending, so that a flow
   * that gave up (a timeout) cannot leave a stale reply or waiter for the next one.
   */
  reset() {
    this.#failWaiters(new Error(`${this.name}: reset`));
    this.inbox.clear();
  }

  /** Drops the connection without a closing handshake (the fastest way to free 1,000s). */
  terminate() {
    this.ws?.terminate();
  }

  #onMessage(data) {
    // Relayed candidates are most of the traffic: they are recognized from their bytes, so the
    // generator's CPU goes to moving messages rather than parsing them.
    const seq = candidateSeqOfFrame(data);
    if (seq >= 0) {
      this.onCandidate(seq, performance.now(), data, this.#fromPeer(data));
      return;
    }
    if (
      data.length >= PRESENCE_PREFIX.length &&
      data.compare(PRESENCE_PREFIX, 0, PRESENCE_PREFIX.length, 0, PRESENCE_PREFIX.length) === 0
    ) {
      this.ignored++;
      return;
    }
    const message = JSON.parse(data);
    const type = message.type;
    if (type === 'error' || PEERJS_ERRORS.has(type)) {
      this.errors++;
      this.lastErrorCode = String(
        message.code ?? message.message ?? message.payload?.code ?? message.payload?.msg ?? type,
      );
      this.#failWaiters(new Error(`${this.name}: server error ${this.lastErrorCode}`));
    } else if (type === 'pong' && this.onPong !== null) {
      this.onPong(performance.now());
    } else if (AWAITED.has(type)) {
      const waiter = this.waiters.get(type);
      if (waiter) {
        this.waiters.delete(type);
        waiter.resolve(message);
      } else {
        let queue = this.inbox.get(type);
        if (!queue) this.inbox.set(type, (queue = []));
        queue.push(message);
      }
    } else {
      this.ignored++;
    }
  }

  /**
   * Whether a relayed candidate names the expected sender. The bytes are compared first (both
   * PeerJS servers write `type` then `src`); a frame that does not start that way is parsed, so
   * a server that orders its fields otherwise is judged by what it says, not by its layout.
   */
  #fromPeer(frame) {
    if (this.expectedSrc === null) return true;
    const prefix = this.expectedSrcPrefix;
    if (frame.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) return true;
    return JSON.parse(frame).src === this.expectedSrc;
  }

  #failWaiters(error) {
    for (const waiter of this.waiters.values()) waiter.reject(error);
    this.waiters.clear();
  }
}
