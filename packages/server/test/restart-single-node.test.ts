// A single node restarted with SIGTERM (a rolling restart of a one-node deployment) ends no
// call: its clients resume on the new process, on the same port and data directory, and every
// message the old process accepted before the drain is delivered exactly once. Clients that
// cannot resume are told, in their own words, that their call ended, before their socket closes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient, candidate, connectedCall, type Msg } from './support.js';
import { ServerProcess } from './server-process.js';

const CALLS = 50;
const CANDIDATES = 40;

const procs: ServerProcess[] = [];
const clients: TestClient[] = [];
let dataDir = '';
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const p of procs.splice(0)) await p.stop();
  if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
  dataDir = '';
});

async function open(url: string): Promise<TestClient> {
  const c = new TestClient(url);
  clients.push(c);
  await c.opened;
  return c;
}

interface Person {
  readonly name: string;
  readonly peer: string;
  /** Its socket on the old process, then on the new one. */
  readonly sockets: TestClient[];
  token: string;
  callId: string;
}

const current = (p: Person) => p.sockets[p.sockets.length - 1]!;
/** The sequence numbers of the candidates a person received from its peer, on any socket. */
const receivedSeqs = (p: Person) =>
  p.sockets
    .flatMap((s) => s.received.filter((m) => m.type === 'candidate' && m.from === p.peer))
    .map((m) =>
      Number(/^candidate:(\d+) /.exec((m.candidate as { candidate: string }).candidate)![1]),
    );

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not reached in time: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('SIGTERM on a single node', () => {
  it(`keeps ${CALLS} calls up across a restart; everything accepted is delivered exactly once`, async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'callwire-restart-'));
    const first = await ServerProcess.start(['--data-dir', dataDir]);
    procs.push(first);

    // 50 native calls between clients that can resume.
    const people: Person[] = [];
    for (let i = 0; i < CALLS; i++) {
      for (const [name, peer] of [
        [`caller-${i}`, `callee-${i}`],
        [`callee-${i}`, `caller-${i}`],
      ] as const) {
        const c = await open(first.url('/'));
        c.send({ type: 'login', name, protocol: 1, resume: true });
        const reply = await c.next('login');
        expect(reply.success).toBe(true);
        people.push({ name, peer, sockets: [c], token: reply.resumeToken as string, callId: '' });
      }
    }
    for (let i = 0; i < CALLS; i++) {
      const [a, b] = [people[2 * i]!, people[2 * i + 1]!];
      a.callId = b.callId = await connectedCall(current(a), current(b), b.name);
    }
    // A call between tutorial clients, one between one2one clients, a PeerJS peer: they cannot
    // resume, and are told what they can understand.
    const tutA = await open(first.url('/'));
    const tutB = await open(first.url('/'));
    tutA.send({ type: 'login', name: 'tut-a' });
    tutB.send({ type: 'login', name: 'tut-b' });
    await tutA.next('login');
    await tutB.next('login');
    tutA.send({
      type: 'offer',
      name: 'tut-b',
      offer: { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n' },
    });
    await tutB.next('offer');
    const o2oA = await open(first.url('/call'));
    const o2oB = await open(first.url('/call'));
    o2oA.send({ id: 'register', name: 'o2o-a' });
    o2oB.send({ id: 'register', name: 'o2o-b' });
    await o2oA.next('registerResponse');
    await o2oB.next('registerResponse');
    o2oA.send({ id: 'call', to: 'o2o-b', sdpOffer: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n' });
    await o2oB.next('incomingCall');
    o2oB.send({
      id: 'incomingCallResponse',
      from: 'o2o-a',
      callResponse: 'accept',
      sdpOffer: 'v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\n',
    });
    await o2oA.next('callResponse');
    const pj = await open(first.url('/peerjs?key=peerjs&id=pj-1&token=t1'));
    await pj.next('OPEN');
    // A call still ringing is not kept: both of its (resumable) parties are told it ended.
    const ringers: TestClient[] = [];
    for (const name of ['ring-a', 'ring-b']) {
      const c = await open(first.url('/'));
      c.send({ type: 'login', name, protocol: 1, resume: true });
      await c.next('login');
      ringers.push(c);
    }
    ringers[0]!.send({ type: 'call', to: 'ring-b' });
    await ringers[0]!.next('ringing');
    await ringers[1]!.next('incoming');

    // Everybody signals at once, and goes on while the node is told to stop: frames arrive
    // before, during and after the start of the drain. A frame counts as sent when the client's
    // socket was still open (a client stops sending once it has the server's close frame).
    const sent = new Map<Person, number[]>(people.map((p) => [p, []]));
    const signal = (p: Person, k: number) => {
      const ws = current(p).ws;
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify({ type: 'candidate', callId: p.callId, candidate: candidate(k) }));
      sent.get(p)!.push(k);
    };
    for (let k = 0; k < CANDIDATES / 2; k++) for (const p of people) signal(p, k);
    first.signal('SIGTERM');
    for (let k = CANDIDATES / 2; k < CANDIDATES; k += 4) {
      await new Promise((r) => setTimeout(r, 2));
      for (let j = k; j < k + 4; j++) for (const p of people) signal(p, j);
    }

    for (const p of people) {
      expect(await current(p).closed).toBe(1012);
      expect(current(p).received.some((m) => m.type === 'reconnect')).toBe(true);
    }
    for (const c of [tutA, tutB]) {
      expect(await c.closed).toBe(1012);
      expect(c.received.filter((m) => m.type === 'leave')).toHaveLength(1);
    }
    for (const c of [o2oA, o2oB]) {
      expect(await c.closed).toBe(1012);
      expect(c.received.filter((m) => m.id === 'stopCommunication')).toHaveLength(1);
    }
    expect(await pj.closed).toBe(1012);
    for (const c of ringers) {
      expect(await c.closed).toBe(1012);
      expect(c.received.filter((m) => m.type === 'leave')).toHaveLength(1);
    }
    expect(await first.exited).toMatchObject({ code: 0 });
    const kept = first.logs.find((l) => l.msg === 'drain: sessions kept for the restart');
    expect(kept).toMatchObject({ sessions: 2 * CALLS + 2, calls: CALLS });

    // The new process, same port, same data directory.
    const second = await ServerProcess.start(['--data-dir', dataDir, '--port', String(first.port)]);
    procs.push(second);
    expect(second.port).toBe(first.port);
    expect(
      second.logs.find((l) => l.msg === 'restart: sessions taken back, waiting for their clients'),
    ).toMatchObject({
      sessions: 2 * CALLS + 2,
      calls: CALLS,
    });
    for (const p of people) {
      const c = await open(second.url('/'));
      p.sockets.push(c);
      c.send({ type: 'login', name: p.name, protocol: 1, resumeToken: p.token });
      const reply = await c.next('login');
      expect(reply).toMatchObject({ success: true, resumed: true });
      expect(reply.calls).toMatchObject([{ callId: p.callId, name: p.peer, state: 'connected' }]);
      p.token = reply.resumeToken as string;
    }
    // Every candidate the old process accepted arrives, on one socket or the other, once.
    const byName = new Map(people.map((p) => [p.name, p]));
    const sentBy = (name: string) => sent.get(byName.get(name)!)!;
    await until(
      () => people.every((p) => receivedSeqs(p).length >= sentBy(p.peer).length),
      30_000,
      'all candidates delivered',
    );
    for (const p of people) await current(p).settle();
    for (const p of people) {
      expect({ name: p.name, seqs: receivedSeqs(p) }).toEqual({
        name: p.name,
        seqs: sentBy(p.peer),
      });
    }
    const total = people.reduce((n, p) => n + sent.get(p)!.length, 0);
    const afterRestart = people.reduce(
      (n, p) => n + p.sockets[1]!.received.filter((m) => m.type === 'candidate').length,
      0,
    );
    console.log(
      `restart: ${total} candidates sent around the SIGTERM; ${afterRestart} of them reached ` +
        `their peer only after the restart, from what the drain kept; none lost, none twice`,
    );
    expect(total).toBeGreaterThanOrEqual(people.length * (CANDIDATES / 2));

    // Every call is still up: it relays both ways, and nobody was told it ended.
    for (const p of people)
      current(p).send({ type: 'candidate', callId: p.callId, candidate: candidate(1000) });
    for (const p of people) {
      const got = await current(p).next(
        (m: Msg) =>
          m.type === 'candidate' &&
          (m.candidate as { candidate: string }).candidate.startsWith('candidate:1000 '),
      );
      expect(got).toMatchObject({ callId: p.callId, from: p.peer });
    }
    for (const p of people) {
      for (const s of p.sockets)
        expect(s.received.filter((m) => m.type === 'leave' || m.type === 'error')).toEqual([]);
    }
  }, 120_000);
});
