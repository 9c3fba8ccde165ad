// Accounts for one relay phase inside a load generator: which sequence numbers were sent, which
// arrived (each exactly once), and when. Both ends of every pair live in the same generator
// process, so send and receive times come from the same clock.
import { candidateIntact } from './fixtures.js';

// One frame in this many is parsed in full and compared with what was sent: the relay must
// deliver candidates unchanged, and checking a sample keeps the generator's cost low.
const VERIFY_EVERY = 16;

export class RelayTracker {
  /**
   * @param {number} base first sequence number of the phase
   * @param {number} total how many messages the phase sends
   */
  constructor(base, total) {
    this.base = base;
    this.total = total;
    this.receivedAt = new Float64Array(total).fill(-1);
    this.received = 0;
    this.duplicates = 0;
    this.strays = 0;
    this.verified = 0;
    this.corrupted = 0;
    /** Relayed candidates that named a sender other than the receiver's peer (PeerJS's `src`). */
    this.wrongSource = 0;
    this.lastReceiveAt = 0;
    /** @type {(() => void) | null} */
    this.onComplete = null;
  }

  /**
   * Called for every relayed candidate with its sequence number, arrival time, frame and
   * whether it named the right sender. One that did not still counts as delivered (it arrived),
   * and is counted apart.
   */
  record(seq, now, frame, fromPeer = true) {
    if (!fromPeer) this.wrongSource++;
    if (seq % VERIFY_EVERY === 0) {
      this.verified++;
      if (!candidateIntact(frame, seq)) this.corrupted++;
    }
    const index = seq - this.base;
    if (index < 0 || index >= this.total) {
      this.strays++;
      return;
    }
    if (this.receivedAt[index] >= 0) {
      this.duplicates++;
      return;
    }
    this.receivedAt[index] = now;
    this.received++;
    this.lastReceiveAt = now;
    if (this.received === this.total) this.onComplete?.();
  }

  /** Resolves when every message arrived or after `timeoutMs`, whichever is first. */
  complete(timeoutMs) {
    if (this.received === this.total) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onComplete = null;
        resolve(false);
      }, timeoutMs);
      this.onComplete = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  summary() {
    return {
      sent: this.total,
      received: this.received,
      lost: this.total - this.received,
      duplicates: this.duplicates,
      strays: this.strays,
      verified: this.verified,
      corrupted: this.corrupted,
      wrongSource: this.wrongSource,
    };
  }
}
