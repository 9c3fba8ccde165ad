// The call engine needs nothing of a party but the Party interface (calls/model.ts): these
// parties are plain objects that keep what they are told, as a second device or a PeerJS peer
// will be. The suite walks calls through the engine alone, checks the one seam to other nodes
// (a call driven elsewhere hands every command to it, unchanged), and that every call event
// survives the trip across nodes (calls/travel.ts).
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { peerOf, type Call } from '../src/calls/call.js';
import type { CallCommand } from '../src/calls/commands.js';
import { Engine } from '../src/calls/engine.js';
import type { CallOutEvent, Party, PartyState } from '../src/calls/model.js';
import type { RemoteCalls } from '../src/calls/remote.js';
import { TRAVEL, attach, detach } from '../src/calls/travel.js';
import { Stats } from '../src/metrics.js';

class Inbox implements Party {
  state: PartyState = 'active';
  call: Call | null = null;
  other: Call | null = null;
  room: string | null = null;
  readonly dialect = { name: 'native', ringsWithOffer: false, autoAccept: false } as const;
  readonly events: CallOutEvent[] = [];
  constructor(
    readonly key: string,
    readonly name = key,
  ) {}
  send(event: CallOutEvent): void {
    this.events.push(event);
  }
  sendAll(events: readonly CallOutEvent[]): void {
    this.events.push(...events);
  }
  last(t: CallOutEvent['t']): CallOutEvent | undefined {
    return this.events.filter((e) => e.t === t).at(-1);
  }
}

/** An engine over `parties`; parties with the same key are devices of one person. */
function engine(parties: Inbox[]) {
  const byKey = new Map<string, Inbox[]>();
  for (const p of parties) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  const status: string[] = [];
  const e = new Engine((key) => byKey.get(key) ?? [], new Stats(), pino({ level: 'silent' }), {
    ringTimeoutMs: 60_000,
    queueMax: 4,
    invites: { burst: 10, perSecond: 1 },
    onPartyStatus: (p) =>
      status.push(`${p.key}:${p.call === null && p.room === null ? 'online' : 'busy'}`),
  });
  return { e, status };
}

describe('the engine with plain parties', () => {
  it('rings, connects, relays and ends a call between two parties', () => {
    const alice = new Inbox('alice');
    const bob = new Inbox('bob');
    const { e, status } = engine([alice, bob]);
    e.invite(alice, 'bob', undefined, undefined, 'r1');
    const incoming = bob.last('incoming');
    expect(incoming?.t).toBe('incoming');
    const callId = alice.call!.id;
    expect(bob.call).toBe(alice.call);
    e.signal(alice, 'offer', { callId }, { type: 'offer', sdp: 'v=0' }, undefined);
    expect(bob.last('signal')).toBeUndefined(); // queued until accept
    e.accept(bob, callId, 'r2', undefined);
    expect(alice.last('accepted')).toMatchObject({ role: 'caller' });
    expect(bob.last('signal')).toMatchObject({ signal: 'offer', from: alice });
    e.signal(bob, 'answer', { callId }, { type: 'answer', sdp: 'v=0' }, undefined);
    expect(alice.last('signal')).toMatchObject({ signal: 'answer', from: bob });
    e.hangup(bob, { callId }, 'r3');
    expect(alice.last('ended')).toMatchObject({
      reason: 'hangup',
      self: false,
      wasConnected: true,
    });
    expect(bob.last('ended')).toMatchObject({ reason: 'hangup', self: true, ref: 'r3' });
    expect([alice.call, bob.call, e.activeCalls]).toEqual([null, null, 0]);
    // Rung (busy), answered (still busy: their other devices now list the call), ended.
    expect(status).toEqual([
      'alice:busy',
      'bob:busy',
      'alice:busy',
      'bob:busy',
      'alice:online',
      'bob:online',
    ]);
  });

  it('answers a command for a call the party is not in with not_in_call', () => {
    const [alice, bob, eve] = [new Inbox('alice'), new Inbox('bob'), new Inbox('eve')];
    const { e } = engine([alice, bob, eve]);
    e.invite(alice, 'bob', undefined, undefined, undefined);
    const callId = alice.call!.id;
    e.accept(eve, callId, 'x', undefined);
    e.signal(eve, 'candidate', { callId }, { candidate: '' }, 'y');
    expect(eve.events.map((ev) => ev.t === 'error' && ev.code)).toEqual([
      'not_in_call',
      'not_in_call',
    ]);
    expect(alice.call?.state).toBe('ringing');
  });

  it('hands every command for a call driven elsewhere to the remote seam, unchanged', () => {
    const here = new Inbox('callee');
    const stand = new Inbox('caller'); // stands for a party on another node
    const { e } = engine([here]);
    const forwarded: CallCommand[] = [];
    const seam: RemoteCalls = {
      devicesAcrossNodes: false,
      invite: () => false,
      move: () => false,
      forward: (_call, party, command) => {
        expect(party).toBe(here);
        forwarded.push(command);
      },
      isPlacing: () => false,
      callEnded: () => undefined,
      join: () => false,
      roomClosed: () => undefined,
    };
    e.attachRemote(seam);
    const call = e.book.open({
      id: 'c1',
      caller: stand,
      callee: here,
      state: 'ringing',
      media: { audio: true },
      createdAtMs: 0,
      calleeNotified: true,
      home: 'node-a',
    });
    e.signal(here, 'candidate', { callId: 'c1' }, { candidate: '' }, 'r0');
    e.accept(here, 'c1', 'r1', { type: 'answer' });
    e.report(here, 'c1', 'relay', 'r2');
    e.hangup(here, { callId: 'c1' }, 'r3');
    e.disconnect(here);
    expect(forwarded).toEqual([
      { k: 'signal', signal: 'candidate', payload: { candidate: '' }, ref: 'r0' },
      { k: 'accept', ref: 'r1', answer: { type: 'answer' } },
      { k: 'report', path: 'relay', ref: 'r2' },
      { k: 'hangup', ref: 'r3' },
      { k: 'disconnect' },
    ]);
    // The home decides: nothing changed here.
    expect(call.state).toBe('ringing');
    expect(here.events).toEqual([]);
  });
});

describe('call events across nodes (calls/travel.ts)', () => {
  it('rebuilds every travelling event as it was, around the other copy of the call', () => {
    const alice = new Inbox('alice');
    const bob = new Inbox('bob');
    const { e } = engine([alice, bob]);
    e.invite(alice, 'bob', undefined, { type: 'offer', sdp: 'v=0' }, 'r');
    const call = alice.call!;
    const samples: CallOutEvent[] = [
      { t: 'ringing', call, sendOffer: false, ref: 'r' },
      { t: 'incoming', call, offer: { type: 'offer', sdp: 'v=0' } },
      { t: 'accepted', call, role: 'callee', ref: 'r' },
      { t: 'signal', call, from: alice, signal: 'candidate', payload: { candidate: 'c' } },
      { t: 'hold', call, from: alice, held: true },
      { t: 'restart', call, from: alice },
      {
        t: 'ended',
        callId: call.id,
        peerName: 'alice',
        role: 'callee',
        reason: 'hangup',
        missed: false,
        self: false,
        wasConnected: true,
      },
      { t: 'peer-state', callId: call.id, name: 'alice', away: true },
      { t: 'joined', room: 'r1' },
      { t: 'error', code: 'invalid_state', callId: call.id },
    ];
    // Every event type is sampled, so a new one must be added here too.
    expect(new Set(samples.map((s) => s.t))).toEqual(new Set(Object.keys(TRAVEL)));
    for (const event of samples) {
      const wire = detach(event);
      if (TRAVEL[event.t].effect === 'local') {
        expect(wire, event.t).toBeUndefined();
        continue;
      }
      // What crosses is plain data: it survives JSON.
      const crossed = JSON.parse(JSON.stringify(wire)) as typeof wire;
      const rebuilt = attach(crossed!, call, bob);
      expect(rebuilt, event.t).toEqual(event);
      if (rebuilt.t === 'signal') expect(rebuilt.from).toBe(peerOf(call, bob));
    }
  });
});

describe('a person on several devices', () => {
  const ended = (p: Inbox) => p.last('ended') as Extract<CallOutEvent, { t: 'ended' }> | undefined;

  it('rings every free device; the first to accept wins and the others hear it was answered elsewhere', () => {
    const bob = new Inbox('bob');
    const [phone, laptop, tablet] = [new Inbox('alice'), new Inbox('alice'), new Inbox('alice')];
    const { e } = engine([bob, phone, laptop, tablet]);
    e.invite(bob, 'alice', undefined, undefined, undefined);
    const callId = bob.call!.id;
    for (const d of [phone, laptop, tablet]) expect(d.last('incoming')).toBeDefined();
    e.accept(laptop, callId, 'a1', undefined);
    // The same tick, a second device: too late.
    e.accept(tablet, callId, 'a2', undefined);
    expect(bob.last('accepted')).toMatchObject({ role: 'caller' });
    expect(laptop.last('accepted')).toMatchObject({ role: 'callee', ref: 'a1' });
    expect(bob.call!.callee).toBe(laptop);
    for (const d of [phone, tablet]) {
      expect(ended(d)).toMatchObject({ reason: 'answered_elsewhere', self: false, missed: false });
      expect(d.call).toBeNull();
    }
    expect(tablet.last('error')).toMatchObject({ code: 'not_in_call', ref: 'a2' });
    // Media and signals flow between bob and the device that answered, and nobody else.
    e.signal(bob, 'offer', { callId }, { type: 'offer', sdp: 'v=0' }, undefined);
    expect(laptop.last('signal')).toMatchObject({ signal: 'offer' });
    expect(phone.last('signal')).toBeUndefined();
    e.signal(phone, 'candidate', { callId }, { candidate: '' }, 'p');
    expect(phone.last('error')).toMatchObject({ code: 'not_in_call' });
  });

  it('a decline on one device declines the call for the caller and stops the others', () => {
    const bob = new Inbox('bob');
    const [phone, laptop] = [new Inbox('alice'), new Inbox('alice')];
    const { e } = engine([bob, phone, laptop]);
    e.invite(bob, 'alice', undefined, undefined, undefined);
    e.decline(phone, bob.call!.id, false, 'd');
    expect(ended(bob)).toMatchObject({ reason: 'declined', self: false });
    expect(ended(phone)).toMatchObject({ reason: 'declined', self: true, ref: 'd' });
    expect(ended(laptop)).toMatchObject({ reason: 'declined_elsewhere', self: false });
    expect([bob.call, phone.call, laptop.call, e.activeCalls]).toEqual([null, null, null, 0]);
  });

  it('a cancelled call is missed on every device; one that goes away stops ringing alone', () => {
    const bob = new Inbox('bob');
    const [phone, laptop] = [new Inbox('alice'), new Inbox('alice')];
    const { e } = engine([bob, phone, laptop]);
    e.invite(bob, 'alice', undefined, undefined, undefined);
    phone.state = 'closed';
    e.disconnect(phone);
    expect(bob.call?.state).toBe('ringing');
    expect(ended(phone)).toBeUndefined();
    e.cancel(bob, bob.call!.id, undefined);
    expect(ended(laptop)).toMatchObject({ reason: 'cancelled', missed: true });
    expect(ended(phone)).toBeUndefined();
  });

  it('skips a device in a call, and is busy only when no device can take the call', () => {
    const [bob, carol, dave] = [new Inbox('bob'), new Inbox('carol'), new Inbox('dave')];
    const [phone, laptop] = [new Inbox('alice'), new Inbox('alice')];
    const { e } = engine([bob, carol, dave, phone, laptop]);
    e.invite(bob, 'alice', undefined, undefined, undefined);
    e.accept(phone, bob.call!.id, undefined, undefined);
    e.invite(carol, 'alice', undefined, undefined, undefined);
    expect(laptop.last('incoming')?.t === 'incoming' && laptop.last('incoming')).toMatchObject({
      call: { caller: carol },
    });
    expect(phone.events.filter((ev) => ev.t === 'incoming')).toHaveLength(1);
    e.accept(laptop, carol.call!.id, undefined, undefined);
    e.invite(dave, 'alice', undefined, undefined, undefined);
    expect(ended(dave)).toMatchObject({ reason: 'busy' });
  });
});

describe('hold', () => {
  it('tells the peer, once per change, and only in a connected call', () => {
    const [alice, bob] = [new Inbox('alice'), new Inbox('bob')];
    const { e } = engine([alice, bob]);
    e.invite(alice, 'bob', undefined, undefined, undefined);
    const callId = alice.call!.id;
    e.hold(alice, callId, true, 'h0');
    expect(alice.last('error')).toMatchObject({ code: 'invalid_state', ref: 'h0' });
    e.accept(bob, callId, undefined, undefined);
    e.hold(alice, callId, true, 'h1');
    e.hold(alice, callId, true, 'h2');
    e.hold(bob, callId, true, undefined);
    e.hold(alice, callId, false, undefined);
    const holds = (p: Inbox) => p.events.filter((ev) => ev.t === 'hold').map((ev) => ev.t === 'hold' && ev.held);
    expect(holds(bob)).toEqual([true, false]);
    expect(holds(alice)).toEqual([true]);
    expect(alice.call!.held).toEqual({ caller: false, callee: true });
    const eve = new Inbox('eve');
    e.hold(eve, callId, true, 'x');
    expect(eve.last('error')).toMatchObject({ code: 'not_in_call', ref: 'x' });
    expect(alice.call!.held).toEqual({ caller: false, callee: true });
  });
});

describe('ring-all races (property)', () => {
  type Step = { device: number; act: 'accept' | 'decline' | 'hangup' | 'disconnect' } | { caller: 'cancel' | 'hangup' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      device: fc.nat({ max: 3 }),
      act: fc.constantFrom<'accept' | 'decline' | 'hangup' | 'disconnect'>('accept', 'decline', 'hangup', 'disconnect'),
    }),
    fc.record({ caller: fc.constantFrom<'cancel' | 'hangup'>('cancel', 'hangup') }),
  );

  it('whatever the devices do in whatever order, exactly one answers or none, and everyone hears one end', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { maxLength: 12 }), (n, steps) => {
        const bob = new Inbox('bob');
        const devices = Array.from({ length: n }, () => new Inbox('alice'));
        const { e } = engine([bob, ...devices]);
        e.invite(bob, 'alice', undefined, undefined, undefined);
        const callId = bob.call!.id;
        for (const s of steps) {
          if ('caller' in s) {
            if (s.caller === 'cancel') e.cancel(bob, callId, undefined);
            else e.hangup(bob, { callId }, undefined);
            continue;
          }
          const d = devices[s.device % n]!;
          if (d.state === 'closed') continue;
          if (s.act === 'accept') e.accept(d, callId, undefined, undefined);
          else if (s.act === 'decline') e.decline(d, callId, false, undefined);
          else if (s.act === 'hangup') e.hangup(d, { callId }, undefined);
          else {
            d.state = 'closed';
            e.disconnect(d);
          }
        }
        const accepted = devices.filter((d) => d.events.some((ev) => ev.t === 'accepted'));
        expect(accepted.length).toBeLessThanOrEqual(1);
        const callerAccepted = bob.events.filter((ev) => ev.t === 'accepted').length;
        expect(callerAccepted).toBe(accepted.length);
        const callerEnds = bob.events.filter((ev) => ev.t === 'ended').length;
        expect(callerEnds).toBeLessThanOrEqual(1);
        const live = bob.call !== null;
        expect(live).toBe(callerEnds === 0);
        for (const d of devices) {
          const ends = d.events.filter((ev) => ev.t === 'ended').length;
          expect(ends).toBeLessThanOrEqual(1);
          // A device is in the call only while it rings or is the one that answered.
          if (d.call !== null) expect(d.call).toBe(bob.call);
          if (!live && d.state !== 'closed') expect(ends).toBe(1);
        }
        if (live && bob.call!.state === 'connected') expect(bob.call!.callee).toBe(accepted[0]);
      }),
      { numRuns: 500 },
    );
  });
});
