// Guests meet by link without an account (--rooms guests|accounts|off), on raw sockets: what a
// guest may do, what it may not, and that its name never passes for an account's.
import { afterEach, describe, expect, it } from 'vitest';
import type { TestClient } from './support.js';
import { nativeUser, type Msg, type TestServer } from './support.js';
import {
  addAccount,
  attemptLogin,
  removeTempDirs,
  signIn,
  startWithData,
  tempDir,
  withSqlite,
} from './auth-support.js';
import { nothingMore } from './call-support.js';

const ALICE_PW = 'correct horse battery staple';

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  removeTempDirs();
});

/** A password server with the account "Alice", and `flags`. */
async function passwordServer(flags: string[] = []): Promise<TestServer> {
  const dataDir = tempDir();
  await withSqlite(dataDir, (store) => addAccount(store, 'Alice', ALICE_PW));
  const ts = await startWithData(['--auth', 'password', ...flags], dataDir);
  servers.push(ts);
  return ts;
}

async function openServer(flags: string[] = []): Promise<TestServer> {
  const ts = await startWithData(flags);
  servers.push(ts);
  return ts;
}

const guestLogin = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'login',
  name,
  guest: true,
  protocol: 1,
  ...extra,
});

async function guest(ts: TestServer, name: string): Promise<{ client: TestClient; reply: Msg }> {
  const r = await attemptLogin(ts, guestLogin(name, { resume: true }));
  if (r.reply.success !== true) throw new Error(`guest ${name}: ${JSON.stringify(r.reply)}`);
  return r;
}

describe('guests (--rooms guests, the default)', () => {
  it('a guest signs in without a password under --auth password, marked, seeing nobody and seen by nobody', async () => {
    const ts = await passwordServer();
    const { client: alice } = await signIn(ts, 'alice', ALICE_PW);
    const { client: gus, reply } = await guest(ts, 'Gus');
    expect(reply).toMatchObject({ success: true, name: 'Gus (guest)', users: [], usersTotal: 0 });
    // No API token, no resume token: a guest holds nothing that outlives the socket.
    expect(reply.sessionToken).toBeUndefined();
    expect(reply.resumeToken).toBeUndefined();

    // Nobody hears of the guest, and the online list does not have it.
    alice.send({ type: 'users', ref: 'u' });
    const page = await alice.next('users');
    expect(page).toMatchObject({ users: [{ name: 'Alice', status: 'online' }], total: 1 });
    await nothingMore(alice, 'presence');
    // Nor is it callable by its marked name or by the name it typed.
    alice.send({ type: 'call', to: 'Gus (guest)' });
    expect(await alice.next('leave')).toMatchObject({ reason: 'unavailable' });
    alice.send({ type: 'call', to: 'Gus' });
    expect(await alice.next('leave')).toMatchObject({ reason: 'unavailable' });
    await nothingMore(gus, 'incoming');
  });

  it('under --auth jwt a guest needs no token either', async () => {
    const ts = await openServer(['--auth', 'jwt', '--jwt-secret', 'x'.repeat(32)]);
    const { reply } = await guest(ts, 'Gus');
    expect(reply).toMatchObject({ success: true, name: 'Gus (guest)' });
    const plain = await attemptLogin(ts, { type: 'login', name: 'Gus', protocol: 1 });
    expect(plain.reply).toMatchObject({ success: false, code: 'invalid_credentials' });
  });

  it('a guest may not call, list, watch, or open a call with an offer: guest_forbidden, and nothing happens', async () => {
    const ts = await passwordServer();
    const { client: alice } = await signIn(ts, 'alice', ALICE_PW);
    const { client: gus } = await guest(ts, 'Gus');
    for (const msg of [
      { type: 'call', to: 'alice', ref: 'c' },
      { type: 'users', ref: 'u' },
      { type: 'watch', names: ['alice'], ref: 'w' },
      { type: 'offer', name: 'alice', offer: { type: 'offer', sdp: 'v=0\r\n' }, ref: 'o' },
    ]) {
      gus.send(msg);
      expect(await gus.next('error')).toMatchObject({ code: 'guest_forbidden', ref: msg.ref });
    }
    await nothingMore(alice, 'incoming', 'offer', 'presence');
    // The connection stays usable.
    gus.send({ type: 'ping', ref: 'p' });
    expect(await gus.next('pong')).toMatchObject({ ref: 'p' });
  });

  it('a guest and an account meet in a room; the account sees the marked name', async () => {
    const ts = await passwordServer();
    const { client: alice } = await signIn(ts, 'alice', ALICE_PW);
    const { client: gus } = await guest(ts, 'Gus');
    gus.send({ type: 'join', room: 'team-1' });
    await gus.next('joined');
    alice.send({ type: 'join', room: 'team-1' });
    const [forAlice, forGus] = await Promise.all([alice.next('accepted'), gus.next('accepted')]);
    expect(forAlice).toMatchObject({ name: 'Gus (guest)', role: 'callee' });
    expect(forGus).toMatchObject({ name: 'Alice', role: 'caller' });
    // Signalling within the room's call goes through, both ways.
    const callId = forGus.callId as string;
    gus.send({ type: 'offer', callId, offer: { type: 'offer', sdp: 'v=0\r\n' } });
    expect(await alice.next('offer')).toMatchObject({ callId, from: 'Gus (guest)' });
    gus.close();
    expect(await alice.next('leave')).toMatchObject({ callId, reason: 'disconnected' });
  });

  it('refuses a guest name that is, or looks like, an account or somebody signed in: name_reserved', async () => {
    const ts = await passwordServer();
    for (const name of ['Alice', 'ALICE', 'alıce', 'a1ice']) {
      const { reply } = await attemptLogin(ts, guestLogin(name));
      expect(reply, name).toMatchObject({ success: false, code: 'name_reserved' });
    }
    // Somebody signed in on an open server: the same.
    const open = await openServer();
    await nativeUser(open, 'Bob');
    const { reply } = await attemptLogin(open, guestLogin('B0b'));
    expect(reply).toMatchObject({ success: false, code: 'name_reserved' });
    // A name nobody has is fine, also twice (guests claim no name), and invalid names stay invalid.
    await guest(open, 'Carol');
    await guest(open, 'Carol');
    const bad = await attemptLogin(open, guestLogin('Carol (guest)'));
    expect(bad.reply).toMatchObject({ success: false, code: 'name_invalid' });
    // After a refusal the connection may sign in again.
    const retry = await attemptLogin(ts, guestLogin('Alice'));
    retry.client.send(guestLogin('Alicia'));
    expect(await retry.client.next('login')).toMatchObject({
      success: true,
      name: 'Alicia (guest)',
    });
  });

  it('an account cannot sign in under a guest marker, and a guest cannot sign in as the tutorial dialect', async () => {
    const open = await openServer();
    const marked = await attemptLogin(open, { type: 'login', name: 'Gus (guest)', protocol: 1 });
    expect(marked.reply).toMatchObject({ success: false, code: 'name_invalid' });
    const tutorial = await attemptLogin(open, { type: 'login', name: 'Gus', guest: true });
    expect(tutorial.reply).toMatchObject({ success: false, code: 'guests_disabled' });
  });
});

describe('--rooms accounts and --rooms off', () => {
  it('--rooms accounts: guests are refused (guests_disabled); accounts still meet by link', async () => {
    const ts = await passwordServer(['--rooms', 'accounts']);
    const { reply } = await attemptLogin(ts, guestLogin('Gus'));
    expect(reply).toMatchObject({ success: false, code: 'guests_disabled' });
    const { client: alice } = await signIn(ts, 'alice', ALICE_PW);
    alice.send({ type: 'join', room: 'r1' });
    await alice.next('joined');
  });

  it('--rooms off: every join is refused (rooms_disabled), and guests too', async () => {
    const ts = await openServer(['--rooms', 'off']);
    const a = await nativeUser(ts, 'ann');
    a.send({ type: 'join', room: 'r1', ref: 'j' });
    expect(await a.next('error')).toMatchObject({ code: 'rooms_disabled', ref: 'j' });
    await nothingMore(a, 'joined');
    const { reply } = await attemptLogin(ts, guestLogin('Gus'));
    expect(reply).toMatchObject({ success: false, code: 'guests_disabled' });
  });

  it('the public config tells a page which rule applies, and the flag reads its environment variable', async () => {
    const ts = await passwordServer();
    const port = new URL(ts.url()).port;
    const body = await (await fetch(`http://127.0.0.1:${port}/api/config`)).json();
    expect(body).toEqual({ auth: 'password', rooms: 'guests' });
    const { parseConfig } = await import('../src/config.js');
    expect(parseConfig([], { CALLWIRE_ROOMS: 'off' }).rooms).toBe('off');
    expect(parseConfig(['--rooms', 'accounts'], { CALLWIRE_ROOMS: 'off' }).rooms).toBe('accounts');
    expect(() => parseConfig(['--rooms', 'everyone'], {})).toThrow(
      /--rooms must be one of guests, accounts, off/,
    );
  });
});
