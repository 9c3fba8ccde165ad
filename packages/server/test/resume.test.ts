// A signaling drop must not end a call: a native client that asked to resume gets its session,
// its calls and everything sent to it meanwhile back, in order.
import { afterEach, describe, expect, it } from 'vitest';
import {
  TestClient,
  candidate,
  connectedCall,
  nativeUser,
  serverWrites,
  startServer,
  tutorialUser,
  type TestServer,
} from './support.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

async function resumable(server: TestServer, name: string): Promise<{ c: TestClient; token: string }> {
  const c = await TestClient.open(server.url('/'));
  c.send({ type: 'login', name, protocol: 1, resume: true });
  const reply = await c.next('login');
  expect(reply.success).toBe(true);
  expect(reply.resumeGraceMs).toBeGreaterThan(0);
  return { c, token: reply.resumeToken as string };
}

async function resumeWith(server: TestServer, name: string, token: string): Promise<{ c: TestClient; reply: Record<string, unknown> }> {
  const c = await TestClient.open(server.url('/'));
  c.send({ type: 'login', name, protocol: 1, resumeToken: token });
  return { c, reply: await c.next('login') };
}

describe('resume', () => {
  it('keeps the call through a dropped socket; the peer sees reconnecting; held messages arrive in order', async () => {
    ts = await startServer();
    const { c: a, token } = await resumable(ts, 'alice');
    const b = await nativeUser(ts, 'bob');
    const before = Date.now();
    const callId = await connectedCall(a, b, 'bob');
    const after = Date.now();

    a.ws.terminate();
    expect(await b.next('reconnecting')).toMatchObject({ callId, name: 'alice' });
    for (let i = 0; i < 5; i++) b.send({ type: 'candidate', callId, candidate: candidate(i) });
    await b.settle();
    expect(b.pending('leave', 'error')).toEqual([]); // the call goes on

    const { c: a2, reply } = await resumeWith(ts, 'alice', token);
    expect(reply).toMatchObject({ success: true, resumed: true });
    expect(reply.calls).toEqual([
      {
        callId,
        name: 'bob',
        role: 'caller',
        state: 'connected',
        media: { audio: true, video: true },
        answeredAt: expect.any(String),
      },
    ]);
    // The call's timer goes on from when bob answered, not from the resume.
    const answeredAt = Date.parse((reply.calls as Array<{ answeredAt: string }>)[0]!.answeredAt);
    expect(answeredAt).toBeGreaterThanOrEqual(before - 1);
    expect(answeredAt).toBeLessThanOrEqual(after + 1);
    expect(reply.resumeToken).not.toBe(token);
    for (let i = 0; i < 5; i++) expect((await a2.next('candidate')).candidate).toEqual(candidate(i));
    expect(await b.next('reconnected')).toMatchObject({ callId, name: 'alice' });

    // The resumed session is the same session: signaling and hang-up work both ways.
    a2.send({ type: 'candidate', callId, candidate: candidate(9) });
    expect((await b.next('candidate')).candidate).toEqual(candidate(9));
    b.send({ type: 'hangup', callId });
    expect((await a2.next('leave')).reason).toBe('hangup');
    expect(ts.server.ctx.engine.activeCalls).toBe(0);
  });

  it('delivers what was held in one write after the reply', async () => {
    ts = await startServer();
    const { c: a, token } = await resumable(ts, 'alice');
    const b = await nativeUser(ts, 'bob');
    const callId = await connectedCall(a, b, 'bob');
    a.ws.terminate();
    await b.next('reconnecting');
    for (let i = 0; i < 5; i++) b.send({ type: 'candidate', callId, candidate: candidate(i) });
    await b.settle();

    // Every write the server makes to the resuming client's socket, from the login on.
    const a2 = await TestClient.open(ts.url('/'));
    const writes = serverWrites(a2);
    try {
      a2.send({ type: 'login', name: 'alice', protocol: 1, resumeToken: token });
      expect(await a2.next('login')).toMatchObject({ success: true, resumed: true });
      for (let i = 0; i < 5; i++) expect((await a2.next('candidate')).candidate).toEqual(candidate(i));
    } finally {
      writes.stop();
    }
    // Two writes: the reply, then the five held candidates together (two chunks per frame).
    expect(writes.chunks).toEqual([2, 10]);
  });

  it('ends the call with disconnected on both sides when the grace period is over', async () => {
    ts = await startServer(['--resume-grace-ms', '300']);
    const { c: a, token } = await resumable(ts, 'alice');
    const b = await nativeUser(ts, 'bob');
    const callId = await connectedCall(a, b, 'bob');
    a.ws.terminate();
    await b.next('reconnecting');
    expect(await b.next('leave', 3000)).toMatchObject({ callId, reason: 'disconnected' });
    const { reply } = await resumeWith(ts, 'alice', token);
    expect(reply).toMatchObject({ success: false, code: 'resume_failed' });
    // The name is free again.
    const again = await nativeUser(ts, 'alice');
    again.close();
  });

  it('takes over a session whose old socket is still open, closing it with 4003; a token works once', async () => {
    ts = await startServer();
    const { c: a, token } = await resumable(ts, 'alice');
    const b = await nativeUser(ts, 'bob');
    const callId = await connectedCall(a, b, 'bob');
    const { c: a2, reply } = await resumeWith(ts, 'alice', token);
    expect(reply.resumed).toBe(true);
    expect(await a.closed).toBe(4003);
    b.send({ type: 'candidate', callId, candidate: candidate(1) });
    expect((await a2.next('candidate')).candidate).toEqual(candidate(1));
    const { reply: again } = await resumeWith(ts, 'alice', token);
    expect(again.code).toBe('resume_failed');
    expect(ts.server.gateway.size).toBe(3); // a2, b and the refused client; a is gone
  });

  it('refuses a token for another name, and gives no token to clients that did not ask', async () => {
    ts = await startServer();
    const { token } = await resumable(ts, 'alice');
    const { reply } = await resumeWith(ts, 'mallory', token);
    expect(reply.code).toBe('resume_failed');
    const plain = await TestClient.open(ts.url('/'));
    plain.send({ type: 'login', name: 'carol', protocol: 1 });
    expect((await plain.next('login')).resumeToken).toBeUndefined();
  });

  it('gives up a session that had more held for it than the bound', async () => {
    ts = await startServer(['--queue-max', '10']);
    const { c: a } = await resumable(ts, 'alice');
    const b = await nativeUser(ts, 'bob');
    const callId = await connectedCall(a, b, 'bob');
    a.ws.terminate();
    await b.next('reconnecting');
    for (let i = 0; i < 12; i++) b.send({ type: 'candidate', callId, candidate: candidate(i) });
    expect(await b.next('leave', 3000)).toMatchObject({ callId, reason: 'disconnected' });
  });

  it('does not apply to tutorial clients: their disconnect ends the call at once', async () => {
    ts = await startServer();
    const a = await tutorialUser(ts, 'alice');
    const b = await nativeUser(ts, 'bob');
    a.send({ type: 'offer', name: 'bob', offer: { type: 'offer', sdp: 'v=0' } });
    const incoming = await b.next('incoming');
    b.send({ type: 'accept', callId: incoming.callId });
    await b.next('accepted');
    a.ws.terminate();
    expect((await b.next('leave')).reason).toBe('disconnected');
  });
});
