// Presence is gathered per tick and sent as one frame per recipient to clients that ask for
// batches (`presenceBatch: true`, as the SDK does); older clients keep one `presence` frame per
// change. A long tick (--presence-tick-ms) makes "within one tick" certain on a busy machine.
import { describe, expect, it } from 'vitest';
import { TestClient, type Msg, type TestServer } from './support.js';
import { nothingMore, useServer } from './call-support.js';
import { PRESENCE_LOOP_SHARE, PRESENCE_TICK_MAX_MS, tickDelayMs } from '../src/presence-fanout.js';

const server = useServer();
const TICK = ['--presence-tick-ms', '600'];

async function login(
  t: TestServer,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ c: TestClient; reply: Msg }> {
  const c = await TestClient.open(t.url('/'));
  c.send({ type: 'login', name, protocol: 1, ...extra });
  const reply = await c.next('login');
  expect(reply.success, JSON.stringify(reply)).toBe(true);
  return { c, reply };
}

/** N users log in at once (sockets opened first, then every login sent in the same tick). */
async function burst(t: TestServer, names: string[]): Promise<TestClient[]> {
  const clients = await Promise.all(names.map(() => TestClient.open(t.url('/'))));
  clients.forEach((c, i) => c.send({ type: 'login', name: names[i], protocol: 1 }));
  await Promise.all(clients.map((c) => c.next('login')));
  return clients;
}

/** How many presence frames (either kind) `c` received that name any of `names`. */
const framesAbout = (c: TestClient, names: string[]) =>
  c.raw.filter(
    (text) => /"type":"presences?"/.test(text) && names.some((n) => text.includes(`"name":"${n}"`)),
  ).length;

describe('presence batches', () => {
  it('a batching client gets one `presences` frame for N changes in a tick; an old client gets N `presence` frames', async () => {
    const t = await server(TICK);
    const { c: batching } = await login(t, 'batching', { presenceBatch: true });
    const { c: old } = await login(t, 'old');
    expect((await batching.next('presences')).users).toEqual([{ name: 'old', status: 'online' }]);
    const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
    await burst(t, names);

    const batch = await batching.next('presences');
    expect(batch.users).toEqual(names.map((name) => ({ name, status: 'online' })));
    const single: Msg[] = [];
    for (const _ of names) {
      // ('batching' may have come online in the same tick as 'old': that frame is not counted.)
      single.push(await old.next((m) => m.type === 'presence' && m.name !== 'batching'));
    }
    expect(single).toEqual(names.map((name) => ({ type: 'presence', name, status: 'online' })));
    await batching.settle();
    await old.settle();
    expect(framesAbout(batching, names)).toBe(1);
    expect(framesAbout(old, names)).toBe(names.length);
    expect(batching.pending('presence')).toEqual([]);
    expect(old.pending('presences')).toEqual([]);
  });

  it('keeps the latest status per name and leaves a recipient out of its own change', async () => {
    const t = await server(TICK);
    const { c: a } = await login(t, 'alice', { presenceBatch: true });
    const { c: b } = await login(t, 'bob', { presenceBatch: true });
    await a.next('presences'); // bob online
    // Bob goes busy and back within one tick (a call rung and cancelled): alice hears one
    // status for him, the latest; bob hears about alice only, never about himself.
    b.send({ type: 'call', to: 'alice' });
    const ringing = await b.next('ringing');
    await a.next('incoming');
    b.send({ type: 'cancel', callId: ringing.callId });
    await b.next('leave');
    const heard = await a.next('presences');
    expect(heard.users).toEqual([{ name: 'bob', status: 'online' }]);
    const bobHeard = await b.next('presences');
    expect(bobHeard.users).toEqual([{ name: 'alice', status: 'online' }]);
    await nothingMore(a, 'presences', 'presence');
  });

  it('in a burst of logins, each newcomer hears every other change of the tick, in order, and never its own', async () => {
    const t = await server(TICK);
    const names = ['b1', 'b2', 'b3', 'b4', 'b5'];
    const clients = await Promise.all(names.map(() => TestClient.open(t.url('/'))));
    clients.forEach((c, i) =>
      c.send({ type: 'login', name: names[i], protocol: 1, presenceBatch: true }),
    );
    await Promise.all(clients.map((c) => c.next('login')));
    const online = (list: string[]) => list.map((name) => ({ name, status: 'online' }));
    for (const [i, c] of clients.entries()) {
      const heard = await c.next('presences');
      expect(heard.users, names[i]).toEqual(online(names.filter((_, j) => j !== i)));
      await nothingMore(c, 'presences', 'presence');
    }
  });

  it('a resumed session keeps batching when its resume login asks for it, and stops when it does not', async () => {
    const t = await server([...TICK, '--resume-grace-ms', '10000']);
    const { c: w, reply } = await login(t, 'watcher', { presenceBatch: true, resume: true });
    w.ws.terminate();
    await w.closed;
    const again = await TestClient.open(t.url('/'));
    again.send({
      type: 'login',
      name: 'watcher',
      protocol: 1,
      resumeToken: reply.resumeToken,
      presenceBatch: true,
    });
    const resumed = await again.next('login');
    expect(resumed).toMatchObject({ success: true, resumed: true });
    await burst(t, ['p1', 'p2']);
    expect((await again.next('presences')).users).toEqual([
      { name: 'p1', status: 'online' },
      { name: 'p2', status: 'online' },
    ]);

    // The next resume comes from an older page that does not batch: one frame per change.
    again.ws.terminate();
    await again.closed;
    const older = await TestClient.open(t.url('/'));
    older.send({ type: 'login', name: 'watcher', protocol: 1, resumeToken: resumed.resumeToken });
    expect(await older.next('login')).toMatchObject({ success: true, resumed: true });
    await burst(t, ['p3', 'p4']);
    expect(await older.next('presence')).toEqual({
      type: 'presence',
      name: 'p3',
      status: 'online',
    });
    expect(await older.next('presence')).toEqual({
      type: 'presence',
      name: 'p4',
      status: 'online',
    });
    await older.settle();
    expect(older.pending('presences')).toEqual([]);
  });
});

describe('presence tick pacing', () => {
  it('keeps the configured tick while ticks are cheap, and stretches it to keep presence to its share of the loop', () => {
    expect(tickDelayMs(25, 0)).toBe(25);
    expect(tickDelayMs(25, 1)).toBe(25); // 1 ms of writes: 5% of 20 ms, under the tick
    expect(tickDelayMs(25, 5)).toBe(Math.ceil(5 / PRESENCE_LOOP_SHARE)); // 100 ms
    expect(tickDelayMs(25, 60)).toBe(PRESENCE_TICK_MAX_MS);
    expect(tickDelayMs(1000, 60)).toBe(1000); // a longer configured tick is never shortened
  });
});
