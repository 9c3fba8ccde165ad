// Presence, the online list and meet-by-link rooms, as users and onlookers see them.
import { describe, expect, it } from 'vitest';
import { SDP_OFFER, TestClient, nativeUser, type Msg } from './support.js';
import { nothingMore, ring, until, useServer } from './call-support.js';

const server = useServer();

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

  it('the login reply lists the first 100 people as they are now, never the newcomer itself', async () => {
    const t = await server();
    let n = 2;
    const login = async (name: string) => {
      const c = await TestClient.open(t.url('/'));
      c.send({ type: 'login', name, protocol: 1 });
      const reply = await c.next('login');
      c.close();
      return reply.users as Msg[];
    };
    const names = Array.from({ length: 101 }, (_, i) => `u${String(i).padStart(3, '0')}`);
    // Fewer than 100 online: everyone but the one signing in, and nobody twice.
    const first = [await nativeUser(t, names[0]!), await nativeUser(t, names[1]!)];
    expect(await login('early')).toEqual([
      { name: 'u000', status: 'online' },
      { name: 'u001', status: 'online' },
    ]);
    const online = [...first];
    for (const n of names.slice(2)) online.push(await nativeUser(t, n));
    const page = await login('late1');
    expect(page.map((u) => u.name)).toEqual(names.slice(0, 100));
    expect(page.every((u) => u.status === 'online')).toBe(true);

    // Two of them start a call: the next login sees them busy.
    await ring(online[0]!, online[1]!, 'u001');
    const busy = await login('late2');
    expect(busy.slice(0, 3)).toEqual([
      { name: 'u000', status: 'busy' },
      { name: 'u001', status: 'busy' },
      { name: 'u002', status: 'online' },
    ]);

    // One signs out: gone from the list, and the 101st moves up.
    online[2]!.close();
    await expect
      .poll(async () => (await login(`late${++n}`)).map((u) => u.name))
      .toEqual(names.filter((x) => x !== 'u002'));
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
