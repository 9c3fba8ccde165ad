// The active calls of the soak: each pair of clients calls, again and again, for the whole run.
// One cycle: invite, accept, offer/answer (the native dialect's setup, as bench/run.js does
// it), a burst of trickled candidates from both sides, then candidates at a steady rate while
// the call lasts, then the caller hangs up and both wait for `leave`; a short pause, and again.
//
// Every candidate carries a number in its foundation field (fixtures.js): each sender numbers
// its own, each receiver expects them in order, exactly once. Before the hang-up both sides stop
// sending and wait for what is in flight, so that nothing is cut off by the end of the call and
// every candidate sent must have arrived: whatever has not within DRAIN_MS is lost.
import { DIALECTS } from './dialects.js';
import { candidateIntact } from './fixtures.js';

const SETUP_TIMEOUT_MS = 15_000;
const LEAVE_TIMEOUT_MS = 10_000;
const DRAIN_MS = 5_000;
// The burst of candidates each side trickles once the answer is in (a browser gathers host,
// server-reflexive and relay candidates for each of a few interfaces).
const BURST = 8;
// One relayed candidate in this many is parsed and compared with what was sent.
const VERIFY_EVERY = 16;
// Each party numbers its candidates from partyIndex * SEQ_SPAN: numbers never repeat across
// parties, so a candidate delivered to the wrong call shows up as a stray.
const SEQ_SPAN = 10_000_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A small seeded generator (mulberry32), so that a run's call lengths can be repeated. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One client of a pair: what it has sent in this call and what it expects from its peer. */
class Party {
  /** @param {import('./bench-client.js').BenchClient} client */
  constructor(client, index, counters) {
    this.client = client;
    this.counters = counters;
    this.nextSeq = (index + 1) * SEQ_SPAN;
    /** The peer's next sequence number, or -1 outside a call (anything then is a stray). */
    this.expect = -1;
    this.sending = false;
    this.nextSendAt = 0;
    client.onCandidate = (seq, _now, frame) => this.#receive(seq, frame);
  }

  send() {
    this.client.sendCandidate(this.nextSeq++);
    this.counters.sent++;
  }

  #receive(seq, frame) {
    const c = this.counters;
    if (seq % VERIFY_EVERY === 0) {
      c.verified++;
      if (!candidateIntact(frame, seq)) c.corrupted++;
    }
    if (this.expect < 0) {
      c.strays++;
    } else if (seq === this.expect) {
      c.received++;
      this.expect++;
    } else if (seq < this.expect) {
      c.duplicates++;
    } else {
      // A gap: the ones skipped are lost (the relay keeps the order of one sender's messages).
      c.lost += seq - this.expect;
      c.outOfOrder++;
      c.received++;
      this.expect = seq + 1;
    }
  }
}

export class CallPairs {
  /**
   * @param {import('./bench-client.js').BenchClient[]} clients pairs are (2i, 2i+1): caller, callee
   * @param {{ talkMs: [number, number], pauseMs: [number, number], ratePerSec: number, seed: number }} options
   */
  constructor(clients, options) {
    this.options = options;
    this.counters = {
      sent: 0,
      received: 0,
      lost: 0,
      duplicates: 0,
      outOfOrder: 0,
      strays: 0,
      verified: 0,
      corrupted: 0,
      started: 0,
      completed: 0,
      failed: 0,
    };
    /** Why calls failed, by reason, with how many. */
    this.failures = {};
    /** Setup round trips (ms) since the last sample. */
    this.setupMs = [];
    this.parties = clients.map((c, i) => new Party(c, i, this.counters));
    this.stopping = false;
    this.wake = () => {};
    this.stopped = new Promise((resolve) => (this.wake = resolve));
    this.loops = [];
    this.timer = null;
  }

  start() {
    const pairs = this.parties.length >> 1;
    for (let i = 0; i < pairs; i++) {
      this.loops.push(this.#loop(this.parties[2 * i], this.parties[2 * i + 1], i));
    }
    // The steady candidates of every call in progress, from one timer.
    this.timer = setInterval(() => this.#tick(), 50);
  }

  /** Lets every call in progress end as usual (drain, hang up), then resolves. */
  async stop() {
    this.stopping = true;
    this.wake();
    await Promise.all(this.loops);
    clearInterval(this.timer);
  }

  #tick() {
    const now = performance.now();
    const interval = 1000 / this.options.ratePerSec;
    for (const p of this.parties) {
      if (!p.sending) continue;
      while (p.nextSendAt <= now) {
        p.send();
        p.nextSendAt += interval;
      }
    }
  }

  /** Sleeps `ms`, or less if the run is stopping. */
  #pause(ms) {
    return Promise.race([sleep(ms), this.stopped]);
  }

  async #loop(caller, callee, index) {
    const rand = random(this.options.seed + index);
    const between = ([lo, hi]) => lo + rand() * (hi - lo);
    // Start the pairs spread over one pause, not all in the same millisecond.
    await this.#pause(rand() * this.options.pauseMs[1]);
    let cycle = 0;
    while (!this.stopping) {
      try {
        await this.#call(caller, callee, index, cycle++, between(this.options.talkMs));
        this.counters.completed++;
      } catch (error) {
        this.counters.failed++;
        const reason = String(error?.message ?? error).replace(/^[^:]*: /, '');
        this.failures[reason] = (this.failures[reason] ?? 0) + 1;
        await this.#cleanUp(caller, callee);
      }
      await this.#pause(between(this.options.pauseMs));
    }
  }

  async #call(caller, callee, index, cycle, talkMs) {
    caller.client.reset();
    callee.client.reset();
    const seed = (index * 1000 + (cycle % 1000)) * 2;
    const ms = await withTimeout(
      DIALECTS.native.setup(caller.client, callee.client, seed),
      SETUP_TIMEOUT_MS,
      'call setup',
    );
    this.counters.started++;
    this.setupMs.push(ms);
    caller.expect = callee.nextSeq;
    callee.expect = caller.nextSeq;
    const now = performance.now();
    for (const p of [caller, callee]) {
      for (let k = 0; k < BURST; k++) p.send();
      p.sending = true;
      p.nextSendAt = now + 1000 / this.options.ratePerSec;
    }
    await this.#pause(talkMs);
    await this.#drain(caller, callee);
    const leaves = Promise.all([caller.client.next('leave'), callee.client.next('leave')]);
    caller.client.send({ type: 'hangup', name: callee.client.name });
    await withTimeout(leaves, LEAVE_TIMEOUT_MS, 'leave');
  }

  /** Both stop sending; waits until all they sent has arrived, and counts what has not. */
  async #drain(caller, callee) {
    caller.sending = callee.sending = false;
    const deadline = performance.now() + DRAIN_MS;
    const pending = () => callee.nextSeq - caller.expect + (caller.nextSeq - callee.expect);
    while (pending() > 0 && performance.now() < deadline) await sleep(20);
    this.counters.lost += Math.max(0, pending());
    caller.expect = callee.expect = -1;
  }

  /** After a failed cycle: stop sending, end whatever call is left, forget stale replies. */
  async #cleanUp(caller, callee) {
    caller.sending = callee.sending = false;
    caller.expect = callee.expect = -1;
    if (caller.client.ws?.readyState === 1) {
      caller.client.send({ type: 'hangup', name: callee.client.name });
    }
    await sleep(1000);
    caller.client.reset();
    callee.client.reset();
  }

  /** Counters so far, and the setup round trips since the previous call of this. */
  sample() {
    const setupMs = Float64Array.from(this.setupMs);
    this.setupMs = [];
    return { ...this.counters, failures: { ...this.failures }, setupMs };
  }
}
