// Call waiting over real sockets: alice is in a call with bob when carol calls her. Her client
// said it takes call waiting, so the call rings as waiting; she declines (carol hears busy),
// holds bob and answers, or ends bob and answers. Clients that did not say so keep `busy`.
import { describe, expect, it } from 'vitest';
import { SDP_ANSWER, SDP_OFFER, TestClient, candidate, nativeUser, type TestServer } from './support.js';
import { nothingMore, useServer } from './call-support.js';

const start = useServer();

/** A native user whose client takes call waiting. */
async function waitingUser(ts: TestServer, name: string): Promise<TestClient> {
  const c = await TestClient.open(ts.url('/'));
  c.send({ type: 'login', name, protocol: 1, callWaiting: true, resume: true });
  const reply = await c.next('login');
  if (reply.success !== true) throw new Error(`login ${name} failed: ${JSON.stringify(reply)}`);
  return c;
}

/** alice (takes call waiting) in a connected call with bob, and carol calling alice. */
async function scene(ts: TestServer) {
  const alice = await waitingUser(ts, 'alice');
  const bob = await nativeUser(ts, 'bob');
  const carol = await nativeUser(ts, 'carol');
  bob.send({ type: 'call', to: 'alice' });
  const first = (await bob.next('ringing')).callId as string;
  const ring1 = await alice.next('incoming');
  expect(ring1).toMatchObject({ callId: first, from: 'bob' });
  expect(ring1.waiting).toBeUndefined(); // a free device rings as usual
  alice.send({ type: 'accept', callId: first });
  await alice.next('accepted');
  await bob.next('accepted');

  carol.send({ type: 'call', to: 'alice', offer: SDP_OFFER });
  const second = (await carol.next('ringing')).callId as string;
  expect(await alice.next('incoming')).toMatchObject({ callId: second, from: 'carol', waiting: true });
  return { alice, bob, carol, first, second };
}

describe('call waiting', () => {
  it('declining the waiting call tells the caller busy; the first call goes on untouched', async () => {
    const ts = await start();
    const { alice, bob, carol, first, second } = await scene(ts);
    alice.send({ type: 'decline', callId: second, reason: 'busy' });
    expect(await carol.next('leave')).toMatchObject({ callId: second, reason: 'busy' });
    expect(await alice.next('leave')).toMatchObject({ callId: second });
    // bob's call still relays both ways.
    bob.send({ type: 'candidate', callId: first, candidate: candidate(1) });
    expect((await alice.next('candidate')).candidate).toEqual(candidate(1));
    alice.send({ type: 'candidate', callId: first, candidate: candidate(2) });
    expect((await bob.next('candidate')).candidate).toEqual(candidate(2));
    await nothingMore(bob, 'leave', 'hold', 'error');
  });

  it('hold and answer: bob is held, carol is connected, and taking bob back works afterwards', async () => {
    const ts = await start();
    const { alice, bob, carol, first, second } = await scene(ts);

    // Answering without holding first is refused, and nothing changes.
    alice.send({ type: 'accept', callId: second, ref: 'too-soon' });
    expect(await alice.next('error')).toMatchObject({ code: 'invalid_state', ref: 'too-soon' });

    alice.send({ type: 'hold', callId: first, held: true });
    alice.send({ type: 'accept', callId: second, ref: 'take' });
    expect(await bob.next('hold')).toMatchObject({ callId: first, held: true });
    expect(await alice.next('accepted')).toMatchObject({ callId: second, name: 'carol', ref: 'take' });
    expect(await carol.next('accepted')).toMatchObject({ callId: second });
    // carol's offer, queued while it rang, reaches alice now.
    expect(await alice.next('offer')).toMatchObject({ callId: second, offer: SDP_OFFER });
    alice.send({ type: 'answer', callId: second, answer: SDP_ANSWER });
    expect(await carol.next('answer')).toMatchObject({ callId: second, answer: SDP_ANSWER });

    // Both calls relay, each to its own peer (the held one renegotiates its media pause).
    bob.send({ type: 'candidate', callId: first, candidate: candidate(3) });
    expect(await alice.next('candidate')).toMatchObject({ callId: first, candidate: candidate(3) });
    carol.send({ type: 'candidate', callId: second, candidate: candidate(4) });
    expect(await alice.next('candidate')).toMatchObject({ callId: second, candidate: candidate(4) });

    // A third caller now finds alice busy: one call waiting or held at a time.
    const dave = await nativeUser(ts, 'dave');
    dave.send({ type: 'call', to: 'alice' });
    expect(await dave.next('leave')).toMatchObject({ reason: 'busy' });

    // carol hangs up; bob's call is still there and alice takes it back.
    carol.send({ type: 'hangup', callId: second });
    expect(await alice.next('leave')).toMatchObject({ callId: second, reason: 'hangup' });
    alice.send({ type: 'hold', callId: first, held: false });
    expect(await bob.next('hold')).toMatchObject({ callId: first, held: false });
    alice.send({ type: 'hangup', callId: first });
    expect(await bob.next('leave')).toMatchObject({ callId: first, reason: 'hangup' });
    expect(ts.server.ctx.engine.activeCalls).toBe(0);
  });

  it('end and answer: bob hears hangup, carol is connected', async () => {
    const ts = await start();
    const { alice, bob, carol, first, second } = await scene(ts);
    alice.send({ type: 'hangup', callId: first });
    alice.send({ type: 'accept', callId: second });
    expect(await bob.next('leave')).toMatchObject({ callId: first, reason: 'hangup' });
    expect(await alice.next('accepted')).toMatchObject({ callId: second, name: 'carol' });
    expect(await carol.next('accepted')).toMatchObject({ callId: second });
    expect(ts.server.ctx.engine.activeCalls).toBe(1);
  });

  it('a waiting call that nobody answers times out like any other, as a missed call', async () => {
    const ts = await start(['--ring-timeout-ms', '300']);
    const { alice, bob, carol, first, second } = await scene(ts);
    expect(await carol.next('leave')).toMatchObject({ callId: second, reason: 'no_answer' });
    expect(await alice.next('leave')).toMatchObject({ callId: second, missed: true });
    bob.send({ type: 'candidate', callId: first, candidate: candidate(5) });
    expect((await alice.next('candidate')).candidate).toEqual(candidate(5));
  });

  it('a device that goes away ends both its calls', async () => {
    const ts = await start();
    const { alice, bob, carol, first, second } = await scene(ts);
    alice.send({ type: 'hold', callId: first, held: true });
    alice.send({ type: 'accept', callId: second });
    await alice.next('accepted');
    // A deliberate close ends the session at once (no resume).
    alice.ws.close(1000);
    expect(await bob.next('leave')).toMatchObject({ callId: first });
    expect(await carol.next('leave')).toMatchObject({ callId: second });
    expect(ts.server.ctx.engine.activeCalls).toBe(0);
  });

  it('a resumed session gets both its calls back', async () => {
    const ts = await start();
    const alice = await TestClient.open(ts.url('/'));
    alice.send({ type: 'login', name: 'alice', protocol: 1, callWaiting: true, resume: true });
    const token = (await alice.next('login')).resumeToken as string;
    const bob = await nativeUser(ts, 'bob');
    const carol = await nativeUser(ts, 'carol');
    bob.send({ type: 'call', to: 'alice' });
    const first = (await alice.next('incoming')).callId as string;
    alice.send({ type: 'accept', callId: first });
    await alice.next('accepted');
    carol.send({ type: 'call', to: 'alice' });
    const second = (await alice.next('incoming')).callId as string;

    alice.ws.terminate();
    await bob.next('reconnecting');
    await carol.next('reconnecting');
    const back = await TestClient.open(ts.url('/'));
    back.send({ type: 'login', name: 'alice', protocol: 1, callWaiting: true, resumeToken: token });
    const reply = await back.next('login');
    expect(reply.calls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ callId: first, name: 'bob', state: 'connected' }),
        expect.objectContaining({ callId: second, name: 'carol', state: 'ringing', role: 'callee' }),
      ]),
    );
    expect(reply.calls).toHaveLength(2);
  });

  it('a client that did not say it takes call waiting is busy, as before', async () => {
    const ts = await start();
    const alice = await nativeUser(ts, 'alice');
    const bob = await nativeUser(ts, 'bob');
    const carol = await nativeUser(ts, 'carol');
    bob.send({ type: 'call', to: 'alice' });
    const first = (await alice.next('incoming')).callId as string;
    alice.send({ type: 'accept', callId: first });
    await alice.next('accepted');
    carol.send({ type: 'call', to: 'alice' });
    expect(await carol.next('leave')).toMatchObject({ reason: 'busy' });
    await nothingMore(alice, 'incoming');
  });

  it('a call still ringing is not a call to wait behind: a second caller gets busy', async () => {
    const ts = await start();
    const alice = await waitingUser(ts, 'alice');
    const bob = await nativeUser(ts, 'bob');
    const carol = await nativeUser(ts, 'carol');
    bob.send({ type: 'call', to: 'alice' });
    await alice.next('incoming');
    carol.send({ type: 'call', to: 'alice' });
    expect(await carol.next('leave')).toMatchObject({ reason: 'busy' });
    await nothingMore(alice, 'incoming');
  });
});
