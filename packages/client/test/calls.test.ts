/**
 * Call signaling through the SDK against a real callwire process: invite, ring, accept,
 * decline, busy, cancel, unavailable, ring timeout, crossing invites, rooms. Node has no
 * RTCPeerConnection, so calls stop at `connecting`: everything up to the media is exercised.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallwireError, type Call } from '../src/index.js';
import { Clients, next, startServer, type ServerProcess } from './support.js';

let server: ServerProcess;
const clients = new Clients();
let seq = 0;
const uniq = (base: string): string => `${base}${++seq}`;
const voice = { audio: true, video: false };

beforeAll(async () => {
  server = await startServer(['--ring-timeout-ms', '1500', '--invites-per-minute', '1000']);
});
afterAll(async () => {
  await server.stop();
});
afterEach(() => clients.closeAll());

async function pair(): Promise<
  [Awaited<ReturnType<Clients['connect']>>, Awaited<ReturnType<Clients['connect']>>]
> {
  const a = await clients.connect(server.url, uniq('alice'));
  const b = await clients.connect(server.url, uniq('bob'));
  return [a, b];
}

describe('placing and answering a call', () => {
  it('rings the callee, and accept connects both sides with their roles', async () => {
    const [alice, bob] = await pair();
    const started: Call[] = [];
    alice.on('callStarted', (c) => started.push(c));
    const ringing = next(bob, 'incoming');

    const call = await alice.call(bob.name, voice);
    expect(call.state).toBe('ringing');
    expect(call.role).toBe('caller');
    expect(call.peer).toBe(bob.name);
    expect(call.id).not.toBe('');
    expect(started).toEqual([call]);

    const [incoming] = await ringing;
    expect(incoming.from).toBe(alice.name);
    expect(incoming.callId).toBe(call.id);
    expect(incoming.media).toEqual(voice);

    const callerConnecting = next(call, 'stateChanged', (s) => s === 'connecting');
    const bobCall = await incoming.accept(voice);
    expect(bobCall.state).toBe('connecting');
    expect(bobCall.role).toBe('callee');
    expect(bobCall.peer).toBe(alice.name);
    expect(bobCall.id).toBe(call.id);
    expect(incoming.state).toBe('accepted');
    await callerConnecting;
    // No WebRTC in Node: the signaling is complete, media setup is dormant.
    expect(call.peerConnection).toBeNull();

    const bobEnded = next(bobCall, 'ended');
    call.hangup();
    expect(call.state).toBe('ended');
    expect(call.endReason).toBe('hangup');
    expect(await bobEnded).toEqual(['hangup']);
    expect(bobCall.endReason).toBe('hangup');
    call.hangup(); // idempotent
  });

  it('a declined call ends with declined; declining as busy ends with busy', async () => {
    const [alice, bob] = await pair();
    for (const reason of ['declined', 'busy'] as const) {
      const ringing = next(bob, 'incoming');
      const call = await alice.call(bob.name, voice);
      const [incoming] = await ringing;
      const ended = next(call, 'ended');
      incoming.decline(reason);
      expect(await ended).toEqual([reason]);
      expect(call.endReason).toBe(reason);
      expect(incoming.state).toBe('declined');
      await expect(incoming.accept()).rejects.toMatchObject({ name: 'InvalidStateError' });
    }
  });

  it('hanging up while ringing cancels: the callee sees a missed call', async () => {
    const [alice, bob] = await pair();
    const ringing = next(bob, 'incoming');
    const call = await alice.call(bob.name, voice);
    const [incoming] = await ringing;
    const cancelled = next(incoming, 'cancelled');
    call.hangup();
    expect(call.endReason).toBe('cancelled');
    expect(await cancelled).toEqual(['cancelled', true]);
    expect(incoming.state).toBe('cancelled');
  });

  it('an unanswered call ends with no_answer after the ring timeout', async () => {
    const [alice, bob] = await pair();
    const ringing = next(bob, 'incoming');
    const call = await alice.call(bob.name, voice);
    const [incoming] = await ringing;
    const cancelled = next(incoming, 'cancelled');
    expect(await next(call, 'ended')).toEqual(['no_answer']);
    expect(await cancelled).toEqual(['cancelled', true]);
  });

  it('calling somebody offline resolves with a call that ends as unavailable', async () => {
    const alice = await clients.connect(server.url, uniq('alice'));
    const call = await alice.call('nobody-here', voice);
    expect(await next(call, 'ended')).toEqual(['unavailable']);
    expect(call.state).toBe('ended');
  });

  it('calling somebody already in a call ends with busy', async () => {
    const [alice, bob] = await pair();
    const carol = await clients.connect(server.url, uniq('carol'));
    const ringing = next(bob, 'incoming');
    await carol.call(bob.name, voice);
    const [incoming] = await ringing;
    await incoming.accept(voice);

    const call = await alice.call(bob.name, voice);
    expect(await next(call, 'ended')).toEqual(['busy']);
  });

  it('crossing invites become one call', async () => {
    const [alice, bob] = await pair();
    const ringing = next(bob, 'incoming');
    const aliceCall = await alice.call(bob.name, voice);
    const [incoming] = await ringing;
    const answered = next(incoming, 'accepted');
    const aliceConnecting = next(aliceCall, 'stateChanged', (s) => s === 'connecting');
    // Bob calls Alice instead of answering: the server merges it into Alice's call.
    const bobCall = await bob.call(alice.name, voice);
    expect(bobCall.id).toBe(aliceCall.id);
    expect(bobCall.role).toBe('callee');
    expect(bobCall.state).toBe('connecting');
    expect(await answered).toEqual([bobCall]);
    await aliceConnecting;
  });

  it('refuses calling yourself with a coded error', async () => {
    const alice = await clients.connect(server.url, uniq('alice'));
    const err = await alice.call(alice.name.toUpperCase(), voice).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallwireError);
    expect((err as CallwireError).code).toBe('self_call');
  });

  it('a callee that disconnects ends the call with disconnected', async () => {
    const [alice, bob] = await pair();
    const ringing = next(bob, 'incoming');
    const call = await alice.call(bob.name, voice);
    const [incoming] = await ringing;
    await incoming.accept(voice);
    const ended = next(call, 'ended');
    bob.close();
    // bob.close() hangs up first, so alice hears hangup; a vanished socket is tested below.
    expect(await ended).toEqual(['hangup']);
  });
});

describe('meeting rooms', () => {
  it('the first person waits, the second connects both, a third is refused', async () => {
    const [alice, bob] = await pair();
    const carol = await clients.connect(server.url, uniq('carol'));
    const room = uniq('room-');
    const waiting = await alice.join(room, voice);
    expect(waiting.state).toBe('waiting');
    expect(waiting.room).toBe(room);

    const connecting = next(waiting, 'stateChanged', (s) => s === 'connecting');
    const bobCall = await bob.join(room, voice);
    expect(bobCall.state).toBe('connecting');
    expect(bobCall.role).toBe('callee');
    expect(bobCall.peer).toBe(alice.name);
    await connecting;
    expect(waiting.peer).toBe(bob.name);
    expect(waiting.id).toBe(bobCall.id);

    const err = await carol.join(room, voice).catch((e: unknown) => e);
    expect((err as CallwireError).code).toBe('room_full');

    const ended = next(bobCall, 'ended');
    waiting.hangup();
    expect(await ended).toEqual(['hangup']);
  });

  it('leaving a room while waiting frees it', async () => {
    const [alice, bob] = await pair();
    const room = uniq('room-');
    const waiting = await alice.join(room, voice);
    waiting.hangup();
    expect(waiting.endReason).toBe('hangup');
    await alice.users(); // a round trip on alice's socket: the server has seen her leave
    const again = await bob.join(room, voice);
    expect(again.state).toBe('waiting');
  });
});
