// One account on several devices, over real sockets against a real SQLite store: what each
// device, the caller and the HTTP API see. (The browser suite drives the same with real media.)
import { afterEach, describe, expect, it } from 'vitest';
import { SDP_OFFER, TestClient, startServer, type Msg, type TestServer } from './support.js';
import {
  addAccount,
  attemptLogin,
  removeTempDirs,
  startWithData,
  tempDir,
  until,
  withSqlite,
  type AccountServer,
} from './auth-support.js';

const PW = { alice: 'alice-password-1', bob: 'bob-password-22', carol: 'carol-password-3' };

let ts: AccountServer | TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
  removeTempDirs();
});

async function accounts(extra: string[] = []): Promise<AccountServer> {
  const dataDir = tempDir();
  await withSqlite(dataDir, async (store) => {
    for (const [name, pw] of Object.entries(PW)) await addAccount(store, name, pw);
  });
  const server = await startWithData(['--auth', 'password', ...extra], dataDir);
  ts = server;
  return server;
}

const deviceId = (n: string) => `device-${n}-0123456789`;

/** A native login as one device (`device` undefined: a client that does not announce one). */
async function device(
  server: TestServer,
  name: keyof typeof PW,
  id: string | undefined,
  label?: string,
): Promise<{ c: TestClient; reply: Msg }> {
  const { client, reply } = await attemptLogin(server, {
    type: 'login',
    name,
    password: PW[name],
    protocol: 1,
    ...(id === undefined ? {} : { device: { id, ...(label === undefined ? {} : { label }) } }),
  });
  if (reply.success !== true) throw new Error(`login failed: ${JSON.stringify(reply)}`);
  return { c: client, reply };
}

type DeviceList = Array<{ id: string; label: string; current: boolean; call?: Msg }>;
const listOf = (m: Msg) => m.devices as DeviceList;

async function api(
  server: TestServer,
  method: string,
  path: string,
  token: string,
  body?: unknown,
) {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Msg) };
}

describe('an account on several devices', () => {
  it('rings every device; the first to accept wins, the others hear it was answered elsewhere', async () => {
    const server = await accounts();
    const phone = (await device(server, 'alice', deviceId('phone'), 'Phone')).c;
    const laptop = (await device(server, 'alice', deviceId('laptop'), 'Laptop')).c;
    const old = (await device(server, 'alice', undefined)).c; // announces no device
    const bob = (await device(server, 'bob', deviceId('bob'))).c;
    bob.send({ type: 'call', to: 'alice', offer: SDP_OFFER });
    const { callId } = await bob.next('ringing');
    for (const d of [phone, laptop, old])
      expect(await d.next('incoming')).toMatchObject({ callId });
    laptop.send({ type: 'accept', callId, ref: 'win' });
    phone.send({ type: 'accept', callId, ref: 'late' });
    expect(await laptop.next('accepted')).toMatchObject({ role: 'callee', ref: 'win' });
    expect(await laptop.next('offer')).toMatchObject({ callId, offer: SDP_OFFER });
    expect(await phone.next('leave')).toMatchObject({ callId, reason: 'answered_elsewhere' });
    expect(await phone.next('error')).toMatchObject({ code: 'not_in_call', ref: 'late' });
    // A client that never heard of devices is told the call stopped ringing.
    expect(await old.next('leave')).toMatchObject({ callId, reason: 'cancelled' });
    expect(await bob.next('accepted')).toMatchObject({ role: 'caller' });
    // Presence is per person: alice is busy, not online-and-busy.
    const carol = (await device(server, 'carol', deviceId('carol'))).c;
    carol.send({ type: 'users', ref: 'u' });
    const users = (await carol.next('users')).users as Msg[];
    expect(users.filter((u) => u.name === 'alice')).toEqual([{ name: 'alice', status: 'busy' }]);
    // The phone sees where the call is: on the laptop, with bob.
    const seen = await phone.next(
      (m) => m.type === 'devices' && listOf(m).some((d) => d.call !== undefined),
    );
    expect(listOf(seen).find((d) => d.id === deviceId('laptop'))).toMatchObject({
      label: 'Laptop',
      current: false,
      call: { callId, peer: 'bob', state: 'connected' },
    });
    expect(listOf(seen).find((d) => d.current)?.id).toBe(deviceId('phone'));
  });

  it('a decline on one device declines for the caller and stops the others', async () => {
    const server = await accounts();
    const phone = (await device(server, 'alice', deviceId('phone'))).c;
    const laptop = (await device(server, 'alice', deviceId('laptop'))).c;
    const bob = (await device(server, 'bob', deviceId('bob'))).c;
    bob.send({ type: 'call', to: 'alice' });
    const { callId } = await bob.next('ringing');
    await phone.next('incoming');
    await laptop.next('incoming');
    phone.send({ type: 'decline', callId });
    expect(await bob.next('leave')).toMatchObject({ callId, reason: 'declined' });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'declined_elsewhere' });
    expect(await phone.next('leave')).toMatchObject({ callId, reason: 'declined' });
  });

  it('does not ring a device in a call, and is busy only when none can take the call', async () => {
    const server = await accounts();
    const phone = (await device(server, 'alice', deviceId('phone'))).c;
    const laptop = (await device(server, 'alice', deviceId('laptop'))).c;
    const bob = (await device(server, 'bob', deviceId('bob'))).c;
    const carol = (await device(server, 'carol', deviceId('carol'))).c;
    bob.send({ type: 'call', to: 'alice' });
    const first = await phone.next('incoming');
    await laptop.next('incoming');
    phone.send({ type: 'accept', callId: first.callId });
    await laptop.next('leave');
    carol.send({ type: 'call', to: 'alice' });
    const second = await laptop.next('incoming');
    expect(second.from).toBe('carol');
    laptop.send({ type: 'decline', callId: second.callId, reason: 'busy' });
    expect(await carol.next('leave')).toMatchObject({ reason: 'busy' });
    await phone.settle();
    expect(phone.pending('incoming')).toEqual([]);
  });

  it("never rings the caller's own other devices; a call to yourself is self_call", async () => {
    const server = await accounts();
    const phone = (await device(server, 'alice', deviceId('phone'))).c;
    const laptop = (await device(server, 'alice', deviceId('laptop'))).c;
    phone.send({ type: 'call', to: 'alice', ref: 's' });
    expect(await phone.next('error')).toMatchObject({ code: 'self_call', ref: 's' });
    await laptop.settle();
    expect(laptop.pending('incoming')).toEqual([]);
  });

  it('refuses the device past --max-devices with too_many_devices; the same device id takes its own place', async () => {
    const server = await accounts(['--max-devices', '2']);
    const phone = (await device(server, 'alice', deviceId('phone'))).c;
    await device(server, 'alice', deviceId('laptop'));
    const { reply } = await attemptLogin(server, {
      type: 'login',
      name: 'alice',
      password: PW.alice,
      protocol: 1,
      device: { id: deviceId('tablet') },
    });
    expect(reply).toMatchObject({ success: false, code: 'too_many_devices' });
    // The phone's page signs in afresh (it lost its resume token): the old session gives way.
    const again = await device(server, 'alice', deviceId('phone'), 'Phone again');
    expect(again.reply.device).toEqual({ id: deviceId('phone'), label: 'Phone again' });
    expect(await phone.closed).toBe(4003);
  });

  it('keeps a name unique in open mode', async () => {
    ts = await startServer();
    const first = await attemptLogin(ts, {
      type: 'login',
      name: 'alice',
      protocol: 1,
      device: { id: deviceId('a') },
    });
    expect(first.reply.success).toBe(true);
    const second = await attemptLogin(ts, {
      type: 'login',
      name: 'alice',
      protocol: 1,
      device: { id: deviceId('b') },
    });
    expect(second.reply).toMatchObject({ success: false, code: 'name_taken' });
  });

  it('rejects bad device ids and labels at login with bad_message', async () => {
    const server = await accounts();
    const c = await TestClient.open(server.url('/'));
    for (const bad of [
      { id: 'short' },
      { id: '../../etc/passwd' },
      { id: deviceId('x'), label: 'x'.repeat(65) },
    ]) {
      c.send({
        type: 'login',
        name: 'alice',
        password: PW.alice,
        protocol: 1,
        device: bad,
        ref: 'l',
      });
      expect(await c.next('error')).toMatchObject({ code: 'bad_message', ref: 'l' });
    }
    c.close();
  });
});

describe('/api/devices', () => {
  it('lists, renames and signs out devices of the same account; others see nothing', async () => {
    const server = await accounts();
    const phone = await device(server, 'alice', deviceId('phone'), 'Phone');
    const laptop = await device(server, 'alice', deviceId('laptop'), 'Laptop');
    const bob = await device(server, 'bob', deviceId('bob'));
    const token = phone.reply.sessionToken as string;

    const listed = await api(server, 'GET', '/api/devices', token);
    expect(listed.status).toBe(200);
    expect(listOf(listed.body!).map((d) => [d.id, d.label, d.current])).toEqual([
      [deviceId('phone'), 'Phone', true],
      [deviceId('laptop'), 'Laptop', false],
    ]);

    const renamed = await api(server, 'PATCH', `/api/devices/${deviceId('laptop')}`, token, {
      label: '  Work\u0000 laptop ',
    });
    expect(renamed.status).toBe(200);
    expect(listOf(renamed.body!)[1]).toMatchObject({ label: 'Work laptop' });
    // The laptop hears its new name.
    await laptop.c.next(
      (m) => m.type === 'devices' && listOf(m).some((d) => d.current && d.label === 'Work laptop'),
    );

    // Bob can neither see nor touch alice's devices.
    const bobToken = bob.reply.sessionToken as string;
    expect(
      listOf((await api(server, 'GET', '/api/devices', bobToken)).body!).map((d) => d.id),
    ).toEqual([deviceId('bob')]);
    expect(
      (await api(server, 'DELETE', `/api/devices/${deviceId('laptop')}`, bobToken)).status,
    ).toBe(404);
    expect(
      (await api(server, 'PATCH', `/api/devices/${deviceId('laptop')}`, bobToken, { label: 'x' }))
        .status,
    ).toBe(404);
    expect((await api(server, 'DELETE', '/api/devices/a%20b', token)).status).toBe(400);
    expect((await api(server, 'GET', '/api/devices', 'not-a-token')).status).toBe(401);

    // Signing the laptop out ends its session, and its token no longer signs anyone in.
    const laptopToken = laptop.reply.sessionToken as string;
    expect((await api(server, 'DELETE', `/api/devices/${deviceId('laptop')}`, token)).status).toBe(
      204,
    );
    expect(await laptop.c.closed).toBe(4002);
    const retry = await attemptLogin(server, {
      type: 'login',
      name: 'alice',
      token: laptopToken,
      protocol: 1,
      device: { id: deviceId('laptop') },
    });
    expect(retry.reply).toMatchObject({ success: false, code: 'invalid_credentials' });
    expect((await api(server, 'GET', '/api/devices', laptopToken)).status).toBe(401);
    const after = await phone.c.next((m) => m.type === 'devices' && listOf(m).length === 1);
    expect(listOf(after)[0]).toMatchObject({ id: deviceId('phone'), current: true });
  });
});

describe('hold over real sockets', () => {
  it('tells the peer, and refuses hold of a call that is not connected or not yours', async () => {
    const server = await accounts();
    const alice = (await device(server, 'alice', deviceId('a'))).c;
    const bob = (await device(server, 'bob', deviceId('b'))).c;
    const carol = (await device(server, 'carol', deviceId('c'))).c;
    alice.send({ type: 'call', to: 'bob' });
    const { callId } = await alice.next('ringing');
    await bob.next('incoming');
    alice.send({ type: 'hold', callId, held: true, ref: 'early' });
    expect(await alice.next('error')).toMatchObject({ code: 'invalid_state', ref: 'early' });
    bob.send({ type: 'accept', callId });
    await alice.next('accepted');
    bob.send({ type: 'hold', callId, held: true });
    expect(await alice.next('hold')).toEqual({ type: 'hold', callId, name: 'bob', held: true });
    bob.send({ type: 'hold', callId, held: false });
    expect(await alice.next('hold')).toEqual({ type: 'hold', callId, name: 'bob', held: false });
    carol.send({ type: 'hold', callId, held: true, ref: 'x' });
    expect(await carol.next('error')).toMatchObject({ code: 'not_in_call', ref: 'x' });
  });
});

describe('moving a call between devices, and restarting media', () => {
  it('moves a connected call to another device of the same account; the peer is told to restart', async () => {
    const server = await accounts();
    const phone = (await device(server, 'alice', deviceId('phone'))).c;
    const laptop = (await device(server, 'alice', deviceId('laptop'))).c;
    const bob = (await device(server, 'bob', deviceId('bob'))).c;
    const carol = (await device(server, 'carol', deviceId('carol'))).c;
    bob.send({ type: 'call', to: 'alice' });
    const { callId } = await bob.next('ringing');
    laptop.send({ type: 'move', callId, ref: 'too-early' });
    await phone.next('incoming');
    phone.send({ type: 'accept', callId });
    await bob.next('accepted');
    await laptop.next('leave'); // answered elsewhere
    expect(await laptop.next('error')).toMatchObject({ code: 'invalid_state', ref: 'too-early' });
    carol.send({ type: 'move', callId, ref: 'not-mine' });
    expect(await carol.next('error')).toMatchObject({ code: 'not_in_call', ref: 'not-mine' });

    laptop.send({ type: 'move', callId, ref: 'm' });
    expect(await laptop.next('accepted')).toMatchObject({
      callId,
      name: 'bob',
      role: 'callee',
      ref: 'm',
    });
    expect(await phone.next('leave')).toMatchObject({ callId, reason: 'moved' });
    expect(await bob.next('restart')).toEqual({ type: 'restart', callId, name: 'alice' });
    // The call goes on between bob and the laptop, and only them.
    laptop.send({ type: 'offer', callId, offer: SDP_OFFER });
    expect(await bob.next('offer')).toMatchObject({ callId, from: 'alice' });
    phone.send({ type: 'hangup', callId, ref: 'old' });
    expect(await phone.next('error')).toMatchObject({ code: 'not_in_call', ref: 'old' });
    // A page that reloaded restarts its media; the peer hears it.
    bob.send({ type: 'restart', callId });
    expect(await laptop.next('restart')).toEqual({ type: 'restart', callId, name: 'bob' });
    bob.send({ type: 'hangup', callId });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'hangup' });
  });
});

describe("the caller's other devices", () => {
  it('hear that the call was answered, so they can offer to move it', async () => {
    const server = await accounts();
    const laptop = (await device(server, 'alice', deviceId('laptop'), 'Laptop')).c;
    const phone = (await device(server, 'alice', deviceId('phone'), 'Phone')).c;
    const bob = (await device(server, 'bob', deviceId('bob'))).c;
    laptop.send({ type: 'call', to: 'bob' });
    const { callId } = await laptop.next('ringing');
    await bob.next('incoming');
    bob.send({ type: 'accept', callId });
    await laptop.next('accepted');
    const seen = await phone.next(
      (m) => m.type === 'devices' && listOf(m).some((d) => d.call !== undefined),
    );
    expect(listOf(seen).find((d) => d.label === 'Laptop')?.call).toMatchObject({
      callId,
      peer: 'bob',
      state: 'connected',
    });
    phone.send({ type: 'move', callId, ref: 'm' });
    expect(await phone.next('accepted')).toMatchObject({ callId, role: 'caller', ref: 'm' });
    expect(await laptop.next('leave')).toMatchObject({ callId, reason: 'moved' });
    expect(await bob.next('restart')).toEqual({ type: 'restart', callId, name: 'alice' });
  });
});

describe('a device that resumes its session', () => {
  it('is sent the device list again, since a reloaded page has never seen it', async () => {
    const server = await accounts();
    const { client: laptop, reply } = await attemptLogin(server, {
      type: 'login',
      name: 'alice',
      password: PW.alice,
      protocol: 1,
      resume: true,
      device: { id: deviceId('laptop'), label: 'Laptop' },
    });
    expect(reply.success).toBe(true);
    const phone = (await device(server, 'alice', deviceId('phone'), 'Phone')).c;
    await phone.next('devices');
    // The list has not changed since the laptop last heard it; the page that follows it has not.
    expect(listOf(await laptop.next((m) => m.type === 'devices' && listOf(m).length === 2))).toHaveLength(2);
    laptop.ws.close(4000);
    await until(() => server.server.ctx.hub.devices('alice').some((s) => s.state === 'away'));
    const back = await attemptLogin(server, {
      type: 'login',
      name: 'alice',
      protocol: 1,
      resumeToken: reply.resumeToken,
    });
    expect(back.reply).toMatchObject({ success: true, resumed: true });
    const list = listOf(await back.client.next('devices'));
    expect(list.map((d) => [d.label, d.current]).sort()).toEqual([
      ['Laptop', true],
      ['Phone', false],
    ]);
  });
});
