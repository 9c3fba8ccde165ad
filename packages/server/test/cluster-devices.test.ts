// One account on devices on different cluster nodes (jwt mode, so no store is needed): the
// devices count against --max-devices across the cluster, presence is per person, a call rings
// every device on every node and the first accept wins exactly once (also when two devices on
// two nodes accept in the same tick, property-tested), and a device's session resumes on
// another node and is handed over by a drained node, as a name is in open mode.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST, NodeProcess, deviceLogin, until } from './cluster-support.js';
import { RedisServer } from './store-redis-server.js';
import {
  SDP_ANSWER,
  TestClient,
  candidate,
  startServer,
  type Msg,
  type TestServer,
} from './support.js';

const SECRET = 'cluster-devices-secret-0123456789abcdef';
const AUTH = ['--auth', 'jwt', '--jwt-secret', SECRET, '--max-devices', '3'];
/** The race property places 150 calls from two callers, as fast as the nodes answer. */
const INVITES = ['--invites-per-minute', '100000', '--rate-per-second', '10000'];

const clients: TestClient[] = [];

interface Node {
  url(path?: string): string;
}

/** A native login as device `dev` of `name`; resolves with the client and the reply. */
async function attempt(node: Node, name: string, dev: string, resume = false) {
  const attempt = await deviceLogin(node, SECRET, name, dev, resume);
  clients.push(attempt.c);
  return attempt;
}

async function device(node: Node, name: string, dev: string, resume = false) {
  const { c, reply } = await attempt(node, name, dev, resume);
  if (reply.success !== true) throw new Error(`login ${name}/${dev}: ${JSON.stringify(reply)}`);
  return { c, reply };
}

async function statusOf(viewer: TestClient, name: string): Promise<string | undefined> {
  const ref = `u${Math.random()}`;
  viewer.send({ type: 'users', ref });
  const users = (await viewer.next((m) => m.type === 'users' && m.ref === ref)).users as Msg[];
  return users.find((u) => u.name === name)?.status as string | undefined;
}

afterAll(() => {
  for (const c of clients) c.close();
});

describe('devices of one account on two nodes (in-process nodes)', () => {
  let redis: RedisServer;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    redis = new RedisServer();
    await redis.start();
    [a, b] = await Promise.all([
      startServer(['--redis', redis.url, ...FAST, ...AUTH, ...INVITES]),
      startServer(['--redis', redis.url, ...FAST, ...AUTH, ...INVITES]),
    ]);
    await until(async () => {
      const r = await Promise.all(
        [a, b].map((n) => fetch(`http://127.0.0.1:${n.port}/readyz`).then((x) => x.status)),
      );
      return r.every((s) => s === 200);
    });
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.stop();
  });

  it('counts devices across nodes (--max-devices), and keeps the person online while any device is', async () => {
    const one = await device(a, 'dana', 'one');
    const two = await device(b, 'dana', 'two');
    const three = await device(a, 'dana', 'three');
    const fourth = await attempt(b, 'dana', 'four');
    expect(fourth.reply).toMatchObject({ success: false, code: 'too_many_devices' });
    // The same device signing in again takes its own place: not a fourth device.
    const again = await device(b, 'dana', 'two');
    expect(await two.c.closed).toBe(4003);
    const viewer = (await device(b, 'vic', 'v')).c;
    expect(await statusOf(viewer, 'dana')).toBe('online');
    // Her devices on node a leave: node a announced her offline by itself, and is corrected.
    one.c.close();
    three.c.close();
    await viewer.next((m) => m.type === 'presence' && m.name === 'dana' && m.status === 'online');
    expect(await statusOf(viewer, 'dana')).toBe('online');
    again.c.close();
    await viewer.next((m) => m.type === 'presence' && m.name === 'dana' && m.status === 'offline');
    await until(async () => (await statusOf(viewer, 'dana')) === undefined);
  });

  it('rings every device on every node; the first accept wins, the others hear answered_elsewhere', async () => {
    const laptop = (await device(a, 'alice', 'laptop')).c;
    const phone = (await device(b, 'alice', 'phone')).c;
    const tablet = (await device(b, 'alice', 'tablet')).c;
    const bob = (await device(a, 'bob', 'bob')).c;
    const carol = (await device(b, 'carol', 'carol')).c;
    bob.send({ type: 'call', to: 'alice' });
    const { callId } = await bob.next('ringing');
    for (const d of [laptop, phone, tablet])
      expect(await d.next('incoming')).toMatchObject({ callId, from: 'bob' });
    phone.send({ type: 'accept', callId });
    expect(await phone.next('accepted')).toMatchObject({ callId, role: 'callee' });
    expect(await bob.next('accepted')).toMatchObject({ callId, role: 'caller' });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'answered_elsewhere' });
    expect(await tablet.next('leave')).toMatchObject({ callId, reason: 'answered_elsewhere' });
    // Signalling flows between bob and the device that answered, on the other node.
    bob.send({ type: 'candidate', callId, candidate: candidate(1) });
    expect((await phone.next('candidate')).candidate).toEqual(candidate(1));
    phone.send({ type: 'answer', callId, answer: SDP_ANSWER });
    expect(await bob.next('answer')).toMatchObject({ answer: SDP_ANSWER });
    // Busy as a person, wherever asked.
    expect(await statusOf(carol, 'alice')).toBe('busy');
    // A device of alice that lost the race cannot take the call.
    laptop.send({ type: 'accept', callId, ref: 'late' });
    expect(await laptop.next('error')).toMatchObject({ code: 'not_in_call', ref: 'late' });
    bob.send({ type: 'hangup', callId });
    expect(await phone.next('leave')).toMatchObject({ callId, reason: 'hangup' });
    await until(async () => (await statusOf(carol, 'alice')) === 'online');
    for (const d of [laptop, tablet]) {
      await d.settle();
      expect(d.pending('accepted', 'leave')).toEqual([]);
    }
  });

  it('a decline on a device of one node declines for the caller and stops the devices on the other', async () => {
    const laptop = (await device(a, 'erin', 'laptop')).c;
    const phone = (await device(b, 'erin', 'phone')).c;
    const fay = (await device(b, 'fay', 'fay')).c;
    fay.send({ type: 'call', to: 'erin' });
    const { callId } = await fay.next('ringing');
    await laptop.next('incoming');
    await phone.next('incoming');
    laptop.send({ type: 'decline', callId });
    expect(await fay.next('leave')).toMatchObject({ callId, reason: 'declined' });
    expect(await phone.next('leave')).toMatchObject({ callId, reason: 'declined_elsewhere' });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'declined' });
  });

  it('is busy only when no device on any node can take the call', async () => {
    const one = (await device(a, 'gus', 'one')).c;
    const two = (await device(b, 'gus', 'two')).c;
    const hal = (await device(a, 'hal', 'hal')).c;
    const ivy = (await device(b, 'ivy', 'ivy')).c;
    const jo = (await device(a, 'jo', 'jo')).c;
    // One device in a call: the other still rings.
    hal.send({ type: 'call', to: 'gus' });
    const first = (await hal.next('ringing')).callId;
    await one.next('incoming');
    await two.next('incoming');
    two.send({ type: 'accept', callId: first });
    await hal.next('accepted');
    ivy.send({ type: 'call', to: 'gus' });
    const second = (await ivy.next('ringing')).callId;
    expect(await one.next('incoming')).toMatchObject({ callId: second });
    one.send({ type: 'accept', callId: second });
    await ivy.next('accepted');
    // Both in calls: busy.
    jo.send({ type: 'call', to: 'gus' });
    expect(await jo.next('leave')).toMatchObject({ reason: 'busy' });
  });

  it('lets exactly one of two devices on two nodes win when both accept in the same tick', async () => {
    const one = (await device(a, 'kim', 'one')).c;
    const two = (await device(b, 'kim', 'two')).c;
    const callers = [(await device(a, 'lee', 'lee')).c, (await device(b, 'max', 'max')).c];
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1 }), fc.boolean(), async (callerAt, twoFirst) => {
        runs++;
        const caller = callers[callerAt]!;
        caller.send({ type: 'call', to: 'kim' });
        const { callId } = await caller.next('ringing');
        await one.next('incoming');
        await two.next('incoming');
        const order = twoFirst ? [two, one] : [one, two];
        for (const d of order) d.send({ type: 'accept', callId, ref: `r${runs}` });
        await caller.next('accepted');
        const outcome = async (d: TestClient) => {
          const m = await d.next(
            (x) =>
              x.callId === callId &&
              (x.type === 'accepted' || (x.type === 'leave' && x.reason === 'answered_elsewhere')),
          );
          return m.type;
        };
        const results = await Promise.all([outcome(one), outcome(two)]);
        expect(results.filter((r) => r === 'accepted')).toHaveLength(1);
        expect(results.filter((r) => r === 'leave')).toHaveLength(1);
        const winner = results[0] === 'accepted' ? one : two;
        caller.send({ type: 'hangup', callId });
        await winner.next((m) => m.type === 'leave' && m.callId === callId);
        await caller.next((m) => m.type === 'leave' && m.callId === callId);
        for (const d of [one, two, caller]) {
          await d.settle();
          // Nothing else about this call: no second accept, and the loser's late accept
          // is refused (not_in_call) or, if it came first, was the winning one.
          const rest = d.pending().filter((m) => m.callId === callId);
          expect(rest.filter((m) => !(m.type === 'error' && m.code === 'not_in_call'))).toEqual([]);
          d.received.splice(0, d.received.length);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('lists, renames and signs out devices on the other node (/api/devices, devices pushes)', async () => {
    const laptop = await device(a, 'pia', 'laptop');
    const phone = (await device(b, 'pia', 'phone')).c;
    type Entry = { id: string; label: string; current: boolean };
    const ids = (m: Msg) => (m.devices as Entry[]).map((d) => d.label).sort();
    // The laptop hears of the phone signed in on the other node.
    await laptop.c.next((m) => m.type === 'devices' && ids(m).join() === 'laptop,phone');
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${a.port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${laptop.reply.sessionToken as string}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Msg) };
    };
    const listed = await api('GET', '/api/devices');
    expect(listed.status).toBe(200);
    expect((listed.body!.devices as Entry[]).map((d) => [d.label, d.current]).sort()).toEqual([
      ['laptop', true],
      ['phone', false],
    ]);
    const renamed = await api('PATCH', '/api/devices/phone-device-0001', { label: 'Pocket' });
    expect(renamed.status).toBe(200);
    expect(ids(renamed.body!)).toEqual(['Pocket', 'laptop']);
    await phone.next((m) => m.type === 'devices' && ids(m).join() === 'Pocket,laptop');
    expect((await api('DELETE', '/api/devices/phone-device-0001')).status).toBe(204);
    expect(await phone.closed).toBe(4002);
    await laptop.c.next((m) => m.type === 'devices' && ids(m).join() === 'laptop');
    expect((await api('DELETE', '/api/devices/phone-device-0001')).status).toBe(404);
  });

  it('resumes a device on the other node (its node alive) and its call goes on', async () => {
    const nora = await device(a, 'nora', 'laptop', true);
    const other = (await device(b, 'nora', 'phone')).c;
    const otto = (await device(b, 'otto', 'otto')).c;
    otto.send({ type: 'call', to: 'nora' });
    const { callId } = await otto.next('ringing');
    await nora.c.next('incoming');
    await other.next('incoming');
    nora.c.send({ type: 'accept', callId });
    await otto.next('accepted');
    const resumed = await TestClient.open(b.url('/'));
    clients.push(resumed);
    resumed.send({
      type: 'login',
      name: 'nora',
      protocol: 1,
      resumeToken: nora.reply.resumeToken,
    });
    const reply = await resumed.next('login', 10_000);
    expect(reply).toMatchObject({ success: true, resumed: true });
    expect(reply.calls).toEqual([expect.objectContaining({ callId, name: 'otto' })]);
    expect(await nora.c.closed).toBe(4003);
    otto.send({ type: 'candidate', callId, candidate: candidate(7) });
    expect((await resumed.next('candidate')).candidate).toEqual(candidate(7));
    resumed.send({ type: 'candidate', callId, candidate: candidate(8) });
    expect((await otto.next('candidate')).candidate).toEqual(candidate(8));
    // Still the same device: the other one is still signed in, nothing more was counted.
    expect(await statusOf(otto, 'nora')).toBe('busy');
    otto.send({ type: 'hangup', callId });
    expect(await resumed.next('leave')).toMatchObject({ callId, reason: 'hangup' });
  });
});

describe('a drained node hands over devices of accounts (node processes)', () => {
  let redis: RedisServer;
  let nodes: NodeProcess[] = [];

  beforeAll(async () => {
    redis = new RedisServer();
    await redis.start();
    nodes = await Promise.all([0, 1, 2].map(() => NodeProcess.start(redis.url, AUTH)));
    await Promise.all(nodes.map((n) => n.waitReady()));
  }, 30_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  });

  it('parks each device with its call; clients resume on other nodes and the calls go on', async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
    // alice has two devices: the one in the call is on the drained node.
    const alice = await device(a, 'alice', 'laptop', true);
    const alicePhone = (await device(c, 'alice', 'phone')).c;
    const bob = await device(c, 'bob', 'bob', true);
    bob.c.send({ type: 'call', to: 'alice' });
    const ab = (await bob.c.next('ringing')).callId as string;
    await alice.c.next('incoming');
    await alicePhone.next('incoming');
    alice.c.send({ type: 'accept', callId: ab });
    await bob.c.next('accepted');
    // A call homed on the drained node, its callee elsewhere.
    const dave = await device(a, 'dave', 'dave', true);
    const carol = await device(b, 'carol', 'carol', true);
    dave.c.send({ type: 'call', to: 'carol' });
    const dc = (await dave.c.next('ringing')).callId as string;
    await carol.c.next('incoming');
    carol.c.send({ type: 'accept', callId: dc });
    await dave.c.next('accepted');

    a.signal('SIGTERM');
    for (const u of [alice, dave]) {
      await u.c.next('reconnect');
      expect(await u.c.closed).toBe(1012);
    }
    expect(await bob.c.next('reconnecting')).toMatchObject({ callId: ab, name: 'alice' });
    expect(await carol.c.next('reconnecting')).toMatchObject({ callId: dc, name: 'dave' });
    bob.c.send({ type: 'candidate', callId: ab, candidate: candidate(1) });
    expect(await a.exited).toBe(0);

    const resume = async (node: NodeProcess, name: string, t: unknown) => {
      const r = await TestClient.open(node.url('/'));
      clients.push(r);
      r.send({ type: 'login', name, protocol: 1, resumeToken: t });
      return { r, reply: await r.next('login', 10_000) };
    };
    const alice2 = await resume(b, 'alice', alice.reply.resumeToken);
    expect(alice2.reply).toMatchObject({ success: true, resumed: true });
    expect(alice2.reply.calls).toEqual([expect.objectContaining({ callId: ab, name: 'bob' })]);
    expect((await alice2.r.next('candidate')).candidate).toEqual(candidate(1));
    expect(await bob.c.next('reconnected')).toMatchObject({ callId: ab, name: 'alice' });
    alice2.r.send({ type: 'candidate', callId: ab, candidate: candidate(2) });
    expect((await bob.c.next('candidate')).candidate).toEqual(candidate(2));

    const dave2 = await resume(c, 'dave', dave.reply.resumeToken);
    expect(dave2.reply).toMatchObject({ success: true, resumed: true });
    expect(await carol.c.next('reconnected')).toMatchObject({ callId: dc, name: 'dave' });
    carol.c.send({ type: 'candidate', callId: dc, candidate: candidate(3) });
    expect((await dave2.r.next('candidate')).candidate).toEqual(candidate(3));

    bob.c.send({ type: 'hangup', callId: ab });
    expect(await alice2.r.next('leave')).toMatchObject({ callId: ab, reason: 'hangup' });
    carol.c.send({ type: 'hangup', callId: dc });
    expect(await dave2.r.next('leave')).toMatchObject({ callId: dc, reason: 'hangup' });
    // alice's resumed device counts once: two devices, room for a third, not a fourth.
    await device(b, 'alice', 'tablet');
    expect((await attempt(c, 'alice', 'watch')).reply).toMatchObject({
      success: false,
      code: 'too_many_devices',
    });
  });
});
