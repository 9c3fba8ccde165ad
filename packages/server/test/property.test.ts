// Property tests against a real in-process server: thousands of random, mutated and valid
// messages from several real clients (native, tutorial and one2one), interleaved with closes
// and terminations. Whatever happens, no handler may throw, every call the engine holds must be
// a consistent pair, every frame the server sends must match its schema, and once everyone
// has left every registry must be empty again.
//
// Any input fast-check finds failing is written to test/corpus/ and replayed by the corpus
// test from then on (seed-*.json are hand-written scenarios kept for the same purpose).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  One2OneServerMessages,
  createDecoder,
  one2oneDecoder,
  serverDecoder,
} from '@callwire/protocol';
import type { Call } from '../src/calls/call.js';
import type { Session } from '../src/ws/session.js';
import { TestClient, startServer, type TestServer } from './support.js';
import {
  isNativePath,
  scenario,
  type Obj,
  type Path,
  type Scenario,
  type Slot,
} from './property-scenarios.js';

const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const one2oneServerDecoder = createDecoder(One2OneServerMessages, 'id');

// ---------------------------------------------------------------------------------------------
// Running a scenario against the server

interface Live {
  client: TestClient;
  readonly path: Path;
  /** Valid one2one pings sent on this socket: each is owed exactly one pong, in order. */
  pingsOwed: number;
  /** A valid one2one `call` went out on this socket. */
  sentCall: boolean;
  scanned: number;
  lastCallId: string | undefined;
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not reached in time: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function internals(ts: TestServer) {
  const book = ts.server.ctx.engine.book as unknown as {
    calls: Map<string, Call>;
    rooms: Map<string, Session | Call>;
  };
  const hub = ts.server.ctx.hub as unknown as { watchers: Map<string, Set<Session>> };
  const gateway = ts.server.gateway as unknown as { sessions: Set<Session> };
  return {
    calls: book.calls,
    rooms: book.rooms,
    watchers: hub.watchers,
    sessions: gateway.sessions,
  };
}

/** Every call is a pair of two distinct live parties that both point back at it, and back. */
function checkCalls(ts: TestServer): void {
  const { calls, rooms, sessions } = internals(ts);
  const hub = ts.server.ctx.hub;
  for (const [id, call] of calls) {
    const where = `call ${id} (${call.caller.name} -> ${call.callee.name}, ${call.state})`;
    expect(call.id, where).toBe(id);
    expect(call.state, where).not.toBe('ended');
    expect(call.caller, where).not.toBe(call.callee);
    expect(call.caller.key, where).not.toBe(call.callee.key);
    for (const party of [call.caller, call.callee]) {
      expect(party.call, `${where}: ${party.name} points elsewhere`).toBe(call);
      expect(party.state, where).toBe('active');
      expect(hub.get(party.key), where).toBe(party);
    }
    if (call.state === 'connected') {
      expect(call.ringTimer, where).toBeUndefined();
      expect(call.queued, where).toEqual([]);
    }
  }
  for (const s of sessions) {
    if (s.call !== null)
      expect(calls.get(s.call.id), `${s.name} holds an unknown call`).toBe(s.call);
    if (s.state !== 'active') {
      expect(s.call, `anonymous ${s.id} in a call`).toBeNull();
      expect(s.room).toBeNull();
    }
  }
  for (const [name, entry] of rooms) {
    if ('caller' in entry) {
      expect(calls.get(entry.id), `room ${name}`).toBe(entry);
      expect(entry.room).toBe(name);
    } else {
      expect(entry.room, `room ${name} waiter`).toBe(name);
      expect(entry.call).toBeNull();
    }
  }
}

function checkFrames(live: Live): void {
  const decoder = isNativePath(live.path) ? serverDecoder : one2oneServerDecoder;
  for (const text of live.client.raw) {
    const r = decoder.decode(text);
    expect(r.ok ? 'ok' : `${r.code}: ${text}`, 'server frame fits its schema').toBe('ok');
  }
}

/**
 * What a native client was told must add up, call by call: signals only after `accepted` and
 * only from the peer it was accepted with; at most one `leave` per call; and a call it was told
 * about but never told the end of must still be live in the engine with this user in it.
 */
function checkNativeStory(ts: TestServer, live: Live): void {
  const frames = live.client.raw.map((t) => JSON.parse(t) as Obj);
  const login = frames.find((m) => m.type === 'login' && m.success === true);
  if (login?.protocol !== 1) return; // tutorial clients have no ringing step, one2one no callIds
  const peerOf = new Map<string, unknown>();
  const told = new Set<string>();
  const left = new Set<string>();
  for (const m of frames) {
    const id = m.callId as string;
    const where = `${String(login.name)}: ${JSON.stringify(m).slice(0, 200)}`;
    switch (m.type) {
      case 'ringing':
      case 'incoming':
        told.add(id);
        break;
      case 'accepted':
        told.add(id);
        expect(peerOf.has(id), `accepted twice: ${where}`).toBe(false);
        peerOf.set(id, m.name);
        break;
      case 'offer':
      case 'answer':
      case 'candidate':
        expect(peerOf.has(id), `signal before accepted: ${where}`).toBe(true);
        expect(left.has(id), `signal after leave: ${where}`).toBe(false);
        expect(m.from, `signal from a stranger: ${where}`).toBe(peerOf.get(id));
        break;
      case 'leave':
        expect(left.has(id), `second leave: ${where}`).toBe(false);
        left.add(id);
        break;
    }
  }
  const { calls } = internals(ts);
  for (const id of told) {
    if (left.has(id)) continue;
    const call = calls.get(id);
    expect(call, `${String(login.name)} was never told that call ${id} ended`).toBeDefined();
    expect([call!.caller.name, call!.callee.name]).toContain(login.name);
  }
}

/** A one2one client that neither placed nor was offered a call hears nothing about calls. */
function checkOne2OneStory(live: Live): void {
  if (isNativePath(live.path) || live.sentCall) return;
  const ids = live.client.raw.map((t) => (JSON.parse(t) as Obj).id);
  if (ids.includes('incomingCall')) return;
  const stray = live.client.raw.filter((t) =>
    /"id":"(stopCommunication|callResponse|iceCandidate)"/.test(t),
  );
  expect(stray, 'call messages for a call this one2one client never saw').toEqual([]);
}

/** Resolve placeholders in a frame's text against what the clients have seen so far. */
function resolve(text: string, scenario: Scenario, lives: (Live | null)[], seen: string[]): string {
  for (const live of lives) {
    if (!live) continue;
    for (; live.scanned < live.client.raw.length; live.scanned++) {
      const m = JSON.parse(live.client.raw[live.scanned]!) as Obj;
      if (typeof m.callId === 'string') {
        live.lastCallId = m.callId;
        if (!seen.includes(m.callId)) seen.push(m.callId);
      }
    }
  }
  return text
    .replace(/"\$name:(\d)"/g, (_, n: string) =>
      JSON.stringify(scenario.slots[Number(n)]?.name ?? 'nobody'),
    )
    .replace(/"\$callof:(\d)"/g, (_, n: string) =>
      JSON.stringify(lives[Number(n)]?.lastCallId ?? 'none-yet'),
    )
    .replace(/"\$call:(\d)"/g, (_, n: string) => JSON.stringify(seen[Number(n)] ?? 'none-yet'));
}

async function open(ts: TestServer, s: Slot): Promise<Live> {
  const client = await TestClient.open(ts.url(s.path));
  const live: Live = {
    client,
    path: s.path,
    pingsOwed: 0,
    sentCall: false,
    scanned: 0,
    lastCallId: undefined,
  };
  if (s.login !== 'none') {
    const native = isNativePath(s.path);
    client.send(
      native
        ? { type: 'login', name: s.name, ...(s.login === 'native' ? { protocol: 1 } : {}) }
        : { id: 'register', name: s.name },
    );
  }
  return live;
}

function sendText(live: Live, text: string): void {
  if (live.client.ws.readyState !== live.client.ws.OPEN) return;
  if (!isNativePath(live.path)) {
    const d = one2oneDecoder.decode(text);
    if (d.ok && d.msg.id === 'ping') live.pingsOwed++;
    if (d.ok && d.msg.id === 'call') live.sentCall = true;
  }
  live.client.send(text);
}

/** Everything this client sent has been handled (or the socket is gone). */
async function settleLive(live: Live): Promise<void> {
  const c = live.client;
  if (c.ws.readyState !== c.ws.OPEN) return;
  try {
    if (isNativePath(live.path)) {
      await c.settle();
    } else {
      sendText(live, '{"id":"ping"}');
      const owed = live.pingsOwed;
      await until(
        () =>
          c.closeCode !== undefined || c.raw.filter((r) => r === '{"id":"pong"}').length >= owed,
        'one2one pong',
      );
    }
  } catch (err) {
    if (c.closeCode === undefined) throw err; // an open socket that stops answering is a bug
  }
}

export async function runScenario(ts: TestServer, sc: Scenario): Promise<void> {
  const internalBefore = ts.server.ctx.stats.errors.get('internal_error') ?? 0;
  const lives: (Live | null)[] = await Promise.all(sc.slots.map((s) => open(ts, s)));
  const retired: Live[] = [];
  const seen: string[] = [];
  try {
    for (const st of sc.steps) {
      if (st.op === 'tick') {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const live = lives[st.c];
      if (!live) continue;
      switch (st.op) {
        case 'send':
          sendText(live, resolve(st.text, sc, lives, seen));
          break;
        case 'binary':
          if (live.client.ws.readyState === live.client.ws.OPEN)
            live.client.ws.send(Buffer.from(st.bytes));
          break;
        case 'settle':
          await settleLive(live);
          break;
        case 'close':
          live.client.close();
          break;
        case 'terminate':
          live.client.ws.terminate();
          break;
        case 'reopen':
          if (live.client.ws.readyState === live.client.ws.OPEN) break;
          retired.push(live);
          lives[st.c] = await open(ts, sc.slots[st.c]!);
          break;
      }
    }
    const all = [...retired, ...lives.filter((l): l is Live => l !== null)];
    for (const live of all) await settleLive(live);
    checkCalls(ts);
    for (const live of all) checkFrames(live);
    for (const live of lives)
      if (live && live.client.closeCode === undefined) checkNativeStory(ts, live);
    for (const live of all) checkOne2OneStory(live);
  } finally {
    const all = [...retired, ...lives.filter((l): l is Live => l !== null)];
    all.forEach((l, i) => (i % 2 === 0 ? l.client.close() : l.client.ws.terminate()));
    await Promise.all(all.map((l) => l.client.closed));
  }
  const { calls, rooms, watchers, sessions } = internals(ts);
  await until(() => sessions.size === 0, 'every session gone');
  expect(ts.server.ctx.stats.errors.get('internal_error') ?? 0, 'internal_error').toBe(
    internalBefore,
  );
  expect(ts.server.ctx.hub.size, 'hub').toBe(0);
  expect(calls.size, 'calls').toBe(0);
  expect(rooms.size, 'rooms').toBe(0);
  expect(watchers.size, 'watchers').toBe(0);
  expect(ts.server.gateway.size, 'gateway sessions').toBe(0);
}

// ---------------------------------------------------------------------------------------------

const SERVER_FLAGS = ['--ring-timeout-ms', '150', '--queue-max', '8'];
let ts: TestServer;
beforeAll(async () => {
  ts = await startServer(SERVER_FLAGS);
});
afterAll(async () => {
  await ts.close();
});

/** Run on the shared server; after a failure, start a clean one so shrinking is not misled. */
async function runFresh(sc: Scenario): Promise<void> {
  try {
    await runScenario(ts, sc);
  } catch (err) {
    await ts.close();
    ts = await startServer(SERVER_FLAGS);
    throw err;
  }
}

/** What was broken, without the run's details (ids, frames), to tell one failure from another. */
function failureKind(error: unknown): string {
  const first = (error instanceof Error ? error.message : String(error)).split('\n', 1)[0]!;
  return first.split(': expected', 1)[0]!.slice(0, 120);
}

/**
 * Keep a failing scenario. One file per kind of failure: while a known bug is unfixed, every
 * run that trips over it again would otherwise add another file for the same cause.
 */
function saveToCorpus(sc: Scenario, error: unknown): string {
  mkdirSync(CORPUS_DIR, { recursive: true });
  const failure = failureKind(error);
  for (const f of readdirSync(CORPUS_DIR).filter((n) => n.endsWith('.json'))) {
    const known = JSON.parse(readFileSync(join(CORPUS_DIR, f), 'utf8')) as { failure?: string };
    if (known.failure === failure) return `${join(CORPUS_DIR, f)} (already kept for this failure)`;
  }
  const text = `${JSON.stringify({ failure, ...sc }, null, 1)}\n`;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const file = join(CORPUS_DIR, `found-${hash}.json`);
  writeFileSync(file, text);
  return file;
}

describe('random and mutated traffic against a real server', () => {
  it('keeps every invariant', async () => {
    // CALLWIRE_PROPERTY_RUNS=5000 explores longer; the time limit keeps the default run short.
    const result = await fc.check(
      fc.asyncProperty(scenario, async (sc) => runFresh(sc)),
      {
        numRuns: Number(process.env.CALLWIRE_PROPERTY_RUNS ?? 300),
        interruptAfterTimeLimit: 25_000,
      },
    );
    if (result.failed && result.counterexample) {
      const file = saveToCorpus(result.counterexample[0], result.errorInstance);
      throw new Error(`${fc.defaultReportMessage(result)}\nsaved to ${file}`);
    }
    expect(result.failed, fc.defaultReportMessage(result) ?? '').toBe(false);
    expect(result.numRuns).toBeGreaterThan(50);
  }, 60_000);
});

describe('corpus of past failures', () => {
  const files = readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  it('has scenarios to replay', () => {
    expect(files.length).toBeGreaterThan(0);
  });
  it.each(files)('replays %s', async (file) => {
    const sc = JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as Scenario;
    await runFresh(sc);
  });
});
