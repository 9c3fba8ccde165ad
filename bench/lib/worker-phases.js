// The phases a load generator runs against the server under test. Each is bounded in count and
// in time: a phase that cannot finish reports what it got instead of hanging the benchmark.
import { BenchClient } from './bench-client.js';
import { DIALECTS } from './dialects.js';
import { RelayTracker } from './relay-tracker.js';

/**
 * @typedef {object} WorkerState
 * @property {BenchClient[]} clients pairs are (clients[2i], clients[2i+1]): caller, callee
 * @property {import('./dialects.js').Dialect} dialect
 * @property {number} nextSeq
 * @property {RelayTracker | null} tracker
 * @property {NodeJS.Timeout | null} heartbeatTimer
 */

/** @returns {WorkerState} */
export function createState(dialectName) {
  const dialect = DIALECTS[dialectName];
  if (!dialect) throw new TypeError(`unknown dialect ${dialectName}`);
  return { clients: [], dialect, nextSeq: 1, tracker: null, heartbeatTimer: null };
}

// How often the heartbeat timer runs. Each run sends the heartbeats that fell due since the
// last, so every client beats once per interval and the beats spread evenly over it, as they do
// for real clients whose timers started at different moments.
const HEARTBEAT_TICK_MS = 100;

/** Starts the dialect's heartbeat from every client, if it has one. */
function startHeartbeats(state) {
  const heartbeat = state.dialect.heartbeat;
  if (heartbeat === null || state.heartbeatTimer !== null) return;
  const clients = state.clients;
  const perTick = (clients.length * HEARTBEAT_TICK_MS) / heartbeat.intervalMs;
  let due = 0;
  let next = 0;
  state.heartbeatTimer = setInterval(() => {
    due += perTick;
    for (; due >= 1 && clients.length > 0; due--) {
      clients[next++ % clients.length]?.send(heartbeat.message);
    }
  }, HEARTBEAT_TICK_MS);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Error codes and close codes the clients have seen, with how many clients saw each. */
function errorCounts(clients) {
  const codes = {};
  for (const c of clients) {
    if (c.lastErrorCode) codes[c.lastErrorCode] = (codes[c.lastErrorCode] ?? 0) + 1;
    if (c.closeCode !== null)
      codes[`close ${c.closeCode}`] = (codes[`close ${c.closeCode}`] ?? 0) + 1;
  }
  return codes;
}

/**
 * Connects and logs in every name, at most `concurrency` at a time, from `localAddress` when
 * given (a loopback address of this generator's own), then starts the dialect's heartbeat (the
 * clients send it for as long as they are connected).
 */
export async function login(state, { url, names, concurrency, timeoutMs, localAddress }) {
  const started = performance.now();
  let nextIndex = 0;
  let failed = 0;
  const loginOne = async (name) => {
    const client = new BenchClient(name);
    client.onCandidate = (seq, now, frame, fromPeer) =>
      state.tracker?.record(seq, now, frame, fromPeer);
    await state.dialect.signIn(client, url, localAddress);
    return client;
  };
  const lane = async () => {
    while (nextIndex < names.length) {
      const index = nextIndex++;
      try {
        state.clients[index] = await loginOne(names[index]);
      } catch {
        failed++;
      }
    }
  };
  const lanes = Array.from({ length: Math.min(concurrency, names.length) }, lane);
  await withTimeout(Promise.all(lanes), timeoutMs, 'login');
  startHeartbeats(state);
  return { elapsedMs: performance.now() - started, loggedIn: names.length - failed, failed };
}

/** Sets up one call per pair, started open-loop at `ratePerSec`; returns each round trip. */
export async function setupCalls(state, { ratePerSec, timeoutMs }) {
  const pairs = state.clients.length >> 1;
  const roundTrips = new Float64Array(pairs).fill(-1);
  const started = performance.now();
  const runs = [];
  for (let i = 0; i < pairs; i++) {
    const startAt = started + (i * 1000) / ratePerSec;
    const wait = startAt - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const caller = state.clients[2 * i];
    const callee = state.clients[2 * i + 1];
    runs.push(
      state.dialect.setup(caller, callee, i * 2).then(
        (ms) => (roundTrips[i] = ms),
        () => {},
      ),
    );
  }
  await withTimeout(Promise.all(runs), timeoutMs, 'call setup').catch(() => {});
  const done = roundTrips.filter((ms) => ms >= 0);
  return {
    elapsedMs: performance.now() - started,
    calls: pairs,
    failed: pairs - done.length,
    errors: errorCounts(state.clients),
    roundTripsMs: done,
  };
}

/** Every party sends `perClient` candidates to its peer at once; measures how fast they all land. */
export async function storm(state, { perClient, timeoutMs }) {
  const clients = state.clients;
  const tracker = new RelayTracker(state.nextSeq, clients.length * perClient);
  state.nextSeq += tracker.total;
  state.tracker = tracker;
  const started = performance.now();
  // Round-robin over clients, so every socket has traffic in flight from the first moment.
  for (let k = 0; k < perClient; k++) {
    for (let j = 0; j < clients.length; j++) {
      clients[j].sendCandidate(tracker.base + j * perClient + k);
    }
  }
  const sendMs = performance.now() - started;
  await tracker.complete(timeoutMs);
  state.tracker = null;
  return {
    ...tracker.summary(),
    sendMs,
    elapsedMs: (tracker.received ? tracker.lastReceiveAt : performance.now()) - started,
    errors: errorCounts(clients),
  };
}

/**
 * Open-loop fixed rate: message m is due at start + m/rate whatever happened to earlier ones,
 * and its latency is measured from when it was due, so a stall in the server (or in this
 * generator) shows up in the percentiles instead of silently lowering the rate.
 */
export async function fixedRate(state, { ratePerSec, durationMs, drainMs }) {
  const clients = state.clients;
  const total = Math.max(1, Math.floor((ratePerSec * durationMs) / 1000));
  const tracker = new RelayTracker(state.nextSeq, total);
  state.nextSeq += total;
  state.tracker = tracker;
  const intervalMs = 1000 / ratePerSec;
  const started = performance.now() + 5;
  let sent = 0;
  let maxLagMs = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - started) / intervalMs) + 1);
      if (due > sent) maxLagMs = Math.max(maxLagMs, now - (started + sent * intervalMs));
      while (sent < due) {
        clients[sent % clients.length].sendCandidate(tracker.base + sent);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 5);
  });
  await tracker.complete(drainMs);
  state.tracker = null;
  const latenciesMs = new Float64Array(tracker.received);
  // Median latency per half second of the schedule: a queue that keeps growing (the server
  // cannot keep up) and an occasional stall (a pause) look alike in p99 but not over time.
  const windowMs = 500;
  const windows = [];
  let n = 0;
  for (let i = 0; i < total; i++) {
    const at = tracker.receivedAt[i];
    if (at < 0) continue;
    const latency = at - (started + i * intervalMs);
    latenciesMs[n++] = latency;
    (windows[Math.floor((i * intervalMs) / windowMs)] ??= []).push(latency);
  }
  const timelineP50Ms = windows.map((w) => (w ? w.sort((a, b) => a - b)[w.length >> 1] : NaN));
  return {
    ...tracker.summary(),
    maxSendLagMs: maxLagMs,
    latenciesMs,
    timelineP50Ms,
    errors: errorCounts(clients),
  };
}

/** Drops every connection. */
export function closeAll(state) {
  if (state.heartbeatTimer !== null) clearInterval(state.heartbeatTimer);
  state.heartbeatTimer = null;
  for (const client of state.clients) client?.terminate();
  state.clients = [];
  return { closed: true };
}
