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
import {
  SDP_ANSWER,
  SDP_OFFER,
  TestClient,
  candidate,
  startServer,
  type TestServer,
} from './support.js';

const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const SLOTS = 4;
const one2oneServerDecoder = createDecoder(One2OneServerMessages, 'id');

// ---------------------------------------------------------------------------------------------
// Scenarios: plain JSON, so a failing one can be stored and replayed.

type Path = '/' | '/ws' | '/call' | '/one2one';
interface Slot {
  readonly path: Path;
  readonly name: string;
  readonly login: 'native' | 'tutorial' | 'none';
}
type Step =
  | { readonly op: 'send'; readonly c: number; readonly text: string }
  | { readonly op: 'binary'; readonly c: number; readonly bytes: number[] }
  | { readonly op: 'settle'; readonly c: number }
  | { readonly op: 'tick' }
  | { readonly op: 'close' | 'terminate' | 'reopen'; readonly c: number };
export interface Scenario {
  readonly slots: Slot[];
  readonly steps: Step[];
  /** In corpus files: what the scenario broke when it was found. */
  readonly failure?: string;
}

// Placeholders resolved when a step runs: "$call:N" is the Nth call id anybody has seen,
// "$callof:N" the last one slot N has seen, "$name:N" slot N's login name.
const NAMES = ['ann', 'bob', 'Cy', 'dee', '__proto__', 'ANN', 'ghost', 'toString', 'ｂｏｂ'];
const name = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 4, arbitrary: fc.nat({ max: SLOTS - 1 }).map((n) => `$name:${n}`) },
);
const callId = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: SLOTS - 1 }).map((n) => `$callof:${n}`) },
  { weight: 3, arbitrary: fc.nat({ max: 9 }).map((n) => `$call:${n}`) },
  { weight: 1, arbitrary: fc.constantFrom('nope', '__proto__', 'x'.repeat(64)) },
);
const ref = fc.string({ maxLength: 8 });
const sdp = fc.constantFrom<unknown>(SDP_OFFER, SDP_ANSWER, 'v=0\r\n', { type: 'rollback' });
const cand = fc.oneof(fc.nat({ max: 40 }).map(candidate), fc.constant(null));
const media = fc.record({ audio: fc.boolean(), video: fc.boolean() }, { requiredKeys: [] });
const room = fc.constantFrom('r1', 'r2', '__proto__');

type Obj = Record<string, unknown>;
const rec = <T extends Obj>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: (keyof T)[]) =>
  fc.record(model, { requiredKeys: required, noNullPrototype: true }) as fc.Arbitrary<Obj>;
const lit = <S extends string>(s: S) => fc.constant(s);

const nativeMessage: fc.Arbitrary<Obj> = fc.oneof(
  rec({ type: lit('login'), name, protocol: fc.constant(1), ref }, ['type', 'name']),
  rec({ type: lit('call'), to: name, media, offer: sdp, ref }, ['type', 'to']),
  rec({ type: lit('accept'), callId, ref }, ['type', 'callId']),
  rec({ type: lit('decline'), callId, reason: fc.constantFrom('declined', 'busy') }, [
    'type',
    'callId',
  ]),
  rec({ type: lit('cancel'), callId }, ['type', 'callId']),
  rec({ type: fc.constantFrom('hangup', 'leave'), callId, name, ref }, ['type']),
  rec({ type: lit('offer'), offer: sdp, callId, name }, ['type', 'offer']),
  rec({ type: lit('answer'), answer: sdp, callId, name }, ['type', 'answer']),
  rec({ type: lit('candidate'), candidate: cand, callId, name }, ['type', 'candidate']),
  rec(
    {
      type: lit('users'),
      query: fc.string({ maxLength: 3 }),
      limit: fc.integer({ min: 1, max: 100 }),
      cursor: name,
    },
    ['type'],
  ),
  rec({ type: lit('watch'), names: fc.array(name, { maxLength: 4 }) }, ['type', 'names']),
  rec({ type: lit('join'), room, media }, ['type', 'room']),
  rec({ type: lit('ping'), ref }, ['type']),
);

const one2oneMessage: fc.Arbitrary<Obj> = fc.oneof(
  rec({ id: lit('register'), name }, ['id', 'name']),
  rec({ id: lit('list') }, ['id']),
  rec({ id: lit('call'), to: name, from: name, sdpOffer: sdp }, ['id', 'to', 'sdpOffer']),
  rec(
    {
      id: lit('incomingCallResponse'),
      from: name,
      callResponse: fc.constantFrom('accept', 'reject'),
      sdpOffer: sdp,
    },
    ['id', 'from', 'callResponse'],
  ),
  rec({ id: lit('onIceCandidate'), candidate: cand }, ['id', 'candidate']),
  rec({ id: lit('stop') }, ['id']),
  rec({ id: lit('ping') }, ['id']),
);

const KEYS = [
  'type',
  'id',
  'name',
  'to',
  'from',
  'callId',
  'offer',
  'answer',
  'candidate',
  'sdpOffer',
  'ref',
  'room',
  'names',
  'limit',
  'protocol',
  'callResponse',
  '__proto__',
  'constructor',
];
const TYPES = [
  'login',
  'call',
  'accept',
  'decline',
  'cancel',
  'hangup',
  'leave',
  'offer',
  'answer',
  'candidate',
  'users',
  'watch',
  'join',
  'ping',
  'register',
  'list',
  'incomingCallResponse',
  'onIceCandidate',
  'stop',
  '__proto__',
  'toString',
];
type Mutation =
  | { kind: 'drop'; key: string }
  | { kind: 'set'; key: string; value: unknown }
  | { kind: 'retype'; to: string };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: lit('drop'), key: fc.constantFrom(...KEYS) }),
  fc.record({
    kind: lit('set'),
    key: fc.constantFrom(...KEYS),
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({ kind: lit('retype'), to: fc.constantFrom(...TYPES) }),
);

/** Apply mutations with own-property semantics (so "__proto__" is a key, not the prototype). */
function mutate(msg: Obj, mutations: Mutation[]): Obj {
  const out: Obj = {};
  const put = (key: string, value: unknown) =>
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  for (const [k, v] of Object.entries(msg)) put(k, v);
  for (const m of mutations) {
    if (m.kind === 'drop') delete out[m.key];
    else if (m.kind === 'set') put(m.key, m.value);
    else put(Object.hasOwn(out, 'id') ? 'id' : 'type', m.to);
  }
  return out;
}

const anyMessage = fc.oneof(nativeMessage, one2oneMessage);
const frameText: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: anyMessage.map((m) => JSON.stringify(m)) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(anyMessage, fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([m, muts]) => JSON.stringify(mutate(m, muts))),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ maxLength: 24, unit: 'binary' }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(anyMessage, fc.nat({ max: 60 }))
      .map(([m, n]) => JSON.stringify(m).slice(0, n)),
  },
);

const slotIndex = fc.nat({ max: SLOTS - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ op: lit('send'), c: slotIndex, text: frameText }) },
  { weight: 5, arbitrary: fc.record({ op: lit('settle'), c: slotIndex }) },
  { weight: 3, arbitrary: fc.constant({ op: 'tick' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: lit('binary'),
      c: slotIndex,
      bytes: fc.array(fc.nat({ max: 255 }), { maxLength: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constantFrom('close' as const, 'terminate' as const),
      c: slotIndex,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: lit('reopen'), c: slotIndex }) },
);

const isNativePath = (p: Path) => p === '/' || p === '/ws';
const send = (c: number, msg: Obj): Step => ({ op: 'send', c, text: JSON.stringify(msg) });
const settle = (c: number): Step => ({ op: 'settle', c });

type Dialect = 'native' | 'tutorial' | 'one2one' | 'anonymous';
const dialectOf = (s: Slot): Dialect =>
  !isNativePath(s.path) ? 'one2one' : s.login === 'none' ? 'anonymous' : s.login;

/**
 * A whole call from slot i to slot j in the words each side's dialect uses, possibly cut short
 * or ended by a disconnect: invite, accept, offer/answer, candidates both ways, hang-up.
 */
function flowFor(slots: Slot[]): fc.Arbitrary<Step[]> {
  return fc
    .record({
      i: slotIndex,
      d: fc.nat({ max: SLOTS - 2 }),
      offerInCall: fc.boolean(),
      candidates: fc.nat({ max: 3 }),
      cut: fc.nat({ max: 16 }),
      ender: fc.constantFrom('caller', 'callee', 'caller-drops', 'callee-drops', 'none'),
    })
    .map(({ i, d, offerInCall, candidates, cut, ender }): Step[] => {
      const j = (i + 1 + d) % SLOTS;
      const [from, to] = [dialectOf(slots[i]!), dialectOf(slots[j]!)];
      const steps: Step[] = [];
      const peerI = `$name:${i}`;
      const peerJ = `$name:${j}`;
      // Invite.
      if (from === 'one2one') steps.push(send(i, { id: 'call', to: peerJ, sdpOffer: SDP_OFFER }));
      else if (from === 'tutorial')
        steps.push(send(i, { type: 'offer', name: peerJ, offer: SDP_OFFER }));
      else
        steps.push(
          send(i, { type: 'call', to: peerJ, ...(offerInCall ? { offer: SDP_OFFER } : {}) }),
        );
      steps.push(settle(i), settle(j));
      // The native caller's offer goes before the accept when the callee needs it to ring.
      if ((from === 'native' || from === 'anonymous') && !offerInCall && to === 'one2one') {
        steps.push(send(i, { type: 'offer', callId: `$callof:${i}`, offer: SDP_OFFER }), settle(j));
      }
      // Accept (a tutorial callee is accepted for).
      if (to === 'one2one') {
        steps.push(
          send(j, {
            id: 'incomingCallResponse',
            from: peerI,
            callResponse: 'accept',
            sdpOffer: SDP_ANSWER,
          }),
        );
      } else if (to !== 'tutorial') {
        steps.push(send(j, { type: 'accept', callId: `$callof:${j}` }));
      }
      steps.push(settle(i));
      if ((from === 'native' || from === 'anonymous') && !offerInCall && to !== 'one2one') {
        steps.push(send(i, { type: 'offer', callId: `$callof:${i}`, offer: SDP_OFFER }));
      }
      steps.push(settle(j));
      if (to === 'tutorial')
        steps.push(send(j, { type: 'answer', name: peerI, answer: SDP_ANSWER }));
      else if (to !== 'one2one')
        steps.push(send(j, { type: 'answer', callId: `$callof:${j}`, answer: SDP_ANSWER }));
      // Candidates both ways.
      const cand = (k: number, dialect: Dialect, c: number, peer: string): Step =>
        dialect === 'one2one'
          ? send(c, { id: 'onIceCandidate', candidate: candidate(k) })
          : dialect === 'tutorial'
            ? send(c, { type: 'candidate', name: peer, candidate: candidate(k) })
            : send(c, { type: 'candidate', callId: `$callof:${c}`, candidate: candidate(k) });
      for (let k = 0; k < candidates; k++)
        steps.push(cand(k, from, i, peerJ), cand(10 + k, to, j, peerI));
      // The end, at any point of the call: a hang-up by either side, a dropped socket, or none.
      const hang = (dialect: Dialect, c: number, peer: string): Step =>
        dialect === 'one2one'
          ? send(c, { id: 'stop' })
          : dialect === 'tutorial'
            ? send(c, { type: 'leave', name: peer })
            : send(c, { type: 'hangup', callId: `$callof:${c}` });
      const end: Step[] =
        ender === 'caller'
          ? [hang(from, i, peerJ)]
          : ender === 'callee'
            ? [hang(to, j, peerI)]
            : ender === 'none'
              ? []
              : [
                  { op: 'terminate', c: ender === 'caller-drops' ? i : j },
                  { op: 'reopen', c: ender === 'caller-drops' ? i : j },
                ];
      return [...steps.slice(0, Math.max(1, cut)), ...end];
    });
}

/** Keep each list's order, interleave them as `picks` says. */
function interleave(a: Step[], b: Step[], picks: boolean[]): Step[] {
  const out: Step[] = [];
  let i = 0;
  let j = 0;
  let p = 0;
  while (i < a.length || j < b.length) {
    const takeA =
      j >= b.length || (i < a.length && (picks[p++ % Math.max(1, picks.length)] ?? true));
    out.push(takeA ? a[i++]! : b[j++]!);
  }
  return out;
}

const slotsArb: fc.Arbitrary<Slot[]> = fc
  .tuple(
    // Mostly four different people; sometimes the same name twice (name_taken, case folding).
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.uniqueArray(fc.constantFrom(...NAMES), {
          minLength: SLOTS,
          maxLength: SLOTS,
          selector: (n) => n.normalize('NFKC').toLowerCase(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.array(fc.constantFrom(...NAMES), { minLength: SLOTS, maxLength: SLOTS }),
      },
    ),
    fc.array(
      fc.record({
        path: fc.constantFrom<Path>('/', '/', '/', '/ws', '/call', '/one2one'),
        login: fc.constantFrom<Slot['login']>(
          'native',
          'native',
          'native',
          'tutorial',
          'tutorial',
          'none',
        ),
      }),
      { minLength: SLOTS, maxLength: SLOTS },
    ),
  )
  .map(([names, rest]) => rest.map((r, k) => ({ ...r, name: names[k]! })));

const scenario: fc.Arbitrary<Scenario> = slotsArb.chain((slots) =>
  fc
    .record({
      flows: fc.array(flowFor(slots), { maxLength: 4 }),
      noise: fc.array(step, { maxLength: 30 }),
      picks: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
    })
    .map(({ flows, noise, picks }) => ({ slots, steps: interleave(flows.flat(), noise, picks) })),
);

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
  const engine = ts.server.ctx.engine as unknown as {
    calls: Map<string, Call>;
    rooms: Map<string, Session | Call>;
  };
  const hub = ts.server.ctx.hub as unknown as { watchers: Map<string, Set<Session>> };
  const gateway = ts.server.gateway as unknown as { sessions: Set<Session> };
  return {
    calls: engine.calls,
    rooms: engine.rooms,
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
      expect(call.held, where).toEqual([]);
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

const SERVER_FLAGS = ['--ring-timeout-ms', '150', '--held-max', '8'];
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
