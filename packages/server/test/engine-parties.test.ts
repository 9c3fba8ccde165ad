// The call engine needs nothing of a party but the Party interface (calls/model.ts): these
// parties are plain objects that keep what they are told, as a second device or a PeerJS peer
// will be. The suite walks calls through the engine alone, checks the one seam to other nodes
// (a call driven elsewhere hands every command to it, unchanged), and that every call event
// survives the trip across nodes (calls/travel.ts).
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
  last(t: CallOutEvent['t']): CallOutEvent | undefined {
    return this.events.filter((e) => e.t === t).at(-1);
  }
}

function engine(parties: Inbox[]) {
  const byKey = new Map(parties.map((p) => [p.key, p]));
  const status: string[] = [];
  const e = new Engine((key) => byKey.get(key), new Stats(), pino({ level: 'silent' }), {
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
    expect(status).toEqual(['alice:busy', 'bob:busy', 'alice:online', 'bob:online']);
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
      invite: () => false,
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
