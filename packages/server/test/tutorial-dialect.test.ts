// The tutorial's clients, message by message as its client.js sends them, must work unchanged.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SDP_ANSWER,
  SDP_OFFER,
  TestClient,
  candidate,
  startServer,
  tutorialUser,
  type TestServer,
} from './support.js';

let ts: TestServer;
beforeEach(async () => {
  ts = await startServer();
});
afterEach(async () => {
  await ts.close();
});

describe('tutorial dialect at / and /ws', () => {
  it('sends only JSON, and answers a login with {type:"login", success}', async () => {
    const c = await TestClient.open(ts.url('/'));
    c.send({ type: 'login', name: 'UserA' });
    const reply = await c.next('login');
    expect(reply.success).toBe(true);
    for (const frame of c.raw) expect(() => JSON.parse(frame) as unknown).not.toThrow();
  });

  it('refuses a name that is online (case-insensitively) with success:false and name_taken', async () => {
    await tutorialUser(ts, 'alice');
    const c = await TestClient.open(ts.url('/ws'));
    c.send({ type: 'login', name: 'ALICE' });
    const reply = await c.next('login');
    expect(reply).toMatchObject({ success: false, code: 'name_taken' });
    // The connection stays usable: another name works.
    c.send({ type: 'login', name: 'alice2' });
    expect((await c.next('login')).success).toBe(true);
  });

  it('runs a whole call: offer by name, answer, trickled candidates in order, leave', async () => {
    const a = await tutorialUser(ts, 'UserA');
    const b = await tutorialUser(ts, 'UserB');

    a.send({ type: 'offer', offer: SDP_OFFER, name: 'UserB' });
    const offer = await b.next('offer');
    expect(offer.offer).toEqual(SDP_OFFER); // byte for byte, fingerprint intact
    expect(offer.name).toBe('UserA');

    b.send({ type: 'answer', answer: SDP_ANSWER, name: 'UserA' });
    const answer = await a.next('answer');
    expect(answer.answer).toEqual(SDP_ANSWER);

    for (let i = 0; i < 40; i++) a.send({ type: 'candidate', candidate: candidate(i), name: 'UserB' });
    for (let i = 0; i < 10; i++) b.send({ type: 'candidate', candidate: candidate(100 + i), name: 'UserA' });
    for (let i = 0; i < 40; i++) expect((await b.next('candidate')).candidate).toEqual(candidate(i));
    for (let i = 0; i < 10; i++) expect((await a.next('candidate')).candidate).toEqual(candidate(100 + i));

    a.send({ type: 'leave', name: 'UserB' });
    const leave = await b.next('leave');
    expect(leave.reason).toBe('hangup');
    await a.settle();
    // The tutorial page already tore down its side; it is not sent its own leave back.
    expect(a.pending('leave')).toEqual([]);
    expect(a.pending('error')).toEqual([]);
  });

  it('tells the peer {type:"leave"} when the other side disconnects', async () => {
    const a = await tutorialUser(ts, 'UserA');
    const b = await tutorialUser(ts, 'UserB');
    a.send({ type: 'offer', offer: SDP_OFFER, name: 'UserB' });
    await b.next('offer');
    a.ws.terminate();
    expect(await b.next('leave')).toMatchObject({ reason: 'disconnected', name: 'UserA' });
    // And the name is free again at once.
    const again = await tutorialUser(ts, 'usera');
    again.close();
  });

  it('answers a leave for an unknown user, and a close after the peer left, without crashing', async () => {
    const a = await tutorialUser(ts, 'UserA');
    a.send({ type: 'leave', name: 'nobody' });
    expect((await a.next('error')).code).toBe('not_in_call');
    const b = await tutorialUser(ts, 'UserB');
    a.send({ type: 'offer', offer: SDP_OFFER, name: 'UserB' });
    await b.next('offer');
    b.send({ type: 'leave', name: 'UserA' });
    await a.next('leave');
    b.close();
    a.close();
    await Promise.all([a.closed, b.closed]);
    const c = await tutorialUser(ts, 'UserC');
    await c.settle();
  });

  it('does not let an offer to an unknown name vanish: the caller gets leave/unavailable', async () => {
    const a = await tutorialUser(ts, 'UserA');
    a.send({ type: 'offer', offer: SDP_OFFER, name: 'ghost' });
    expect(await a.next('leave')).toMatchObject({ reason: 'unavailable', name: 'ghost' });
  });

  it('treats __proto__, constructor and toString as ordinary names', async () => {
    const p = await tutorialUser(ts, '__proto__');
    const c = await tutorialUser(ts, 'constructor');
    const t = await tutorialUser(ts, 'toString');
    p.send({ type: 'offer', offer: SDP_OFFER, name: 'constructor' });
    expect((await c.next('offer')).name).toBe('__proto__');
    t.send({ type: 'offer', offer: SDP_OFFER, name: 'hasOwnProperty' });
    expect((await t.next('leave')).reason).toBe('unavailable');
    const dup = await TestClient.open(ts.url('/'));
    dup.send({ type: 'login', name: '__PROTO__' });
    expect((await dup.next('login')).code).toBe('name_taken');
  });

  it('lets a native user receive a tutorial caller: rung first, offer delivered on accept', async () => {
    const a = await tutorialUser(ts, 'tut');
    const n = await TestClient.open(ts.url('/'));
    n.send({ type: 'login', name: 'nat', protocol: 1 });
    await n.next('login');
    a.send({ type: 'offer', offer: SDP_OFFER, name: 'nat' });
    a.send({ type: 'candidate', candidate: candidate(1), name: 'nat' });
    const incoming = await n.next('incoming');
    expect(incoming.from).toBe('tut');
    await n.settle();
    expect(n.pending('offer', 'candidate')).toEqual([]); // nothing leaks before accept
    n.send({ type: 'accept', callId: incoming.callId });
    expect((await n.next('offer')).offer).toEqual(SDP_OFFER);
    expect((await n.next('candidate')).candidate).toEqual(candidate(1));
    n.send({ type: 'answer', callId: incoming.callId, answer: SDP_ANSWER });
    expect((await a.next('answer')).answer).toEqual(SDP_ANSWER);
  });
});
