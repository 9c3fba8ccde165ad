// Every state a native call goes through, as its two parties (and onlookers) see it.
import { describe, expect, it } from 'vitest';
import {
  SDP_ANSWER,
  SDP_OFFER,
  candidate,
  connectedCall,
  nativeUser,
  one2oneUser,
  serverWrites,
  type Msg,
  type TestServer,
} from './support.js';
import { nothingMore, ring, until, useServer } from './call-support.js';

const server = useServer();

/** alice rings bob, and sends her offer and `candidates` candidates while it rings. */
async function ringWithHeldSignals(t: TestServer, candidates: number) {
  const a = await nativeUser(t, 'alice');
  const b = await nativeUser(t, 'bob');
  const callId = await ring(a, b, 'bob');
  a.send({ type: 'offer', callId, offer: SDP_OFFER });
  for (let i = 0; i < candidates; i++)
    a.send({ type: 'candidate', callId, candidate: candidate(i) });
  await a.settle();
  return { a, b, callId };
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
    const { a, b, callId } = await ringWithHeldSignals(await server(), 10);
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

  it("on accept, the callee's `accepted` and what the caller sent while it rang arrive in one write", async () => {
    const { b, callId } = await ringWithHeldSignals(await server(), 3);
    // The writes the server makes to bob's socket (a corked burst is one).
    const writes = serverWrites(b);
    try {
      b.send({ type: 'accept', callId });
      expect(await b.next('accepted')).toMatchObject({ callId, role: 'callee' });
      expect((await b.next('offer')).offer).toEqual(SDP_OFFER);
      for (let i = 0; i < 3; i++)
        expect((await b.next('candidate')).candidate).toEqual(candidate(i));
    } finally {
      writes.stop();
    }
    expect(writes.chunks.length).toBe(1);
  });

  it("a ringing caller's restart (its page reloaded) drops what it queued; the callee gets only the new offer", async () => {
    const t = await server();
    const a = await nativeUser(t, 'alice');
    const b = await nativeUser(t, 'bob');
    const callId = await ring(a, b, 'bob');
    const stale = { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=stale\r\nt=0 0\r\n' };
    a.send({ type: 'offer', callId, offer: stale });
    a.send({ type: 'candidate', callId, candidate: candidate(1) });
    a.send({ type: 'restart', callId });
    a.send({ type: 'offer', callId, offer: SDP_OFFER });
    a.send({ type: 'candidate', callId, candidate: candidate(2) });
    await a.settle();
    expect(a.pending('error')).toEqual([]);
    // The callee's restart while ringing is still refused: it has no connection to restart.
    b.send({ type: 'restart', callId });
    expect(await b.next('error')).toMatchObject({ code: 'invalid_state', callId });
    await nothingMore(b, 'restart', 'offer');
    b.send({ type: 'accept', callId });
    expect((await b.next('offer')).offer).toEqual(SDP_OFFER);
    expect((await b.next('candidate')).candidate).toEqual(candidate(2));
    await nothingMore(b, 'offer', 'candidate', 'restart');
  });

  it('refuses more than the held-signal limit with queue_full', async () => {
    const t = await server(['--queue-max', '4']);
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
