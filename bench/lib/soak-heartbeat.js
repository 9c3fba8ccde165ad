// The SDK's application-level heartbeat, for many clients at once: every client sends `ping`
// every `intervalMs` (the SDK's default is 15 s) and times the `pong`. Browsers answer the
// server's WebSocket pings without telling the page, so the SDK pings on its own; here `ws`
// answers the server's pings and this adds what the web app sends on top.
//
// One timer serves every client (a client per timer would be 10,000 timers): the interval is cut
// into slots and each tick pings the clients of one slot, which spreads the pings evenly.

const TICK_MS = 100;

export class Heartbeat {
  /**
   * @param {number} intervalMs
   * @param {(rttMs: number) => void} onRtt called with each round trip that is measured
   */
  constructor(intervalMs, onRtt) {
    this.intervalMs = intervalMs;
    this.onRtt = onRtt;
    this.slots = Math.max(1, Math.round(intervalMs / TICK_MS));
    /** @type {import('./bench-client.js').BenchClient[]} */
    this.clients = [];
    /** When each client's outstanding ping was sent (performance.now()), or 0 when none is. */
    this.sentAt = new Float64Array(0);
    this.measured = new Uint8Array(0);
    this.tick = 0;
    this.pings = 0;
    this.pongs = 0;
    /** Pings still unanswered when the client's next one was due: the SDK would reconnect. */
    this.missed = 0;
    this.timer = null;
  }

  /**
   * Adds a logged-in client; `measure` says whether its round trips are reported (the idle
   * clients' are; call parties ping too, as the app does, without being timed).
   */
  add(client, measure) {
    const index = this.clients.length;
    if (index === this.sentAt.length) {
      const grow = (old, Type) => {
        const next = new Type(Math.max(1024, old.length * 2));
        next.set(old);
        return next;
      };
      this.sentAt = grow(this.sentAt, Float64Array);
      this.measured = grow(this.measured, Uint8Array);
    }
    this.clients.push(client);
    this.measured[index] = measure ? 1 : 0;
    client.onPong = (now) => {
      const sent = this.sentAt[index];
      if (sent === 0) return;
      this.sentAt[index] = 0;
      this.pongs++;
      if (this.measured[index]) this.onRtt(now - sent);
    };
  }

  start() {
    this.timer ??= setInterval(() => this.#beat(), TICK_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }

  #beat() {
    const slot = this.tick++ % this.slots;
    const now = performance.now();
    for (let i = slot; i < this.clients.length; i += this.slots) {
      const ws = this.clients[i].ws;
      if (ws === null || ws.readyState !== 1) continue;
      if (this.sentAt[i] !== 0) this.missed++;
      this.sentAt[i] = now;
      this.pings++;
      ws.send('{"type":"ping"}');
    }
  }
}
