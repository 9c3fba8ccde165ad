// Scenario generators for property.test.ts: plain JSON scenarios (slots and steps), so that a
// failing one can be stored in corpus/ and replayed.
import fc from 'fast-check';
import { SDP_ANSWER, SDP_OFFER, candidate } from './support.js';

export const SLOTS = 4;

export type Path = '/' | '/ws' | '/call' | '/one2one';
export interface Slot {
  readonly path: Path;
  readonly name: string;
  readonly login: 'native' | 'tutorial' | 'none';
}
export type Step =
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

export type Obj = Record<string, unknown>;
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

export const isNativePath = (p: Path) => p === '/' || p === '/ws';
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

export const scenario: fc.Arbitrary<Scenario> = slotsArb.chain((slots) =>
  fc
    .record({
      flows: fc.array(flowFor(slots), { maxLength: 4 }),
      noise: fc.array(step, { maxLength: 30 }),
      picks: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
    })
    .map(({ flows, noise, picks }) => ({ slots, steps: interleave(flows.flat(), noise, picks) })),
);

