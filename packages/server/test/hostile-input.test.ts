// Bad input of every kind gets a coded error (or a documented close) and nothing else: the
// server stays up, and a call between two other people carries on as if nothing happened.
// Malformed frames, names that are object keys, and authority over calls; limits and
// anonymous sockets are in hostile-limits.test.ts.
import { describe, expect, it } from 'vitest';
import { MALFORMED_POLICY } from '@callwire/protocol';
import {
  SDP_ANSWER,
  SDP_OFFER,
  TestClient,
  candidate,
  connectedCall,
  nativeUser,
  one2oneUser,
  tutorialUser,
} from './support.js';
import { until } from './call-support.js';
import { by, bystandersUnaffected, errorFor, ts, useBystanders } from './hostile-support.js';

useBystanders();

describe('malformed frames', () => {
  it.each([
    ['non-JSON text', 'hello {', 'bad_json'],
    ['null', 'null', 'bad_json'],
    ['an array', '[]', 'bad_json'],
    ['a number', '42', 'bad_json'],
    ['a string', '"str"', 'bad_json'],
    ['true', 'true', 'bad_json'],
    ['an empty object', '{}', 'bad_message'],
    ['a numeric type', '{"type":7}', 'bad_message'],
    ['an unknown type', '{"type":"dance"}', 'unknown_type'],
    ['type __proto__', '{"type":"__proto__"}', 'unknown_type'],
    ['type constructor', '{"type":"constructor"}', 'unknown_type'],
    ['type toString', '{"type":"toString"}', 'unknown_type'],
    ['type hasOwnProperty', '{"type":"hasOwnProperty"}', 'unknown_type'],
    ['a __proto__ key holding the type', '{"__proto__":{"type":"ping"}}', 'bad_message'],
  ])('answers %s with %s, before and after login', async (_label, frame, code) => {
    const anon = await TestClient.open(ts.url('/'));
    expect((await errorFor(anon, frame)).code).toBe(code);
    const user = await nativeUser(ts, 'hostile');
    expect((await errorFor(user, frame)).code).toBe(code);
    // The connection is still usable.
    await user.settle();
    await anon.settle();
    await bystandersUnaffected();
  });

  it('answers the same frames on the one2one endpoint, keyed by id', async () => {
    const c = await TestClient.open(ts.url('/call'));
    expect((await errorFor(c, 'nope')).code).toBe('bad_json');
    expect((await errorFor(c, 'null')).code).toBe('bad_json');
    expect((await errorFor(c, '{}')).code).toBe('bad_message');
    expect((await errorFor(c, { id: '__proto__' })).code).toBe('unknown_type');
    expect((await errorFor(c, { id: 'register', name: 5 })).code).toBe('bad_message');
    c.send({ id: 'ping' });
    await c.next('pong');
    await bystandersUnaffected();
  });

  it('closes a socket that sends a binary frame with 1003, on every endpoint', async () => {
    const c = await nativeUser(ts, 'binary');
    c.ws.send(Buffer.from([0, 1, 2, 3, 0xff]), { binary: true });
    expect(await c.closed).toBe(1003);
    expect(c.pending('error')).toEqual([]);
    await until(() => ts.server.ctx.hub.get('binary') === undefined);
    const anon = await TestClient.open(ts.url('/'));
    anon.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    expect(await anon.closed).toBe(1003);
    const o = await one2oneUser(ts, 'binary-o2o');
    o.ws.send(Buffer.alloc(10), { binary: true });
    expect(await o.closed).toBe(1003);
    expect(ts.server.ctx.stats.closes.get(1003)).toBe(3);
    await bystandersUnaffected();
  });

  it('closes a connection after 16 malformed frames (1008), good frames in between or not', async () => {
    const { strikes } = MALFORMED_POLICY;
    // In a row, before login: every frame is answered until the one that closes.
    const anon = await TestClient.open(ts.url('/'));
    for (let i = 0; i < strikes + 5; i++) anon.send('{not json');
    expect(await anon.closed).toBe(1008);
    expect(anon.pending('error').map((e) => e.code)).toEqual(Array(strikes).fill('bad_json'));

    // Interleaved with good frames, after login, of all three kinds: still closed.
    const c = await nativeUser(ts, 'garbler');
    const bad = ['nope', '{}', '{"type":"dance"}'];
    for (let i = 0; i < strikes - 1; i++) {
      c.send(bad[i % 3]!);
      await c.settle();
    }
    expect(c.closeCode).toBeUndefined();
    c.send(bad[0]!);
    expect(await c.closed).toBe(1008);
    await until(() => ts.server.ctx.hub.get('garbler') === undefined);

    // one2one too.
    const o = await one2oneUser(ts, 'garbler-o2o');
    for (let i = 0; i < strikes; i++) o.send({ id: 'dance' });
    expect(await o.closed).toBe(1008);
    expect(ts.server.ctx.stats.closes.get(1008)).toBe(3);
    await bystandersUnaffected();
  });

  it('forgives a malformed frame now and then: a slow trickle is never closed', async () => {
    const { strikes, forgiveMs } = MALFORMED_POLICY;
    const c = await nativeUser(ts, 'clumsy');
    // Most of the allowance at once, then one bad frame per forgiveness period (with a margin):
    // as many bad frames as the limit in all, never closed.
    for (let i = 0; i < strikes - 2; i++) c.send('oops');
    await c.settle();
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, forgiveMs * 1.5));
      c.send('oops');
      await c.settle();
    }
    expect(c.closeCode).toBeUndefined();
    expect(c.pending('error')).toHaveLength(strikes);
    await bystandersUnaffected();
  }, 30_000);

  it('refuses missing fields and wrong field types with bad_message', async () => {
    const anon = await TestClient.open(ts.url('/'));
    expect((await errorFor(anon, { type: 'login' })).code).toBe('bad_message');
    expect((await errorFor(anon, { type: 'login', name: 5 })).code).toBe('bad_message');
    expect((await errorFor(anon, { type: 'login', name: '' })).code).toBe('bad_message');
    expect((await errorFor(anon, { type: 'login', name: 'ok', protocol: 2 })).code).toBe(
      'bad_message',
    );
    expect((await errorFor(anon, { type: 'login', name: ['a'] })).code).toBe('bad_message');

    const c = await nativeUser(ts, 'typos');
    const bad: unknown[] = [
      { type: 'call' },
      { type: 'call', to: 5 },
      { type: 'call', to: 'bystander-x', media: 'yes' },
      { type: 'call', to: 'bystander-x', media: { video: 'on' } },
      { type: 'accept' },
      { type: 'accept', callId: 5 },
      { type: 'accept', callId: '' },
      { type: 'decline', callId: by.callId, reason: 'bored' },
      { type: 'cancel', callId: null },
      { type: 'hangup', callId: {} },
      { type: 'offer', name: 'bystander-y' },
      { type: 'offer', name: 'bystander-y', offer: [] },
      { type: 'offer', name: 'bystander-y', offer: { type: 'bogus', sdp: 'v=0' } },
      { type: 'offer', name: 'bystander-y', offer: 5 },
      { type: 'answer', callId: by.callId, answer: { sdp: 7, type: 'answer' } },
      { type: 'candidate', callId: by.callId },
      { type: 'candidate', callId: by.callId, candidate: 5 },
      { type: 'candidate', callId: by.callId, candidate: { candidate: 'x', sdpMLineIndex: -1 } },
      { type: 'users', limit: 0 },
      { type: 'users', limit: 101 },
      { type: 'users', limit: 1.5 },
      { type: 'users', query: 5 },
      { type: 'watch' },
      { type: 'watch', names: 'bystander-x' },
      { type: 'watch', names: [5] },
      { type: 'join' },
      { type: 'join', room: 'has/slash' },
      { type: 'join', room: '' },
      { type: 'ping', ref: 5 },
    ];
    // Each bad frame is a strike (1008 at 16): a fresh connection for every dozen.
    let sender = c;
    for (const [i, frame] of bad.entries()) {
      if (i > 0 && i % 12 === 0) sender = await nativeUser(ts, `typos-${i}`);
      const e = await errorFor(sender, frame);
      expect({ frame, code: e.code }).toEqual({ frame, code: 'bad_message' });
    }
    await sender.settle();
    await bystandersUnaffected();
  });

  it('refuses over-long strings (bad_message) and over-long names (name_invalid)', async () => {
    const anon = await TestClient.open(ts.url('/'));
    expect((await errorFor(anon, { type: 'login', name: 'a'.repeat(257) })).code).toBe(
      'bad_message',
    );
    anon.send({ type: 'login', name: 'a'.repeat(33) });
    expect(await anon.next('login')).toMatchObject({ success: false, code: 'name_invalid' });

    const c = await nativeUser(ts, 'longwinded');
    const long: unknown[] = [
      { type: 'call', to: 'b'.repeat(257) },
      {
        type: 'offer',
        name: 'bystander-y',
        offer: { type: 'offer', sdp: `v=0\r\na=${'s'.repeat(60_000)}` },
      },
      { type: 'offer', name: 'bystander-y', offer: `v=0\r\na=${'s'.repeat(60_000)}` },
      {
        type: 'candidate',
        callId: by.callId,
        candidate: { candidate: `${candidate(1).candidate} x ${'c'.repeat(1_024)}` },
      },
      { type: 'accept', callId: 'i'.repeat(65) },
      { type: 'users', query: 'q'.repeat(65) },
      { type: 'join', room: 'r'.repeat(65) },
      { type: 'watch', names: Array.from({ length: 501 }, (_, i) => `n${i}`) },
    ];
    for (const frame of long) expect((await errorFor(c, frame)).code).toBe('bad_message');
    // An over-long ref is not echoed back (it could be used to make the server amplify).
    const e = await errorFor(c, { type: 'nope', ref: 'r'.repeat(65) });
    expect(e.code).toBe('unknown_type');
    expect(e.ref).toBeUndefined();
    // A usable ref is echoed on the error, so a client can match it to its request.
    expect((await errorFor(c, { type: 'nope', ref: 'mine' })).ref).toBe('mine');
    await bystandersUnaffected();
  });
});

describe('names that are object keys', () => {
  it('treats __proto__, constructor and toString as ordinary login names and call targets', async () => {
    const p = await nativeUser(ts, '__proto__');
    const c = await nativeUser(ts, 'constructor');
    const t = await nativeUser(ts, 'toString');

    p.send({ type: 'call', to: 'constructor' });
    const ringing = await p.next('ringing');
    const incoming = await c.next('incoming');
    expect(incoming).toMatchObject({ callId: ringing.callId, from: '__proto__' });
    c.send({ type: 'accept', callId: incoming.callId });
    expect(await p.next('accepted')).toMatchObject({ name: 'constructor', role: 'caller' });
    await c.next('accepted');

    // Names that exist on every plain object are still just offline people.
    for (const ghost of ['hasOwnProperty', 'valueOf', 'prototype']) {
      t.send({ type: 'call', to: ghost });
      expect(await t.next('leave')).toMatchObject({ reason: 'unavailable', name: ghost });
    }
    // toString calls __proto__, who is in a call: busy, and __proto__ hears nothing.
    t.send({ type: 'call', to: '__PROTO__' });
    expect(await t.next('leave')).toMatchObject({ reason: 'busy', name: '__proto__' });
    await p.settle();
    expect(p.pending('incoming')).toEqual([]);

    t.send({ type: 'users', query: '__proto__' });
    expect(await t.next('users')).toMatchObject({
      total: 1,
      users: [{ name: '__proto__', status: 'busy' }],
    });
    t.send({ type: 'watch', names: ['__proto__', 'constructor', 'toString'] });
    t.send({ type: 'join', room: '__proto__' });
    expect(await t.next('joined')).toMatchObject({ room: '__proto__' });

    const dup = await TestClient.open(ts.url('/'));
    dup.send({ type: 'login', name: 'Constructor', protocol: 1 });
    expect(await dup.next('login')).toMatchObject({ success: false, code: 'name_taken' });
    await bystandersUnaffected();
  });

  it('does so on the one2one endpoint too', async () => {
    const p = await one2oneUser(ts, '__proto__');
    const c = await one2oneUser(ts, 'constructor');
    p.send({ id: 'call', to: 'constructor', sdpOffer: SDP_OFFER });
    expect(await c.next('incomingCall')).toMatchObject({ from: '__proto__', offer: SDP_OFFER });
    p.send({ id: 'list' });
    expect((await p.next('listResponse')).list).toContain('constructor');
    const t = await one2oneUser(ts, 'toString');
    t.send({ id: 'call', to: 'valueOf', sdpOffer: SDP_OFFER });
    expect(await t.next('callResponse')).toMatchObject({
      response: 'rejected',
      reason: 'unavailable',
    });
    await bystandersUnaffected();
  });
});

describe('authority over calls', () => {
  it('refuses offer/answer/candidate/hangup/accept/decline/cancel for a call the sender is not in', async () => {
    const z = await nativeUser(ts, 'intruder');
    const frames: unknown[] = [
      { type: 'offer', callId: by.callId, offer: SDP_OFFER },
      { type: 'answer', callId: by.callId, answer: SDP_ANSWER },
      { type: 'candidate', callId: by.callId, candidate: candidate(1) },
      { type: 'hangup', callId: by.callId },
      { type: 'leave', callId: by.callId },
      { type: 'accept', callId: by.callId },
      { type: 'decline', callId: by.callId },
      { type: 'cancel', callId: by.callId },
      // By name, as the tutorial does: the intruder has no call with them.
      { type: 'candidate', name: 'bystander-y', candidate: candidate(2) },
      { type: 'answer', name: 'bystander-x', answer: SDP_ANSWER },
      { type: 'hangup', name: 'bystander-y' },
      { type: 'leave', name: 'bystander-x' },
    ];
    for (const frame of frames) {
      const e = await errorFor(z, frame);
      expect({ frame, code: e.code }).toEqual({ frame, code: 'not_in_call' });
    }
    // An offer by name opens a call of the intruder's own, which finds them busy.
    z.send({ type: 'offer', name: 'bystander-y', offer: SDP_OFFER });
    expect(await z.next('leave')).toMatchObject({ reason: 'busy' });

    for (const c of [by.x, by.y]) {
      await c.settle();
      expect(c.pending('offer', 'answer', 'candidate', 'leave', 'incoming', 'error')).toEqual([]);
    }
    await bystandersUnaffected();
  });

  it('refuses the same from someone who is in a call of their own', async () => {
    const a = await nativeUser(ts, 'other-a');
    const b = await nativeUser(ts, 'other-b');
    const own = await connectedCall(a, b, 'other-b');
    expect(
      (await errorFor(a, { type: 'candidate', callId: by.callId, candidate: candidate(3) })).code,
    ).toBe('not_in_call');
    expect(
      (await errorFor(a, { type: 'candidate', name: 'bystander-y', candidate: candidate(4) })).code,
    ).toBe('not_in_call');
    expect((await errorFor(a, { type: 'offer', name: 'bystander-y', offer: SDP_OFFER })).code).toBe(
      'not_in_call',
    );
    await b.settle();
    expect(b.pending('candidate', 'offer')).toEqual([]);
    // Its own call still works.
    a.send({ type: 'candidate', callId: own, candidate: candidate(5) });
    expect((await b.next('candidate')).candidate).toEqual(candidate(5));
    await bystandersUnaffected();
  });

  it('stamps the real sender: a spoofed from or name (native and one2one) is ignored', async () => {
    by.x.send({ type: 'candidate', callId: by.callId, candidate: candidate(9), from: 'mallory' });
    expect(await by.y.next('candidate')).toMatchObject({
      from: 'bystander-x',
      name: 'bystander-x',
    });
    // With a callId, `name` does not select anything, and it never reaches the receiver as is.
    by.x.send({
      type: 'offer',
      callId: by.callId,
      offer: SDP_OFFER,
      from: 'mallory',
      name: 'mallory',
    });
    expect(await by.y.next('offer')).toMatchObject({ from: 'bystander-x', name: 'bystander-x' });
    by.y.send({ type: 'answer', name: 'bystander-x', answer: SDP_ANSWER, from: 'bystander-x' });
    expect(await by.x.next('answer')).toMatchObject({ from: 'bystander-y', name: 'bystander-y' });

    const m = await one2oneUser(ts, 'mallory');
    const v = await one2oneUser(ts, 'victim');
    m.send({ id: 'call', from: 'bystander-x', to: 'victim', sdpOffer: SDP_OFFER });
    expect((await v.next('incomingCall')).from).toBe('mallory');

    // Answering for somebody else's caller selects nothing.
    const z = await one2oneUser(ts, 'zed');
    z.send({
      id: 'incomingCallResponse',
      from: 'mallory',
      callResponse: 'accept',
      sdpOffer: SDP_ANSWER,
    });
    expect((await z.next('error')).code).toBe('not_in_call');
    z.send({ id: 'onIceCandidate', candidate: candidate(1) });
    expect((await z.next('error')).code).toBe('not_in_call');
    m.send({ id: 'ping' });
    await m.next('pong');
    expect(m.pending('callResponse', 'iceCandidate')).toEqual([]);
    await bystandersUnaffected();
  });

  it('accepts only login and ping before login (not_logged_in)', async () => {
    const anon = await TestClient.open(ts.url('/'));
    const frames: unknown[] = [
      { type: 'call', to: 'bystander-x' },
      { type: 'offer', name: 'bystander-x', offer: SDP_OFFER },
      { type: 'candidate', callId: by.callId, candidate: candidate(1) },
      { type: 'hangup', callId: by.callId },
      { type: 'leave', name: 'bystander-y' },
      { type: 'users' },
      { type: 'watch', names: ['bystander-x'] },
      { type: 'join', room: 'lobby' },
    ];
    for (const frame of frames) expect((await errorFor(anon, frame)).code).toBe('not_logged_in');
    await anon.settle();

    const o = await TestClient.open(ts.url('/call'));
    // (`list` is answered before register in open mode, as the one2one sample does.)
    for (const frame of [{ id: 'stop' }, { id: 'call', to: 'bystander-x', sdpOffer: SDP_OFFER }]) {
      expect((await errorFor(o, frame)).code).toBe('not_logged_in');
    }
    await bystandersUnaffected();
  });

  it('refuses a second login on the same connection (already_logged_in)', async () => {
    const c = await nativeUser(ts, 'once');
    expect((await errorFor(c, { type: 'login', name: 'twice', protocol: 1 })).code).toBe(
      'already_logged_in',
    );
    expect((await errorFor(c, { type: 'login', name: 'once' })).code).toBe('already_logged_in');
    const t = await tutorialUser(ts, 'tut-once');
    expect((await errorFor(t, { type: 'login', name: 'tut-twice' })).code).toBe(
      'already_logged_in',
    );
    const o = await one2oneUser(ts, 'o2o-once');
    expect((await errorFor(o, { id: 'register', name: 'o2o-twice' })).code).toBe(
      'already_logged_in',
    );
    // Still known by the first name only.
    expect(ts.server.ctx.hub.find('twice')).toBeUndefined();
    expect(ts.server.ctx.hub.find('once')).toBeDefined();
    await bystandersUnaffected();
  });
});
