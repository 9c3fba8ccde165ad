/**
 * The pure parts of surviving a network blip: when ICE is restarted (ice-recovery.ts, driven by
 * fake timers and ICE states as Chromium reports them), and what is held while the signaling
 * socket is down (resume-state.ts).
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IceRecovery, defaultIceRecoveryOptions } from '../src/ice-recovery.js';
import { OUTBOX_LIMIT, ResumeState } from '../src/resume-state.js';

function recovery(initiator: boolean): { ice: IceRecovery; log: string[] } {
  const log: string[] = [];
  const ice = new IceRecovery(defaultIceRecoveryOptions(initiator), {
    restart: () => log.push(`restart@${Date.now()}`),
    giveUp: () => log.push(`giveUp@${Date.now()}`),
  });
  return { ice, log };
}

describe('IceRecovery', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the caller restarts once `disconnected` outlasts the grace, then backs off until ICE is back', () => {
    const { ice, log } = recovery(true);
    ice.update('checking');
    ice.update('connected');
    ice.update('disconnected');
    vi.advanceTimersByTime(2_499);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['restart@2500']);
    // Still broken: 2, 4 and 8 s apart.
    vi.advanceTimersByTime(14_000);
    expect(log).toEqual(['restart@2500', 'restart@4500', 'restart@8500', 'restart@16500']);
    ice.update('checking');
    ice.update('connected');
    vi.advanceTimersByTime(60_000);
    expect(log).toHaveLength(4);
    expect(ice.broken).toBe(false);
  });

  it('a `disconnected` that heals within the grace restarts nothing', () => {
    const { ice, log } = recovery(true);
    ice.update('connected');
    ice.update('disconnected');
    vi.advanceTimersByTime(1_000);
    ice.update('connected');
    vi.advanceTimersByTime(60_000);
    expect(log).toEqual([]);
  });

  it('the callee never restarts: it waits for the caller, and gives up only when media stays down', () => {
    const { ice, log } = recovery(false);
    ice.update('connected');
    ice.update('failed');
    vi.advanceTimersByTime(29_999);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['giveUp@30000']);
  });

  it('waits while signaling is away and restarts at once when it is back', () => {
    const { ice, log } = recovery(true);
    ice.update('connected');
    ice.setSignalingReady(false);
    ice.update('failed');
    vi.advanceTimersByTime(10_000);
    expect(log).toEqual([]);
    ice.setSignalingReady(true);
    vi.advanceTimersByTime(0);
    expect(log).toEqual(['restart@10000']);
    ice.update('connected');
    expect(ice.attempts).toBe(0);
  });

  it('a call that never connected gets one restart, then fails', () => {
    const caller = recovery(true);
    caller.ice.update('checking');
    caller.ice.update('failed');
    expect(caller.log).toEqual(['restart@0']);
    caller.ice.update('checking');
    caller.ice.update('failed');
    expect(caller.log).toEqual(['restart@0', 'giveUp@0']);

    const callee = recovery(false);
    callee.ice.update('failed');
    callee.ice.update('checking');
    callee.ice.update('failed');
    expect(callee.log).toEqual(['giveUp@0']);
  });

  it('whatever the ICE states, restarts never come closer than the backoff and stop after close()', () => {
    const states = ['new', 'checking', 'connected', 'completed', 'disconnected', 'failed'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...states), fc.integer({ min: 0, max: 5_000 })), {
          maxLength: 60,
        }),
        (steps) => {
          vi.setSystemTime(0);
          const { ice, log } = recovery(true);
          ice.update('connected');
          let lastRecovery = 0;
          const restarts: number[] = [];
          for (const [state, waitMs] of steps) {
            const before = log.length;
            ice.update(state);
            if (state === 'connected' || state === 'completed') lastRecovery = Date.now();
            vi.advanceTimersByTime(waitMs);
            for (const entry of log.slice(before)) {
              if (entry.startsWith('restart')) restarts.push(Number(entry.split('@')[1]));
            }
          }
          // Within one outage (no recovery in between), consecutive restarts are >= 2 s apart.
          for (let i = 1; i < restarts.length; i++) {
            const gap = restarts[i]! - restarts[i - 1]!;
            if (restarts[i - 1]! >= lastRecovery) expect(gap).toBeGreaterThanOrEqual(2_000);
          }
          ice.close();
          const count = log.length;
          vi.advanceTimersByTime(120_000);
          expect(log).toHaveLength(count);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('ResumeState', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds messages only while suspended, and hands them back in order without ended calls', () => {
    const state = new ResumeState();
    expect(state.suspend(() => undefined)).toBe(false); // no token: nothing to resume
    state.granted('t1', 20_000);
    expect(state.hold({ type: 'hangup', callId: 'a' })).toBe(false);
    expect(state.suspend(() => undefined)).toBe(true);
    state.hold({ type: 'candidate', callId: 'a', candidate: { candidate: 'c1' } });
    state.hold({ type: 'candidate', callId: 'gone', candidate: { candidate: 'x' } });
    state.hold({ type: 'watch', names: ['bob'] });
    state.hold({ type: 'hangup', callId: 'a' });
    expect(state.resumed(new Set(['a']))).toEqual([
      { type: 'candidate', callId: 'a', candidate: { candidate: 'c1' } },
      { type: 'watch', names: ['bob'] },
      { type: 'hangup', callId: 'a' },
    ]);
    expect(state.suspended).toBe(false);
  });

  it('is bounded, and the grace period loses the session once', () => {
    const state = new ResumeState();
    state.granted('t1', 1_000);
    let expired = 0;
    state.suspend(() => {
      expired++;
      state.lost();
    });
    for (let i = 0; i < OUTBOX_LIMIT; i++) {
      expect(state.hold({ type: 'hangup', callId: String(i) })).toBe(true);
    }
    expect(state.hold({ type: 'hangup', callId: 'one too many' })).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(expired).toBe(1);
    expect(state.token).toBeNull();
    expect(state.resumed(new Set())).toEqual([]);
  });
});
