// Calls between users on different nodes behave as on one node: every dialect, presence,
// busy, ring timeout, hang-up and disconnect; and a name is unique across the cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeProcess, login, until } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import { SDP_ANSWER, SDP_OFFER, TestClient, candidate } from './support.js';

let redis: RedisServer;
let a: NodeProcess;
let b: NodeProcess;
let c: NodeProcess;
const clients: TestClient[] = [];

async function user(
  node: NodeProcess,
  name: string,
  kind: 'native' | 'tutorial' | 'one2one' = 'native',
) {
  const client = await login(node, name, kind);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  redis = new RedisServer();
  await redis.start();
  [a, b, c] = await Promise.all([
    NodeProcess.start(redis.url, ['--ring-timeout-ms', '800']),
    NodeProcess.start(redis.url, ['--ring-timeout-ms', '800']),
    NodeProcess.start(redis.url, ['--ring-timeout-ms', '800']),
  ]);
  await Promise.all([a.waitReady(), b.waitReady(), c.waitReady()]);
}, 30_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  await redis?.stop();
});

describe('logins across nodes', () => {
  it('sends each client its login reply before anything else, even with many logins at once', async () => {
    // Logins completing together on one node used to let one login's presence reach another
    // session before that session's own login reply.
    const opened = await Promise.all(
      Array.from({ length: 60 }, (_, i) => TestClient.open((i % 2 ? a : b).url('/'))),
    );
    clients.push(...opened);
    opened.forEach((c, i) => c.send({ type: 'login', name: `burst${i}`, protocol: 1 }));
    await Promise.all(opened.map((c) => c.next('login')));
    for (const c of opened) expect(JSON.parse(c.raw[0]!)).toMatchObject({ type: 'login', success: true });
  });
});

describe('a native call across nodes', () => {
  it('rings, connects, relays offer/answer/candidates in order and hangs up', async () => {
    const alice = await user(a, 'alice');
    const bob = await user(b, 'Bob');
    alice.send({ type: 'call', to: 'bob', media: { audio: true, video: false }, ref: 'r1' });
    const ringing = await alice.next('ringing');
    expect(ringing).toMatchObject({ name: 'Bob', ref: 'r1' });
    const incoming = await bob.next('incoming');
    expect(incoming).toMatchObject({
      callId: ringing.callId,
      from: 'alice',
      media: { audio: true, video: false },
    });
    bob.send({ type: 'accept', callId: incoming.callId });
    expect(await alice.next('accepted')).toMatchObject({
      callId: ringing.callId,
      name: 'Bob',
      role: 'caller',
    });
    expect(await bob.next('accepted')).toMatchObject({ name: 'alice', role: 'callee' });
    alice.send({ type: 'offer', callId: ringing.callId, offer: SDP_OFFER });
    expect(await bob.next('offer')).toMatchObject({ from: 'alice', offer: SDP_OFFER });
    bob.send({ type: 'answer', callId: ringing.callId, answer: SDP_ANSWER });
    expect(await alice.next('answer')).toMatchObject({ from: 'Bob', answer: SDP_ANSWER });
    for (let i = 0; i < 20; i++) {
      alice.send({ type: 'candidate', callId: ringing.callId, candidate: candidate(i) });
      bob.send({ type: 'candidate', callId: ringing.callId, candidate: candidate(100 + i) });
    }
    for (let i = 0; i < 20; i++) {
      expect((await bob.next('candidate')).candidate).toEqual(candidate(i));
      expect((await alice.next('candidate')).candidate).toEqual(candidate(100 + i));
    }
    bob.send({ type: 'hangup', callId: ringing.callId });
    expect(await alice.next('leave')).toMatchObject({
      callId: ringing.callId,
      reason: 'hangup',
      name: 'Bob',
    });
    expect(await bob.next('leave')).toMatchObject({ callId: ringing.callId, reason: 'hangup' });
  });
});

describe('every dialect across nodes', () => {
  it('tutorial to tutorial: offer by name, answer, trickled candidates, leave', async () => {
    const ta = await user(a, 'tut-a', 'tutorial');
    const tb = await user(c, 'tut-b', 'tutorial');
    // The tutorial client sends its offer and candidates at once: none may be lost or reordered
    // while its node looks the callee up on the other nodes.
    ta.send({ type: 'offer', offer: SDP_OFFER, name: 'tut-b' });
    for (let i = 0; i < 10; i++)
      ta.send({ type: 'candidate', candidate: candidate(i), name: 'tut-b' });
    expect(await tb.next('offer')).toMatchObject({ name: 'tut-a', offer: SDP_OFFER });
    tb.send({ type: 'answer', answer: SDP_ANSWER, name: 'tut-a' });
    expect((await ta.next('answer')).answer).toEqual(SDP_ANSWER);
    for (let i = 0; i < 10; i++)
      expect((await tb.next('candidate')).candidate).toEqual(candidate(i));
    tb.send({ type: 'candidate', candidate: candidate(50), name: 'tut-a' });
    expect((await ta.next('candidate')).candidate).toEqual(candidate(50));
    ta.send({ type: 'leave', name: 'tut-b' });
    expect(await tb.next('leave')).toMatchObject({ reason: 'hangup', name: 'tut-a' });
    await ta.settle();
    expect(ta.pending('leave', 'error')).toEqual([]);
  });

  it('native calls a tutorial user on another node: rung on its behalf, offer delivered after accept', async () => {
    const n = await user(a, 'nat-1');
    const t = await user(b, 'tut-1', 'tutorial');
    n.send({ type: 'call', to: 'tut-1' });
    const { callId } = await n.next('ringing');
    expect(await n.next('accepted')).toMatchObject({ callId, role: 'caller' });
    n.send({ type: 'offer', callId, offer: SDP_OFFER });
    expect(await t.next('offer')).toMatchObject({ name: 'nat-1', offer: SDP_OFFER });
    t.send({ type: 'answer', answer: SDP_ANSWER, name: 'nat-1' });
    expect(await n.next('answer')).toMatchObject({ callId, answer: SDP_ANSWER });
    t.ws.terminate();
    expect(await n.next('leave')).toMatchObject({ callId, reason: 'disconnected' });
  });

  it('one2one to one2one: incomingCall with the offer, accept with the answer, candidates, stop', async () => {
    const u1 = await user(a, 'o2o-1', 'one2one');
    const u2 = await user(b, 'o2o-2', 'one2one');
    u1.send({ id: 'call', from: 'mallory', to: 'o2o-2', sdpOffer: SDP_OFFER });
    expect(await u2.next('incomingCall')).toMatchObject({ from: 'o2o-1', offer: SDP_OFFER });
    u1.send({ id: 'onIceCandidate', candidate: candidate(1) });
    await u1.settle();
    u2.send({
      id: 'incomingCallResponse',
      from: 'o2o-1',
      callResponse: 'accept',
      sdpOffer: SDP_ANSWER,
    });
    expect(await u1.next('callResponse')).toMatchObject({
      response: 'accepted',
      sdpAnswer: SDP_ANSWER,
    });
    expect((await u2.next('iceCandidate')).candidate).toEqual(candidate(1));
    u2.send({ id: 'onIceCandidate', candidate: candidate(2) });
    expect((await u1.next('iceCandidate')).candidate).toEqual(candidate(2));
    u1.send({ id: 'stop' });
    expect(await u2.next('stopCommunication')).toMatchObject({ reason: 'hangup' });
  });

  it('one2one rejects a call from another node: the caller hears callResponse rejected', async () => {
    const u1 = await user(c, 'o2o-3', 'one2one');
    const u2 = await user(a, 'o2o-4', 'one2one');
    u1.send({ id: 'call', to: 'o2o-4', sdpOffer: SDP_OFFER });
    await u2.next('incomingCall');
    u2.send({ id: 'incomingCallResponse', from: 'o2o-3', callResponse: 'reject' });
    expect(await u1.next('callResponse')).toMatchObject({
      response: 'rejected',
      reason: 'declined',
    });
  });

  it('native calls a one2one user on another node: asked for the offer first, then rung with it', async () => {
    const n = await user(c, 'nat-2');
    const o = await user(a, 'o2o-5', 'one2one');
    n.send({ type: 'call', to: 'o2o-5' });
    const ringing = await n.next('ringing');
    expect(ringing.sendOffer).toBe(true);
    n.send({ type: 'offer', callId: ringing.callId, offer: SDP_OFFER });
    expect(await o.next('incomingCall')).toMatchObject({ from: 'nat-2', offer: SDP_OFFER });
    o.send({
      id: 'incomingCallResponse',
      from: 'nat-2',
      callResponse: 'accept',
      sdpOffer: SDP_ANSWER,
    });
    expect(await n.next('accepted')).toMatchObject({ callId: ringing.callId });
    expect(await n.next('answer')).toMatchObject({ answer: SDP_ANSWER, from: 'o2o-5' });
    n.send({ type: 'hangup', callId: ringing.callId });
    expect(await o.next('stopCommunication')).toMatchObject({ reason: 'hangup' });
  });
});

describe('call outcomes across nodes', () => {
  it('busy: a callee in a call elsewhere makes the call end at once with busy', async () => {
    const x = await user(a, 'busy-x');
    const y = await user(b, 'busy-y');
    const z = await user(c, 'busy-z');
    x.send({ type: 'call', to: 'busy-y' });
    const { callId } = await x.next('ringing');
    await y.next('incoming');
    y.send({ type: 'accept', callId });
    await x.next('accepted');
    z.send({ type: 'call', to: 'busy-y', ref: 'z1' });
    expect(await z.next('leave')).toMatchObject({ reason: 'busy', name: 'busy-y', ref: 'z1' });
    await y.settle();
    expect(y.pending('incoming')).toEqual([]);
    x.send({ type: 'hangup', callId });
    await y.next('leave');
  });

  it('decline, cancel, unavailable and not_in_call answer as on one node', async () => {
    const p = await user(a, 'out-p');
    const q = await user(b, 'out-q');
    p.send({ type: 'call', to: 'out-q' });
    let ringing = await p.next('ringing');
    await q.next('incoming');
    q.send({ type: 'decline', callId: ringing.callId });
    expect(await p.next('leave')).toMatchObject({ reason: 'declined' });
    expect(await q.next('leave')).toMatchObject({ reason: 'declined' });

    p.send({ type: 'call', to: 'out-q' });
    ringing = await p.next('ringing');
    await q.next('incoming');
    p.send({ type: 'cancel', callId: ringing.callId });
    expect(await q.next('leave')).toMatchObject({ reason: 'cancelled', missed: true });
    expect(await p.next('leave')).toMatchObject({ reason: 'cancelled' });
    // The callee's commands for a call that is over: not_in_call, as on one node.
    q.send({ type: 'accept', callId: ringing.callId, ref: 'late' });
    expect(await q.next('error')).toMatchObject({ code: 'not_in_call', ref: 'late' });

    p.send({ type: 'call', to: 'nobody-here', ref: 'u' });
    expect(await p.next('leave')).toMatchObject({ reason: 'unavailable', ref: 'u' });
    // A callee that has not accepted cannot answer yet: the home's state machine says so.
    p.send({ type: 'call', to: 'out-q' });
    ringing = await p.next('ringing');
    await q.next('incoming');
    q.send({ type: 'answer', callId: ringing.callId, answer: SDP_ANSWER, ref: 'early' });
    expect(await q.next('error')).toMatchObject({ code: 'invalid_state', ref: 'early' });
    q.send({ type: 'hangup', callId: ringing.callId });
    expect(await p.next('leave')).toMatchObject({ reason: 'declined' });
  });

  it('ring timeout: caller no_answer, callee cancelled and missed', async () => {
    const p = await user(b, 'ring-p');
    const q = await user(c, 'ring-q');
    p.send({ type: 'call', to: 'ring-q' });
    await p.next('ringing');
    await q.next('incoming');
    expect(await p.next('leave', 3000)).toMatchObject({ reason: 'no_answer' });
    expect(await q.next('leave', 3000)).toMatchObject({ reason: 'cancelled', missed: true });
  });

  it('disconnect of either side ends the call for the other with disconnected', async () => {
    const p = await user(a, 'disc-p');
    const q = await user(c, 'disc-q');
    p.send({ type: 'call', to: 'disc-q' });
    let { callId } = await p.next('ringing');
    await q.next('incoming');
    q.send({ type: 'accept', callId });
    await p.next('accepted');
    q.ws.terminate();
    expect(await p.next('leave')).toMatchObject({ callId, reason: 'disconnected' });

    const q2 = await user(c, 'disc-q');
    p.send({ type: 'call', to: 'disc-q' });
    ({ callId } = await p.next('ringing'));
    await q2.next('incoming');
    q2.send({ type: 'accept', callId });
    await q2.next('accepted');
    p.ws.terminate();
    expect(await q2.next('leave')).toMatchObject({ callId, reason: 'disconnected' });
    // Both are free again: q2 can be called from a third node.
    const r = await user(b, 'disc-r');
    r.send({ type: 'call', to: 'disc-q' });
    await r.next('ringing');
    expect(await q2.next('incoming')).toMatchObject({ from: 'disc-r' });
  });
});

describe('crossing calls and resume across nodes', () => {
  it('calling back someone whose call rings you makes one call, accepted', async () => {
    const x = await user(a, 'cross-x');
    const y = await user(b, 'cross-y');
    x.send({ type: 'call', to: 'cross-y' });
    const { callId } = await x.next('ringing');
    await y.next('incoming');
    y.send({ type: 'call', to: 'cross-x', ref: 'back' });
    expect(await y.next('accepted')).toMatchObject({ callId, role: 'callee', ref: 'back' });
    expect(await x.next('accepted')).toMatchObject({ callId, role: 'caller' });
    x.send({ type: 'hangup', callId });
    await y.next('leave');
  });

  it('a party that drops and resumes on its node keeps a call across nodes', async () => {
    const x = await user(c, 'res-x');
    const y = await openClient(a.url('/'));
    y.send({ type: 'login', name: 'res-y', protocol: 1, resume: true });
    const { resumeToken } = await y.next('login');
    x.send({ type: 'call', to: 'res-y' });
    const { callId } = await x.next('ringing');
    await y.next('incoming');
    y.send({ type: 'accept', callId });
    await x.next('accepted');
    y.ws.terminate();
    expect(await x.next('reconnecting')).toMatchObject({ callId, name: 'res-y' });
    x.send({ type: 'candidate', callId, candidate: candidate(9) });
    const y2 = await openClient(a.url('/'));
    y2.send({ type: 'login', name: 'res-y', protocol: 1, resumeToken });
    expect(await y2.next('login')).toMatchObject({ success: true, resumed: true });
    expect((await y2.next('candidate')).candidate).toEqual(candidate(9));
    expect(await x.next('reconnected')).toMatchObject({ callId });
    y2.send({ type: 'hangup', callId });
    expect(await x.next('leave')).toMatchObject({ reason: 'hangup' });
  });
});

describe('resuming through another node (no sticky sessions)', () => {
  async function resumable(node: NodeProcess, name: string) {
    const client = await openClient(node.url('/'));
    client.send({ type: 'login', name, protocol: 1, resume: true });
    const reply = await client.next('login');
    return { client, token: reply.resumeToken as string };
  }

  async function resumeOn(node: NodeProcess, name: string, token: string) {
    const client = await openClient(node.url('/'));
    client.send({ type: 'login', name, protocol: 1, resumeToken: token });
    return { client, reply: await client.next('login') };
  }

  it('takes a dropped session and its call over from the node that held it', async () => {
    const x = await user(c, 'tk-x');
    const y = await resumable(a, 'tk-y');
    x.send({ type: 'call', to: 'tk-y' });
    const { callId } = await x.next('ringing');
    await y.client.next('incoming');
    y.client.send({ type: 'accept', callId });
    await x.next('accepted');
    y.client.ws.terminate();
    expect(await x.next('reconnecting')).toMatchObject({ callId, name: 'tk-y' });
    x.send({ type: 'candidate', callId, candidate: candidate(21) });
    await x.settle();
    const y2 = await resumeOn(b, 'tk-y', y.token);
    expect(y2.reply).toMatchObject({ success: true, resumed: true });
    expect(y2.reply.calls).toEqual([
      expect.objectContaining({ callId, name: 'tk-x', role: 'callee' }),
    ]);
    expect((await y2.client.next('candidate')).candidate).toEqual(candidate(21));
    expect(await x.next('reconnected')).toMatchObject({ callId, name: 'tk-y' });
    y2.client.send({ type: 'candidate', callId, candidate: candidate(22) });
    expect((await x.next('candidate')).candidate).toEqual(candidate(22));
    x.send({ type: 'candidate', callId, candidate: candidate(23) });
    expect((await y2.client.next('candidate')).candidate).toEqual(candidate(23));
    await x.settle();
    expect(x.pending('reconnecting', 'leave')).toEqual([]);
    // The old token is spent; the name stayed taken throughout.
    const again = await resumeOn(c, 'tk-y', y.token);
    expect(again.reply).toMatchObject({ success: false, code: 'resume_failed' });
    y2.client.send({ type: 'hangup', callId });
    expect(await x.next('leave')).toMatchObject({ reason: 'hangup' });
  });

  it('replaces a connection not yet known to be dead, and keeps a call whose peer stays behind', async () => {
    const x = await resumable(a, 'tk-p');
    const y = await resumable(a, 'tk-q');
    x.client.send({ type: 'call', to: 'tk-q' });
    const { callId } = await x.client.next('ringing');
    await y.client.next('incoming');
    y.client.send({ type: 'accept', callId });
    await x.client.next('accepted');
    // y's first connection is still open when its client comes back through node c.
    const y2 = await resumeOn(c, 'tk-q', y.token);
    expect(y2.reply).toMatchObject({ success: true, resumed: true });
    expect(await y.client.closed).toBe(4003);
    expect(await x.client.next('reconnecting')).toMatchObject({ callId, name: 'tk-q' });
    expect(await x.client.next('reconnected')).toMatchObject({ callId, name: 'tk-q' });
    x.client.send({ type: 'candidate', callId, candidate: candidate(31) });
    expect((await y2.client.next('candidate')).candidate).toEqual(candidate(31));
    y2.client.send({ type: 'candidate', callId, candidate: candidate(32) });
    expect((await x.client.next('candidate')).candidate).toEqual(candidate(32));
    x.client.send({ type: 'hangup', callId });
    expect(await y2.client.next('leave')).toMatchObject({ callId, reason: 'hangup' });
  });
});

describe('meet by link across nodes', () => {
  it('two people who reach different nodes meet in the room; a third finds it full', async () => {
    const x = await user(a, 'room-x');
    const y = await user(b, 'room-y');
    const z = await user(c, 'room-z');
    x.send({ type: 'join', room: 'r-123', ref: 'jx' });
    expect(await x.next('joined')).toMatchObject({ room: 'r-123', ref: 'jx' });
    y.send({ type: 'join', room: 'r-123', ref: 'jy' });
    const ya = await y.next('accepted');
    expect(ya).toMatchObject({ name: 'room-x', role: 'callee', ref: 'jy' });
    expect(await x.next('accepted')).toMatchObject({
      callId: ya.callId,
      name: 'room-y',
      role: 'caller',
    });
    z.send({ type: 'join', room: 'r-123', ref: 'jz' });
    expect(await z.next('error')).toMatchObject({ code: 'room_full', ref: 'jz' });
    x.send({ type: 'offer', callId: ya.callId, offer: SDP_OFFER });
    expect((await y.next('offer')).offer).toEqual(SDP_OFFER);
    y.send({ type: 'answer', callId: ya.callId, answer: SDP_ANSWER });
    expect((await x.next('answer')).answer).toEqual(SDP_ANSWER);
    y.send({ type: 'hangup' });
    expect(await x.next('leave')).toMatchObject({ callId: ya.callId, reason: 'hangup' });
    // y's own copy of the call ends when its home (x's node) says so, one hop later than x
    // hears it: y is in the room until then.
    expect(await y.next('leave')).toMatchObject({ callId: ya.callId });
    // The room is free again, and a waiter who leaves frees it too.
    z.send({ type: 'join', room: 'r-123', ref: 'again' });
    expect(await z.next('joined')).toMatchObject({ ref: 'again' });
    z.send({ type: 'hangup' });
    await z.settle();
    y.send({ type: 'join', room: 'r-123', ref: 'third' });
    expect(await y.next('joined')).toMatchObject({ ref: 'third' });
    x.send({ type: 'join', room: 'r-123', ref: 'fourth' });
    expect(await x.next('accepted')).toMatchObject({
      name: 'room-y',
      role: 'callee',
      ref: 'fourth',
    });
    expect(await y.next('accepted')).toMatchObject({ name: 'room-x', role: 'caller' });
  });
});

describe('names and presence across nodes', () => {
  it('a name taken on one node cannot be taken on another, and is free once its holder leaves', async () => {
    const holder = await user(a, 'Unique');
    for (const node of [b, c]) {
      const other = await openClient(node.url('/'));
      other.send({ type: 'login', name: 'UNIQUE', protocol: 1 });
      expect(await other.next('login')).toMatchObject({ success: false, code: 'name_taken' });
      const o2o = await openClient(node.url('/call'));
      o2o.send({ id: 'register', name: 'unique' });
      expect(await o2o.next('registerResponse')).toMatchObject({
        response: 'rejected',
        code: 'name_taken',
      });
    }
    holder.close();
    await holder.closed;
    await until(async () => {
      const again = await openClient(b.url('/'));
      again.send({ type: 'login', name: 'unique', protocol: 1 });
      return (await again.next('login')).success === true;
    });
  });

  it('the online list and live presence span every node', async () => {
    const watcher = await user(a, 'pres-watch');
    const other = await user(b, 'pres-other');
    expect(
      await watcher.next((m) => m.type === 'presence' && m.name === 'pres-other'),
    ).toMatchObject({
      status: 'online',
    });
    watcher.send({ type: 'users', query: 'pres-', ref: 'u1' });
    const page = await watcher.next('users');
    expect(page).toMatchObject({ ref: 'u1', total: 2 });
    expect(page.users).toEqual([
      { name: 'pres-other', status: 'online' },
      { name: 'pres-watch', status: 'online' },
    ]);
    const third = await user(c, 'pres-third');
    other.send({ type: 'call', to: 'pres-third' });
    await third.next('incoming');
    expect(
      await watcher.next(
        (m) => m.type === 'presence' && m.name === 'pres-third' && m.status === 'busy',
      ),
    ).toBeTruthy();
    expect(
      await watcher.next(
        (m) => m.type === 'presence' && m.name === 'pres-other' && m.status === 'busy',
      ),
    ).toBeTruthy();
    // Paging: one at a time, in name order, across nodes.
    watcher.send({ type: 'users', query: 'pres-', limit: 1, ref: 'p1' });
    const first = await watcher.next((m) => m.type === 'users' && m.ref === 'p1');
    expect(first).toMatchObject({
      users: [{ name: 'pres-other', status: 'busy' }],
      cursor: 'pres-other',
      total: 3,
    });
    watcher.send({ type: 'users', query: 'pres-', limit: 1, cursor: 'pres-other', ref: 'p2' });
    expect(await watcher.next((m) => m.type === 'users' && m.ref === 'p2')).toMatchObject({
      users: [{ name: 'pres-third', status: 'busy' }],
    });
    third.ws.terminate();
    expect(
      await watcher.next(
        (m) => m.type === 'presence' && m.name === 'pres-third' && m.status === 'offline',
      ),
    ).toBeTruthy();
    expect(
      await watcher.next(
        (m) => m.type === 'presence' && m.name === 'pres-other' && m.status === 'online',
      ),
    ).toBeTruthy();
    // A login reply lists users of every node.
    const late = await openClient(c.url('/'));
    late.send({ type: 'login', name: 'pres-late', protocol: 1 });
    const reply = await late.next('login');
    const names = (reply.users as Array<{ name: string }>).map((u) => u.name);
    expect(names).toEqual(expect.arrayContaining(['pres-watch', 'pres-other']));
    expect(names).not.toContain('pres-late');
    expect(reply.usersTotal).toBe((reply.users as unknown[]).length);
    // one2one's list too.
    const o = await user(b, 'pres-o2o', 'one2one');
    o.send({ id: 'list' });
    expect((await o.next('listResponse')).list).toEqual(
      expect.arrayContaining(['pres-watch', 'pres-late']),
    );
  });
});

async function openClient(url: string): Promise<TestClient> {
  const client = await TestClient.open(url);
  clients.push(client);
  return client;
}
