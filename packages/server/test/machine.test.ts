// The call state machine on its own: pure, so every (state, event) pair can be walked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { END_REASONS, ERROR_CODES } from '@callwire/protocol';
import {
  assertNever,
  transition,
  type CallEvent,
  type CallState,
  type Role,
  type Transition,
} from '../src/calls/machine.js';

const STATES: readonly CallState[] = ['ringing', 'connected', 'ended'];
const PARTIES: readonly Role[] = ['caller', 'callee'];
const SIGNALS = ['offer', 'answer', 'candidate'] as const;

/** Every event the engine can feed the machine. */
const EVENTS: readonly CallEvent[] = [
  ...PARTIES.map((by) => ({ kind: 'accept', by }) as const),
  ...PARTIES.flatMap((by) => [true, false].map((busy) => ({ kind: 'decline', by, busy }) as const)),
  ...PARTIES.map((by) => ({ kind: 'cancel', by }) as const),
  ...PARTIES.map((by) => ({ kind: 'hangup', by }) as const),
  { kind: 'timeout' },
  ...PARTIES.map((by) => ({ kind: 'disconnect', by }) as const),
  { kind: 'failed' },
  ...PARTIES.flatMap((by) => SIGNALS.map((signal) => ({ kind: 'signal', by, signal }) as const)),
];

const event: fc.Arbitrary<CallEvent> = fc.constantFrom(...EVENTS);
const state: fc.Arbitrary<CallState> = fc.constantFrom(...STATES);

const label = (s: CallState, e: CallEvent) => `${s} + ${JSON.stringify(e)}`;

function expectEnd(
  t: Transition,
  caller: (typeof END_REASONS)[number],
  callee: (typeof END_REASONS)[number],
  missed: boolean,
): void {
  expect(t).toEqual({ action: 'end', state: 'ended', reasons: { caller, callee }, missed });
}

describe('transition() is total', () => {
  it.each(STATES.flatMap((s) => EVENTS.map((e) => [label(s, e), s, e] as const)))(
    '%s has a well-formed answer',
    (_label, s, e) => {
      const t = transition(s, e);
      switch (t.action) {
        case 'accept':
          expect(t.state).toBe('connected');
          break;
        case 'end':
          expect(t.state).toBe('ended');
          expect(END_REASONS).toContain(t.reasons.caller);
          expect(END_REASONS).toContain(t.reasons.callee);
          expect(typeof t.missed).toBe('boolean');
          break;
        case 'relay':
          expect(t.state).toBe(s);
          break;
        case 'queue':
          expect(t.state).toBe('ringing');
          expect(s).toBe('ringing');
          break;
        case 'reject':
          expect(t.state).toBe(s);
          expect(ERROR_CODES).toContain(t.code);
          break;
        default:
          assertNever(t);
      }
      // Pure: the same question gets the same answer.
      expect(transition(s, e)).toEqual(t);
    },
  );

  it('covers every state and event kind with the enumeration above', () => {
    const kinds = new Set(EVENTS.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(
      ['accept', 'cancel', 'decline', 'disconnect', 'failed', 'hangup', 'signal', 'timeout'].sort(),
    );
    expect(STATES.length * EVENTS.length).toBe(3 * 20);
  });

  it('assertNever throws a TypeError for a value outside the union', () => {
    expect(() => assertNever({ kind: 'bogus' } as never)).toThrow(TypeError);
  });
});

describe("'ended' is absorbing", () => {
  it.each(EVENTS.map((e) => [JSON.stringify(e), e] as const))(
    'ended + %s -> reject not_in_call',
    (_l, e) => {
      expect(transition('ended', e)).toEqual({
        action: 'reject',
        state: 'ended',
        code: 'not_in_call',
      });
    },
  );
});

describe('who may do what', () => {
  it('only the callee can accept, and only while ringing', () => {
    expect(transition('ringing', { kind: 'accept', by: 'callee' })).toEqual({
      action: 'accept',
      state: 'connected',
    });
    expect(transition('ringing', { kind: 'accept', by: 'caller' })).toEqual({
      action: 'reject',
      state: 'ringing',
      code: 'invalid_state',
    });
    for (const by of PARTIES) {
      expect(transition('connected', { kind: 'accept', by })).toMatchObject({
        action: 'reject',
        code: 'invalid_state',
      });
    }
  });

  it('only the callee can decline, only the caller can cancel, only while ringing', () => {
    for (const busy of [true, false]) {
      expect(transition('ringing', { kind: 'decline', by: 'caller', busy })).toMatchObject({
        action: 'reject',
        code: 'invalid_state',
      });
      expect(transition('connected', { kind: 'decline', by: 'callee', busy })).toMatchObject({
        action: 'reject',
        code: 'invalid_state',
      });
    }
    expect(transition('ringing', { kind: 'cancel', by: 'callee' })).toMatchObject({
      action: 'reject',
      code: 'invalid_state',
    });
    expect(transition('connected', { kind: 'cancel', by: 'caller' })).toMatchObject({
      action: 'reject',
      code: 'invalid_state',
    });
  });

  it("while ringing the caller's offers and candidates are held; answers and the callee are refused", () => {
    expect(transition('ringing', { kind: 'signal', by: 'caller', signal: 'offer' })).toEqual({
      action: 'queue',
      state: 'ringing',
    });
    expect(transition('ringing', { kind: 'signal', by: 'caller', signal: 'candidate' })).toEqual({
      action: 'queue',
      state: 'ringing',
    });
    expect(transition('ringing', { kind: 'signal', by: 'caller', signal: 'answer' })).toMatchObject(
      {
        action: 'reject',
        code: 'invalid_state',
      },
    );
    for (const signal of SIGNALS) {
      expect(transition('ringing', { kind: 'signal', by: 'callee', signal })).toMatchObject({
        action: 'reject',
        code: 'invalid_state',
      });
    }
  });

  it("once connected, either party's signals are relayed", () => {
    for (const by of PARTIES) {
      for (const signal of SIGNALS) {
        expect(transition('connected', { kind: 'signal', by, signal })).toEqual({
          action: 'relay',
          state: 'connected',
        });
      }
    }
  });

  it('a ring timeout only ends a ringing call', () => {
    expect(transition('connected', { kind: 'timeout' })).toMatchObject({
      action: 'reject',
      code: 'invalid_state',
    });
  });
});

describe('end reasons per party, as docs/PROTOCOL.md tells them', () => {
  it('decline: both declined; decline as busy: both busy', () => {
    expectEnd(
      transition('ringing', { kind: 'decline', by: 'callee', busy: false }),
      'declined',
      'declined',
      false,
    );
    expectEnd(
      transition('ringing', { kind: 'decline', by: 'callee', busy: true }),
      'busy',
      'busy',
      false,
    );
  });

  it('cancel: both cancelled, a missed call for the callee', () => {
    expectEnd(
      transition('ringing', { kind: 'cancel', by: 'caller' }),
      'cancelled',
      'cancelled',
      true,
    );
  });

  it('ring timeout: caller no_answer, callee cancelled, missed', () => {
    expectEnd(transition('ringing', { kind: 'timeout' }), 'no_answer', 'cancelled', true);
  });

  it('hangup while ringing means cancel (caller) or decline (callee); once connected, hangup', () => {
    expectEnd(
      transition('ringing', { kind: 'hangup', by: 'caller' }),
      'cancelled',
      'cancelled',
      true,
    );
    expectEnd(
      transition('ringing', { kind: 'hangup', by: 'callee' }),
      'declined',
      'declined',
      false,
    );
    for (const by of PARTIES)
      expectEnd(transition('connected', { kind: 'hangup', by }), 'hangup', 'hangup', false);
  });

  it('disconnect: both disconnected; missed only when the caller vanished while ringing', () => {
    expectEnd(
      transition('ringing', { kind: 'disconnect', by: 'caller' }),
      'disconnected',
      'disconnected',
      true,
    );
    expectEnd(
      transition('ringing', { kind: 'disconnect', by: 'callee' }),
      'disconnected',
      'disconnected',
      false,
    );
    for (const by of PARTIES) {
      expectEnd(
        transition('connected', { kind: 'disconnect', by }),
        'disconnected',
        'disconnected',
        false,
      );
    }
  });

  it('failed: both failed, in any live state', () => {
    expectEnd(transition('ringing', { kind: 'failed' }), 'failed', 'failed', false);
    expectEnd(transition('connected', { kind: 'failed' }), 'failed', 'failed', false);
  });

  it('a connected call is never a missed call', () => {
    for (const e of EVENTS) {
      const t = transition('connected', e);
      if (t.action === 'end') expect(t.missed, JSON.stringify(e)).toBe(false);
    }
  });
});

/** Drive a call from ringing through a sequence of events, as the engine does. */
function run(events: readonly CallEvent[]): { state: CallState; trace: Transition[] } {
  let s: CallState = 'ringing';
  const trace: Transition[] = [];
  for (const e of events) {
    const t = transition(s, e);
    trace.push(t);
    s = t.state;
  }
  return { state: s, trace };
}

describe('properties over any event sequence', () => {
  it('at most one end, at most one accept, and nothing but rejections after the end', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const { trace } = run(events);
        expect(trace.filter((t) => t.action === 'end').length).toBeLessThanOrEqual(1);
        expect(trace.filter((t) => t.action === 'accept').length).toBeLessThanOrEqual(1);
        const endAt = trace.findIndex((t) => t.action === 'end');
        if (endAt >= 0) {
          for (const t of trace.slice(endAt + 1))
            expect(t).toEqual({ action: 'reject', state: 'ended', code: 'not_in_call' });
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('states only move forward: ringing -> connected -> ended', () => {
    const rank: Record<CallState, number> = { ringing: 0, connected: 1, ended: 2 };
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let s: CallState = 'ringing';
        for (const e of events) {
          const next: CallState = transition(s, e).state;
          expect(rank[next]).toBeGreaterThanOrEqual(rank[s]);
          s = next;
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('holds happen only before the accept, relays only after it', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        const { trace } = run(events);
        const acceptAt = trace.findIndex((t) => t.action === 'accept');
        trace.forEach((t, i) => {
          if (t.action === 'queue') expect(acceptAt === -1 || i < acceptAt).toBe(true);
          if (t.action === 'relay') expect(acceptAt).toBeGreaterThanOrEqual(0);
          if (t.action === 'relay') expect(i).toBeGreaterThan(acceptAt);
        });
      }),
      { numRuns: 2_000 },
    );
  });

  it('a rejected event changes nothing, from any state', () => {
    fc.assert(
      fc.property(state, event, (s, e) => {
        const t = transition(s, e);
        if (t.action === 'reject') expect(t.state).toBe(s);
      }),
    );
  });

  it('every call that ends without an accept tells the callee it was missed unless the callee ended it', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 20 }), (events) => {
        let s: CallState = 'ringing';
        for (const e of events) {
          const t = transition(s, e);
          if (t.action === 'end' && s === 'ringing') {
            const byCallee = 'by' in e && e.by === 'callee';
            // The callee declining, hanging up or dropping is no missed call; the caller giving
            // up (cancel, hangup, drop) or the ring timing out is.
            if (e.kind === 'failed') expect(t.missed).toBe(false);
            else expect(t.missed, JSON.stringify(e)).toBe(!byCallee);
          }
          s = t.state;
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
