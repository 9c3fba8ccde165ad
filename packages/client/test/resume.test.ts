/**
 * Resume against a real callwire process: a signaling drop must not end a call. The SDK's socket
 * is terminated from outside (as a dropped network does); the peer hears `reconnecting`, what is
 * sent meanwhile in either direction arrives after the resume in order, and after the grace
 * period the call ends with `disconnected` on both sides.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Call, CallwireClient, CallwireError, ConnectionState } from '../src/index.js';
import {
  Clients,
  SocketControl,
  next,
  quickRetry,
  startServer,
  type ServerProcess,
} from './support.js';

let server: ServerProcess;
const clients = new Clients();
let seq = 0;
const uniq = (base: string): string => `${base}${++seq}`;
const voice = { audio: true, video: false };

beforeAll(async () => {
  server = await startServer(['--invites-per-minute', '1000']);
});
afterAll(async () => {
  await server.stop();
});
afterEach(() => clients.closeAll());

const candidate = (i: number) => ({
  candidate: `candidate:${i} 1 udp 1 10.0.0.${i} 9 typ host`,
  sdpMid: '0',
});

/** Alice (whose socket the test controls) calls Bob, who accepts. */
async function callBetween(
  url: string,
  control: SocketControl,
): Promise<{
  alice: CallwireClient;
  bob: CallwireClient;
  aliceCall: Call;
  bobCall: Call;
  bobSocket: SocketControl;
}> {
  const bobSocket = new SocketControl();
  const alice = await clients.connect(url, uniq('alice'), {
    WebSocket: control.WebSocket,
    reconnectPolicy: quickRetry,
  });
  const bob = await clients.connect(url, uniq('bob'), { WebSocket: bobSocket.WebSocket });
  const ringing = next(bob, 'incoming');
  const aliceCall = await alice.call(bob.name, voice);
  const [incoming] = await ringing;
  const connecting = next(aliceCall, 'stateChanged', (s) => s === 'connecting');
  const bobCall = await incoming.accept(voice);
  await connecting;
  return { alice, bob, aliceCall, bobCall, bobSocket };
}

describe('a dropped signaling socket', () => {
  it('keeps the call; the peer sees reconnecting; what was held arrives in order after the resume', async () => {
    const control = new SocketControl();
    const { alice, aliceCall, bobCall, bobSocket } = await callBetween(server.url, control);
    const states: ConnectionState[] = [];
    alice.on('stateChanged', (s) => states.push(s));
    const errors: CallwireError[] = [];
    alice.on('error', (e) => errors.push(e));
    let ended = false;
    aliceCall.on('ended', () => (ended = true));
    bobCall.on('ended', () => (ended = true));

    const peerAway = next(bobCall, 'peerReconnecting');
    control.cut();
    await peerAway;
    expect(alice.state).toBe('reconnecting');
    expect(bobCall.peerReconnecting).toBe(true);
    // What Bob's browser says while Alice is away (trickled candidates) is held for her.
    for (let i = 0; i < 5; i++)
      bobSocket.inject({ type: 'candidate', callId: bobCall.id, candidate: candidate(i) });
    await bobSocket.roundTrip();

    const back = next(bobCall, 'peerReconnected');
    const open = next(alice, 'stateChanged', (s) => s === 'open');
    control.restore();
    await open;
    await back;
    expect(states).toEqual(['reconnecting', 'open']);

    // The resumed login, then the held candidates, in the order Bob sent them.
    const frames = control.received.at(-1)!;
    expect(frames[0]).toMatchObject({ type: 'login', success: true, resumed: true });
    expect(frames[0]!['calls']).toEqual([
      expect.objectContaining({ callId: aliceCall.id, name: aliceCall.peer, role: 'caller' }),
    ]);
    const held = frames.filter((f) => f.type === 'candidate').map((f) => f['candidate']);
    expect(held).toEqual([0, 1, 2, 3, 4].map(candidate));
    const resumeLogin = control.sent.filter((f) => f.type === 'login').at(-1);
    expect(resumeLogin).toEqual({
      type: 'login',
      name: alice.name,
      protocol: 1,
      resumeToken: expect.any(String),
      presenceBatch: true,
    });

    // The same Call objects go on: nothing ended, and the call still hangs up both ways.
    expect(ended).toBe(false);
    expect(alice.calls).toEqual([aliceCall]);
    expect(aliceCall.state).toBe('connecting');
    expect(bobCall.peerReconnecting).toBe(false);
    const bobEnded = next(bobCall, 'ended');
    aliceCall.hangup();
    expect(await bobEnded).toEqual(['hangup']);
    expect(errors).toEqual([]);
  });

  it('sends what the call said while away (a hang-up) once the session is back', async () => {
    const control = new SocketControl();
    const { alice, aliceCall, bobCall } = await callBetween(server.url, control);
    const errors: CallwireError[] = [];
    alice.on('error', (e) => errors.push(e));
    const peerAway = next(bobCall, 'peerReconnecting');
    control.cut();
    await peerAway;

    aliceCall.hangup();
    expect(aliceCall.endReason).toBe('hangup');
    expect(bobCall.state).toBe('connecting');

    const bobEnded = next(bobCall, 'ended');
    const open = next(alice, 'stateChanged', (s) => s === 'open');
    control.restore();
    expect(await bobEnded).toEqual(['hangup']);
    await open;
    // Once settled, no second hang-up for the call that already ended (it would be refused).
    // Two round trips: the second request leaves after the resume's own barrier was answered.
    await alice.users();
    await alice.users();
    expect(errors).toEqual([]);
    expect(alice.calls).toEqual([]);
  });

  it('keeps ringing calls too: an invite that rings while the callee is away still connects', async () => {
    const control = new SocketControl();
    const bob = await clients.connect(server.url, uniq('bob'), {
      WebSocket: control.WebSocket,
      reconnectPolicy: quickRetry,
    });
    const alice = await clients.connect(server.url, uniq('alice'));
    const ringing = next(bob, 'incoming');
    const aliceCall = await alice.call(bob.name, voice);
    const [incoming] = await ringing;

    const reconnecting = next(bob, 'stateChanged', (s) => s === 'reconnecting');
    control.cut();
    await reconnecting;
    expect(incoming.state).toBe('ringing');
    control.restore();
    await next(bob, 'stateChanged', (s) => s === 'open');
    const connecting = next(aliceCall, 'stateChanged', (s) => s === 'connecting');
    const bobCall = await incoming.accept(voice);
    await connecting;
    expect(bobCall.id).toBe(aliceCall.id);
  });
});

describe('what is not a drop', () => {
  it('close() says goodbye: the session ends at once, so the name is free and the peer hears hangup', async () => {
    const control = new SocketControl();
    const { alice, bob, aliceCall, bobCall } = await callBetween(server.url, control);
    const bobEnded = next(bobCall, 'ended');
    const name = alice.name;
    const offline = next(bob, 'presence', (p) => p.name === name && p.status === 'offline');
    alice.close();
    expect(aliceCall.endReason).toBe('hangup');
    expect(await bobEnded).toEqual(['hangup']);
    // The server sees the socket's close after the hangup it sent first: once it has, the
    // name is free at once (no session is held for resume: a held one would stay online).
    await offline;
    const again = await clients.connect(server.url, name);
    expect(again.name).toBe(name);
  });

  it('with resume: false a dropped socket ends the calls at once, on both sides', async () => {
    const control = new SocketControl();
    const bobSocket = new SocketControl();
    const alice = await clients.connect(server.url, uniq('alice'), {
      WebSocket: control.WebSocket,
      reconnectPolicy: quickRetry,
      resume: false,
    });
    const bob = await clients.connect(server.url, uniq('bob'), { WebSocket: bobSocket.WebSocket });
    const ringing = next(bob, 'incoming');
    const aliceCall = await alice.call(bob.name, voice);
    const [incoming] = await ringing;
    const connecting = next(aliceCall, 'stateChanged', (s) => s === 'connecting');
    const bobCall = await incoming.accept(voice);
    await connecting;
    expect(control.sent.find((f) => f.type === 'login')).not.toHaveProperty('resume');

    const aliceEnded = next(aliceCall, 'ended');
    const bobEnded = next(bobCall, 'ended');
    control.cut();
    expect(await aliceEnded).toEqual(['disconnected']);
    expect(await bobEnded).toEqual(['disconnected']);
    control.restore();
    await next(alice, 'stateChanged', (s) => s === 'open');
  });
});

describe('the grace period', () => {
  let short: ServerProcess;
  beforeAll(async () => {
    short = await startServer(['--resume-grace-ms', '800']);
  });
  afterAll(async () => {
    await short.stop();
  });

  it('ends the call with disconnected on both sides when the client stays away too long; it then logs in afresh', async () => {
    const control = new SocketControl();
    const { alice, bob, aliceCall, bobCall } = await callBetween(short.url, control);
    const aliceEnded = next(aliceCall, 'ended');
    const bobEnded = next(bobCall, 'ended');
    control.cut();
    expect(await bobEnded).toEqual(['disconnected']);
    expect(await aliceEnded).toEqual(['disconnected']);
    expect(alice.calls).toEqual([]);

    const open = next(alice, 'stateChanged', (s) => s === 'open');
    control.restore();
    await open;
    const login = control.sent.filter((f) => f.type === 'login').at(-1);
    expect(login).toMatchObject({ type: 'login', name: alice.name, resume: true });
    expect(login).not.toHaveProperty('resumeToken');
    // Alice is reachable again under her name.
    const ringing = next(alice, 'incoming');
    await bob.call(alice.name, voice);
    expect((await ringing)[0].from).toBe(bob.name);
  });
});
