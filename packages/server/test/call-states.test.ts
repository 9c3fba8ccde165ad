// Every state a native call goes through, as its two parties (and onlookers) see it.
import { afterEach, describe, expect, it } from 'vitest';
import {
  SDP_ANSWER,
  SDP_OFFER,
  TestClient,
  candidate,
  connectedCall,
  nativeUser,
  one2oneUser,
  startServer,
  type Msg,
  type TestServer,
} from './support.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

async function server(flags: string[] = []): Promise<TestServer> {
  ts = await startServer(flags);
  return ts;
}

/** A rings b; resolves with the callId once both sides know. */
async function ring(a: TestClient, b: TestClient, bName: string): Promise<string> {
  a.send({ type: 'call', to: bName, media: { audio: true, video: false } });
  const ringing = await a.next('ringing');
  const incoming = await b.next('incoming');
  expect(incoming.callId).toBe(ringing.callId);
  return ringing.callId as string;
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Nothing more of these types arrives (after a round trip). */
async function nothingMore(c: TestClient, ...types: string[]): Promise<void> {
  await c.settle();
  expect(c.pending(...types)).toEqual([]);
}

describe('a native call, start to end', () => {
  it('call -> ringing/incoming -> accept -> accepted both -> offer/answer/candidates -> hangup', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    a.send({ type: 'call', to: 'bob', media: { audio: true, video: true }, ref: 'r1' });
    const ringing = await a.next('ringing');
    expect(ringing).toMatchObject({ name: 'bob', ref: 'r1' });
    const callId = ringing.callId as string;
    expect(await b.next('incoming')).toMatchObject({
      callId,
      from: 'alice',
      name: 'alice',
      media: { audio: true, video: true },
    });
    expect(t.server.ctx.engine.activeCalls).toBe(1);

    b.send({ type: 'accept', callId, ref: 'acc' });
    expect(await a.next('accepted')).toMatchObject({
      callId,
      name: 'bob',
      role: 'caller',
      media: { video: true },
    });
    expect(await b.next('accepted')).toMatchObject({
      callId,
      name: 'alice',
      role: 'callee',
      ref: 'acc',
    });

    a.send({ type: 'offer', callId, offer: SDP_OFFER });
    expect(await b.next('offer')).toEqual({
      type: 'offer',
      callId,
      from: 'alice',
      name: 'alice',
      offer: SDP_OFFER,
    });
    b.send({ type: 'answer', callId, answer: SDP_ANSWER });
    expect(await a.next('answer')).toEqual({
      type: 'answer',
      callId,
      from: 'bob',
      name: 'bob',
      answer: SDP_ANSWER,
    });
    for (let i = 0; i < 5; i++) {
      a.send({ type: 'candidate', callId, candidate: candidate(i) });
      b.send({ type: 'candidate', callId, candidate: candidate(10 + i) });
    }
    a.send({ type: 'candidate', callId, candidate: null }); // end of candidates
    for (let i = 0; i < 5; i++) {
      expect((await b.next('candidate')).candidate).toEqual(candidate(i));
      expect((await a.next('candidate')).candidate).toEqual(candidate(10 + i));
    }
    expect((await b.next('candidate')).candidate).toBeNull();

    b.send({ type: 'hangup', callId, ref: 'bye' });
    expect(await a.next('leave')).toMatchObject({ callId, name: 'bob', reason: 'hangup' });
    expect(await b.next('leave')).toMatchObject({
      callId,
      name: 'alice',
      reason: 'hangup',
      ref: 'bye',
    });
    expect(t.server.ctx.engine.activeCalls).toBe(0);
    // Exactly one leave each; signals for the ended call are refused.
    a.send({ type: 'candidate', callId, candidate: candidate(99) });
    expect(await a.next('error')).toMatchObject({ code: 'not_in_call', callId });
    await nothingMore(a, 'leave');
    await nothingMore(b, 'leave', 'candidate');
  });

  it('decline: the caller gets declined', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    b.send({ type: 'decline', callId });
    expect(await a.next('leave')).toMatchObject({ callId, name: 'bob', reason: 'declined' });
    expect(await b.next('leave')).toMatchObject({ callId, name: 'alice', reason: 'declined' });
    expect(t.server.ctx.engine.activeCalls).toBe(0);
    await nothingMore(a, 'leave', 'accepted');
  });

  it('decline with reason busy: the caller gets busy', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    b.send({ type: 'decline', callId, reason: 'busy' });
    expect(await a.next('leave')).toMatchObject({ callId, reason: 'busy' });
    expect(await b.next('leave')).toMatchObject({ callId, reason: 'busy' });
  });

  it('only the callee declines, only the caller cancels, only the callee accepts (invalid_state)', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    a.send({ type: 'accept', callId });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_state', callId });
    a.send({ type: 'decline', callId });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_state', callId });
    b.send({ type: 'cancel', callId });
    expect(await b.next('error')).toMatchObject({ code: 'invalid_state', callId });
    // Still ringing: the callee can accept.
    b.send({ type: 'accept', callId });
    await a.next('accepted');
    await b.next('accepted');
    b.send({ type: 'accept', callId });
    expect(await b.next('error')).toMatchObject({ code: 'invalid_state', callId });
    a.send({ type: 'cancel', callId });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_state', callId });
    await nothingMore(a, 'leave');
    await nothingMore(b, 'leave');
  });

  it('caller cancel: the callee gets cancelled (missed)', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    a.send({ type: 'cancel', callId });
    expect(await b.next('leave')).toMatchObject({
      callId,
      name: 'alice',
      reason: 'cancelled',
      missed: true,
    });
    expect(await a.next('leave')).toMatchObject({ callId, reason: 'cancelled' });
    b.send({ type: 'accept', callId });
    expect(await b.next('error')).toMatchObject({ code: 'not_in_call', callId });
  });

  it('busy: a third person calling someone in a call gets busy, and nobody else hears of it', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const c = await nativeUser(t, 'carol');
    await connectedCall(a, b, 'bob');
    c.send({ type: 'call', to: 'bob', ref: 'x' });
    expect(await c.next('leave')).toMatchObject({ name: 'bob', reason: 'busy', ref: 'x' });
    c.send({ type: 'call', to: 'ALICE' });
    expect(await c.next('leave')).toMatchObject({ name: 'alice', reason: 'busy' });
    // A call that still rings is busy too.
    const d = await nativeUser(t, 'dave');
    const e = await nativeUser(t, 'erin');
    await ring(d, e, 'erin');
    c.send({ type: 'call', to: 'erin' });
    expect(await c.next('leave')).toMatchObject({ reason: 'busy' });
    for (const x of [a, b, e]) await nothingMore(x, 'incoming', 'leave');
    expect(t.server.ctx.engine.activeCalls).toBe(2);
  });

  it('ring timeout: caller no_answer, callee cancelled with missed:true', async () => {
    const t = await server(['--ring-timeout-ms', '300']);
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const started = Date.now();
    const callId = await ring(a, b, 'bob');
    expect(await a.next('leave')).toMatchObject({ callId, name: 'bob', reason: 'no_answer' });
    expect(await b.next('leave')).toMatchObject({
      callId,
      name: 'alice',
      reason: 'cancelled',
      missed: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(t.server.ctx.engine.activeCalls).toBe(0);
    b.send({ type: 'accept', callId });
    expect(await b.next('error')).toMatchObject({ code: 'not_in_call' });
  });

  it('an accepted call does not time out', async () => {
    const t = await server(['--ring-timeout-ms', '300']);
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await connectedCall(a, b, 'bob');
    await new Promise((r) => setTimeout(r, 500)); // outlive the ring timeout on purpose
    await nothingMore(a, 'leave');
    a.send({ type: 'candidate', callId, candidate: candidate(1) });
    await b.next('candidate');
  });

  it('callee disconnects while ringing: the caller is told disconnected', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    b.ws.terminate();
    expect(await a.next('leave')).toMatchObject({ callId, name: 'bob', reason: 'disconnected' });
    expect(t.server.ctx.engine.activeCalls).toBe(0);
  });

  it('caller disconnects while ringing: the callee is told disconnected (missed)', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    a.close();
    expect(await b.next('leave')).toMatchObject({
      callId,
      name: 'alice',
      reason: 'disconnected',
      missed: true,
    });
  });

  it('both hang up at once: one leave each, the call ends once', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await connectedCall(a, b, 'bob');
    a.send({ type: 'hangup', callId });
    b.send({ type: 'hangup', callId });
    expect(await a.next('leave')).toMatchObject({ callId, reason: 'hangup' });
    expect(await b.next('leave')).toMatchObject({ callId, reason: 'hangup' });
    await nothingMore(a, 'leave');
    await nothingMore(b, 'leave');
    // The later hang-up found no call; if it says so, it says not_in_call for that call.
    for (const e of [...a.pending('error'), ...b.pending('error')]) {
      expect(e).toMatchObject({ code: 'not_in_call', callId });
    }
    expect(t.server.ctx.stats.callsEnded.get('hangup')).toBe(1);
    expect(t.server.ctx.engine.activeCalls).toBe(0);
  });

  it('caller and callee disconnect in the same tick: the server ends up empty', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    await connectedCall(a, b, 'bob');
    a.ws.terminate();
    b.ws.terminate();
    await until(() => t.server.gateway.size === 0);
    expect(t.server.ctx.engine.activeCalls).toBe(0);
    expect(t.server.ctx.hub.size).toBe(0);
    expect(t.server.ctx.engine.roomCount).toBe(0);
    expect(t.server.ctx.stats.callsEnded.get('disconnected')).toBe(1);
    // Both names are free again.
    await nativeUser(t, 'alice');
    await nativeUser(t, 'bob');
  });

  it('the same, while ringing', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    await ring(a, b, 'bob');
    b.ws.terminate();
    a.ws.terminate();
    await until(() => t.server.gateway.size === 0);
    expect(t.server.ctx.engine.activeCalls).toBe(0);
    expect(t.server.ctx.hub.size).toBe(0);
  });
});

describe('a callee that must see the offer to ring (one2one)', () => {
  it('is rung when the offer arrives, and the caller is asked for it (sendOffer)', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const o = await one2oneUser(t, 'olga');
    a.send({ type: 'call', to: 'olga' });
    const ringing = await a.next('ringing');
    expect(ringing.sendOffer).toBe(true);
    a.send({ type: 'offer', callId: ringing.callId, offer: SDP_OFFER });
    expect(await o.next('incomingCall')).toMatchObject({ from: 'alice', offer: SDP_OFFER });
    o.send({
      id: 'incomingCallResponse',
      from: 'alice',
      callResponse: 'accept',
      sdpOffer: SDP_ANSWER,
    });
    expect(await a.next('accepted')).toMatchObject({ callId: ringing.callId, role: 'caller' });
    expect((await a.next('answer')).answer).toEqual(SDP_ANSWER);
  });

  it.each([
    ['the caller cancels', 'cancel'],
    ['the caller disconnects', 'drop'],
    ['the ring times out', 'timeout'],
  ])('hears nothing of a call it was never rung for when %s', async (_label, how) => {
    const t = await server(['--ring-timeout-ms', '300']);
    const a = await nativeUser(t, 'alice');
    const o = await one2oneUser(t, 'olga');
    a.send({ type: 'call', to: 'olga' });
    const ringing = await a.next('ringing');
    if (how === 'cancel') a.send({ type: 'cancel', callId: ringing.callId });
    if (how === 'drop') a.ws.terminate();
    if (how !== 'drop') await a.next('leave');
    await until(() => t.server.ctx.engine.activeCalls === 0);
    o.send({ id: 'ping' });
    await o.next('pong');
    // It never got incomingCall, so a stopCommunication would be about a call it never saw.
    expect(o.pending()).toEqual([]);
  });
});

describe('calls that cannot start', () => {
  it('hang-up for an unknown call: not_in_call', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    a.send({ type: 'hangup', callId: 'no-such-call', ref: 'h' });
    expect(await a.next('error')).toMatchObject({
      code: 'not_in_call',
      callId: 'no-such-call',
      ref: 'h',
    });
    a.send({ type: 'hangup' });
    expect(await a.next('error')).toMatchObject({ code: 'not_in_call' });
  });

  it('calling yourself: self_call (also in another case or width)', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    for (const me of ['alice', 'ALICE', 'ａｌｉｃｅ']) {
      a.send({ type: 'call', to: me });
      expect((await a.next('error')).code).toBe('self_call');
    }
    expect(t.server.ctx.engine.activeCalls).toBe(0);
  });

  it('an offline name and a never-seen name get the same reply: leave unavailable', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const gone = await nativeUser(t, 'bob');
    gone.close();
    await gone.closed;
    await until(() => t.server.ctx.hub.find('bob') === undefined);

    const strip = (m: Msg) => {
      const { callId, name, ...rest } = m;
      expect(typeof callId).toBe('string');
      return { rest, name };
    };
    a.send({ type: 'call', to: 'bob', ref: 'q' });
    const offline = strip(await a.next('leave'));
    a.send({ type: 'call', to: 'zoe', ref: 'q' });
    const unknown = strip(await a.next('leave'));
    expect(offline.rest).toEqual({ type: 'leave', reason: 'unavailable', ref: 'q' });
    expect(unknown.rest).toEqual(offline.rest);
    expect([offline.name, unknown.name]).toEqual(['bob', 'zoe']);
    // An invalid name is just as unavailable (no "that name cannot exist" probe either).
    a.send({ type: 'call', to: 'no/such name!', ref: 'q' });
    expect(strip(await a.next('leave')).rest).toEqual(offline.rest);
  });
});

describe('crossing calls and held signals', () => {
  it('a calls b and b calls a before either accepts: one call, both accepted', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    b.send({ type: 'call', to: 'alice', ref: 'back' });
    const ba = await b.next('accepted');
    const aa = await a.next('accepted');
    expect(ba).toMatchObject({ callId, role: 'callee', name: 'alice', ref: 'back' });
    expect(aa).toMatchObject({ callId, role: 'caller', name: 'bob' });
    expect(t.server.ctx.engine.activeCalls).toBe(1);
    await nothingMore(a, 'incoming', 'leave');
  });

  it('the same when both invites are in flight at once', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    a.send({ type: 'call', to: 'bob' });
    b.send({ type: 'call', to: 'Alice' });
    const aa = await a.next('accepted');
    const ba = await b.next('accepted');
    expect(aa.callId).toBe(ba.callId);
    expect([aa.role, ba.role].sort()).toEqual(['callee', 'caller']);
    expect(t.server.ctx.engine.activeCalls).toBe(1);
    await nothingMore(a, 'leave', 'error');
    await nothingMore(b, 'leave', 'error');
  });

  it('offers and candidates sent while ringing arrive in order on accept, never before', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    a.send({ type: 'offer', callId, offer: SDP_OFFER });
    for (let i = 0; i < 10; i++) a.send({ type: 'candidate', callId, candidate: candidate(i) });
    await a.settle();
    await nothingMore(b, 'offer', 'candidate');
    expect(a.pending('error')).toEqual([]);

    b.send({ type: 'accept', callId });
    const order: string[] = [];
    const accepted = await b.next('accepted');
    order.push(accepted.type!);
    const offer = await b.next('offer');
    order.push(offer.type!);
    expect(offer.offer).toEqual(SDP_OFFER);
    for (let i = 0; i < 10; i++)
      expect((await b.next('candidate')).candidate).toEqual(candidate(i));
    // Frame order on the wire: accepted first, then the offer, then the candidates in order.
    const types = b.raw
      .map((r) => (JSON.parse(r) as Msg).type)
      .filter((x) => x !== 'presence' && x !== 'pong');
    const from = types.indexOf('accepted');
    expect(types.slice(from, from + 12)).toEqual([
      'accepted',
      'offer',
      ...Array(10).fill('candidate'),
    ]);
  });

  it('held signals are dropped, not delivered, when the call is declined', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    a.send({ type: 'offer', callId, offer: SDP_OFFER });
    a.send({ type: 'candidate', callId, candidate: candidate(1) });
    await a.settle();
    b.send({ type: 'decline', callId });
    await a.next('leave');
    await nothingMore(b, 'offer', 'candidate');
  });

  it('refuses more than the held-signal limit with queue_full', async () => {
    const t = await server(['--held-max', '4']);
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    for (let i = 0; i < 5; i++) a.send({ type: 'candidate', callId, candidate: candidate(i) });
    expect(await a.next('error')).toMatchObject({ code: 'queue_full', callId });
    b.send({ type: 'accept', callId });
    for (let i = 0; i < 4; i++) expect((await b.next('candidate')).candidate).toEqual(candidate(i));
    await nothingMore(b, 'candidate');
  });

  it("a callee's answer (or candidate) while ringing: invalid_state, nothing relayed", async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    b.send({ type: 'answer', callId, answer: SDP_ANSWER });
    expect(await b.next('error')).toMatchObject({ code: 'invalid_state', callId });
    b.send({ type: 'candidate', callId, candidate: candidate(1) });
    expect(await b.next('error')).toMatchObject({ code: 'invalid_state', callId });
    a.send({ type: 'answer', callId, answer: SDP_ANSWER });
    expect(await a.next('error')).toMatchObject({ code: 'invalid_state', callId });
    await nothingMore(a, 'answer', 'candidate');
    // The call is still ringing and can be accepted.
    b.send({ type: 'accept', callId });
    await a.next('accepted');
  });
});

describe('presence and the online list', () => {
  it('pushes online, busy and offline to a native watcher', async () => {
    const t = await server();
    const w = await nativeUser(t, 'watcher');
    const a = await nativeUser(t, 'alice');
    expect(await w.next('presence')).toEqual({ type: 'presence', name: 'alice', status: 'online' });
    const b = await nativeUser(t, 'bob');
    expect(await w.next('presence')).toEqual({ type: 'presence', name: 'bob', status: 'online' });
    const callId = await ring(a, b, 'bob');
    const busy = [await w.next('presence'), await w.next('presence')];
    expect(busy).toEqual(
      expect.arrayContaining([
        { type: 'presence', name: 'alice', status: 'busy' },
        { type: 'presence', name: 'bob', status: 'busy' },
      ]),
    );
    b.send({ type: 'accept', callId });
    await a.next('accepted');
    a.send({ type: 'hangup', callId });
    const free = [await w.next('presence'), await w.next('presence')];
    expect(free).toEqual(
      expect.arrayContaining([
        { type: 'presence', name: 'alice', status: 'online' },
        { type: 'presence', name: 'bob', status: 'online' },
      ]),
    );
    a.close();
    expect(await w.next('presence')).toEqual({
      type: 'presence',
      name: 'alice',
      status: 'offline',
    });
    // The login reply lists who is online, with status.
    const late = await TestClient.open(t.url('/'));
    late.send({ type: 'login', name: 'late', protocol: 1 });
    const login = await late.next('login');
    expect(login.usersTotal).toBe(2);
    expect(login.users).toEqual(
      expect.arrayContaining([
        { name: 'watcher', status: 'online' },
        { name: 'bob', status: 'online' },
      ]),
    );
  });

  it('above the broadcast threshold, only watchers hear about a name', async () => {
    const t = await server(['--presence-broadcast-below', '0']);
    const w = await nativeUser(t, 'watcher');
    const other = await nativeUser(t, 'other');
    w.send({ type: 'watch', names: ['Alice'] });
    await w.settle();
    const a = await nativeUser(t, 'alice');
    await nativeUser(t, 'bob');
    expect(await w.next('presence')).toEqual({ type: 'presence', name: 'alice', status: 'online' });
    a.close();
    expect(await w.next('presence')).toEqual({
      type: 'presence',
      name: 'alice',
      status: 'offline',
    });
    await nothingMore(w, 'presence');
    await nothingMore(other, 'presence');
  });

  it('pages the online list with users{query, limit, cursor}', async () => {
    const t = await server();
    const names = ['Zed', 'ann', 'Anna', 'bob', 'bobby', 'carl', 'dan'];
    const clients = [];
    for (const n of names) clients.push(await nativeUser(t, n));
    const c = clients[0]!;
    const pages: Msg[] = [];
    let cursor: unknown;
    do {
      c.send({
        type: 'users',
        limit: 3,
        ...(cursor === undefined ? {} : { cursor }),
        ref: `p${pages.length}`,
      });
      const page = await c.next('users');
      pages.push(page);
      cursor = page.cursor;
    } while (cursor !== undefined && pages.length < 10);
    expect(pages.map((p) => (p.users as Msg[]).map((u) => u.name))).toEqual([
      ['ann', 'Anna', 'bob'],
      ['bobby', 'carl', 'dan'],
      ['Zed'],
    ]);
    expect(pages.every((p) => p.total === 7)).toBe(true);

    c.send({ type: 'users', query: 'AN' });
    const an = await c.next('users');
    expect(an).toMatchObject({
      total: 3,
      users: [{ name: 'ann' }, { name: 'Anna' }, { name: 'dan' }],
    });
    expect(an.cursor).toBeUndefined();

    c.send({ type: 'users', query: 'b', limit: 1 });
    const b1 = await c.next('users');
    expect(b1).toMatchObject({ total: 2, users: [{ name: 'bob', status: 'online' }] });
    c.send({ type: 'users', query: 'b', limit: 1, cursor: b1.cursor });
    const b2 = await c.next('users');
    expect(b2).toMatchObject({ total: 2, users: [{ name: 'bobby' }] });
    expect(b2.cursor).toBeUndefined();

    c.send({ type: 'users', query: 'nobody' });
    expect(await c.next('users')).toMatchObject({ total: 0, users: [] });
  });
});

describe('meet by link', () => {
  it('first joined, second -> both accepted, third room_full, hangup frees the room', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const c = await nativeUser(t, 'carol');
    a.send({ type: 'join', room: 'team-sync', ref: 'j1' });
    expect(await a.next('joined')).toEqual({ type: 'joined', room: 'team-sync', ref: 'j1' });
    b.send({ type: 'join', room: 'team-sync' });
    const aa = await a.next('accepted');
    const ba = await b.next('accepted');
    expect(aa).toMatchObject({ role: 'caller', name: 'bob' });
    expect(ba).toMatchObject({ role: 'callee', name: 'alice', callId: aa.callId });
    c.send({ type: 'join', room: 'team-sync', ref: 'j3' });
    expect(await c.next('error')).toMatchObject({ code: 'room_full', ref: 'j3' });

    // It is an ordinary call: signals relay.
    a.send({ type: 'offer', callId: aa.callId, offer: SDP_OFFER });
    expect((await b.next('offer')).offer).toEqual(SDP_OFFER);

    b.send({ type: 'hangup', callId: aa.callId });
    expect(await a.next('leave')).toMatchObject({ reason: 'hangup' });
    expect(await b.next('leave')).toMatchObject({ reason: 'hangup' });
    expect(t.server.ctx.engine.roomCount).toBe(0);
    c.send({ type: 'join', room: 'team-sync' });
    expect(await c.next('joined')).toMatchObject({ room: 'team-sync' });
    a.send({ type: 'join', room: 'team-sync' });
    expect(await c.next('accepted')).toMatchObject({ role: 'caller', name: 'alice' });
  });

  it('the one waiting can leave (hangup or disconnect), which frees the room', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    a.send({ type: 'join', room: 'r1' });
    await a.next('joined');
    a.send({ type: 'hangup' });
    await a.settle();
    expect(t.server.ctx.engine.roomCount).toBe(0);
    b.send({ type: 'join', room: 'r1' });
    expect(await b.next('joined')).toMatchObject({ room: 'r1' });
    b.ws.terminate();
    await until(() => t.server.ctx.engine.roomCount === 0);
    a.send({ type: 'join', room: 'r1' });
    expect(await a.next('joined')).toMatchObject({ room: 'r1' });
  });

  it('a party of a room call who disconnects frees the room for both', async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    a.send({ type: 'join', room: 'r2' });
    await a.next('joined');
    b.send({ type: 'join', room: 'r2' });
    await a.next('accepted');
    b.ws.terminate();
    expect(await a.next('leave')).toMatchObject({ reason: 'disconnected' });
    expect(t.server.ctx.engine.roomCount).toBe(0);
    // alice is free to call or join again.
    a.send({ type: 'join', room: 'r2' });
    expect(await a.next('joined')).toMatchObject({ room: 'r2' });
  });
});
