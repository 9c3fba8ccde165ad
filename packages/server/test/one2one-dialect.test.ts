// Clients written for the one2one sample (lotas/Kurento vocabulary) work unchanged at /call
// and /one2one, with the sample's bugs fixed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SDP_ANSWER,
  SDP_OFFER,
  TestClient,
  candidate,
  nativeUser,
  one2oneUser,
  startServer,
  type TestServer,
} from './support.js';

let ts: TestServer;
beforeEach(async () => {
  ts = await startServer();
});
afterEach(async () => {
  await ts.close();
});

describe('one2one dialect', () => {
  it('registers, lists, and refuses a taken name', async () => {
    const a = await one2oneUser(ts, 'user1');
    const b = await one2oneUser(ts, 'user2', '/one2one');
    a.send({ id: 'list' });
    expect((await a.next('listResponse')).list).toEqual(['user2']);
    const c = await TestClient.open(ts.url('/call'));
    c.send({ id: 'register', name: 'USER1' });
    expect(await c.next('registerResponse')).toMatchObject({ response: 'rejected', code: 'name_taken' });
    b.send({ id: 'ping' });
    await b.next('pong');
  });

  it("answers list before register in open mode, as the sample's server does (names only)", async () => {
    await one2oneUser(ts, 'user1');
    await nativeUser(ts, 'native2');
    const early = await TestClient.open(ts.url('/call'));
    early.send({ id: 'list' });
    const reply = await early.next('listResponse');
    expect(Object.keys(reply).sort()).toEqual(['id', 'list']);
    expect((reply.list as string[]).sort()).toEqual(['native2', 'user1']);
    // Still anonymous: nothing else is allowed, and register works afterwards.
    early.send({ id: 'stop' });
    expect((await early.next('error')).code).toBe('not_logged_in');
    early.send({ id: 'register', name: 'late' });
    expect((await early.next('registerResponse')).response).toBe('accepted');
    early.send({ id: 'list' });
    expect(((await early.next('listResponse')).list as string[]).sort()).toEqual(['native2', 'user1']);
  });

  it('runs the sample call flow: call, incomingCall, accept with answer, candidates, stop', async () => {
    const a = await one2oneUser(ts, 'user1');
    const b = await one2oneUser(ts, 'user2');
    // `from` is a lie: the server stamps the real caller.
    a.send({ id: 'call', from: 'mallory', to: 'user2', sdpOffer: SDP_OFFER });
    const incoming = await b.next('incomingCall');
    expect(incoming).toMatchObject({ from: 'user1', offer: SDP_OFFER });

    a.send({ id: 'onIceCandidate', candidate: candidate(1) });
    await a.settle();
    b.send({ id: 'incomingCallResponse', from: 'user1', callResponse: 'accept', sdpOffer: SDP_ANSWER });
    expect(await a.next('callResponse')).toMatchObject({ response: 'accepted', sdpAnswer: SDP_ANSWER });
    // The candidate sent while ringing was held and arrives after the accept.
    expect((await b.next('iceCandidate')).candidate).toEqual(candidate(1));
    b.send({ id: 'onIceCandidate', candidate: candidate(2) });
    expect((await a.next('iceCandidate')).candidate).toEqual(candidate(2));

    a.send({ id: 'stop' });
    expect(await b.next('stopCommunication')).toMatchObject({ reason: 'hangup' });
    // The sample client answers stopCommunication with its own stop: harmless.
    b.send({ id: 'stop' });
    expect((await b.next('error')).code).toBe('not_in_call');
  });

  it('sends a reject to the caller, not to the callee', async () => {
    const a = await one2oneUser(ts, 'user1');
    const b = await one2oneUser(ts, 'user2');
    a.send({ id: 'call', from: 'user1', to: 'user2', sdpOffer: SDP_OFFER });
    await b.next('incomingCall');
    b.send({ id: 'incomingCallResponse', from: 'user1', callResponse: 'reject' });
    expect(await a.next('callResponse')).toMatchObject({ response: 'rejected', reason: 'declined' });
    await b.settle();
    expect(b.pending('callResponse')).toEqual([]);
  });

  it('rejects a call to an unknown name and tells the peer about a disconnect', async () => {
    const a = await one2oneUser(ts, 'user1');
    a.send({ id: 'call', from: 'user1', to: 'ghost', sdpOffer: SDP_OFFER });
    expect(await a.next('callResponse')).toMatchObject({ response: 'rejected', reason: 'unavailable' });

    const b = await one2oneUser(ts, 'user2');
    a.send({ id: 'call', from: 'user1', to: 'user2', sdpOffer: SDP_OFFER });
    await b.next('incomingCall');
    b.send({ id: 'incomingCallResponse', from: 'user1', callResponse: 'accept', sdpOffer: SDP_ANSWER });
    await a.next('callResponse');
    b.ws.terminate();
    expect(await a.next('stopCommunication')).toMatchObject({ reason: 'disconnected' });
  });

  it('answers malformed frames with a coded error instead of crashing', async () => {
    const a = await one2oneUser(ts, 'user1');
    a.send('{not json');
    expect((await a.next('error')).code).toBe('bad_json');
    a.send({ id: 'call' });
    expect((await a.next('error')).code).toBe('bad_message');
    a.send({ id: 'incomingCallResponse', from: 'nobody', callResponse: 'accept', sdpOffer: SDP_ANSWER });
    expect((await a.next('error')).code).toBe('not_in_call');
  });

  it('interoperates with a native caller: the native side is asked for its offer first', async () => {
    const n = await nativeUser(ts, 'native');
    const o = await one2oneUser(ts, 'legacy');
    n.send({ type: 'call', to: 'legacy' });
    const ringing = await n.next('ringing');
    expect(ringing.sendOffer).toBe(true);
    n.send({ type: 'offer', callId: ringing.callId, offer: SDP_OFFER });
    expect(await o.next('incomingCall')).toMatchObject({ from: 'native', offer: SDP_OFFER });
    o.send({ id: 'incomingCallResponse', from: 'native', callResponse: 'accept', sdpOffer: SDP_ANSWER });
    await n.next('accepted');
    expect((await n.next('answer')).answer).toEqual(SDP_ANSWER);
    n.send({ type: 'hangup', callId: ringing.callId });
    expect((await o.next('stopCommunication')).reason).toBe('hangup');
    expect((await n.next('leave')).reason).toBe('hangup');
  });
});
