// The PeerJS dialect over raw sockets: a real server on port 0, real `ws` clients speaking the
// frames the `peerjs` browser client sends, and the bad input it never sends.
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config.js';
import { TestClient, startServer, type Msg, type TestServer } from './support.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
  ts = undefined;
});

async function start(flags: string[] = []): Promise<TestServer> {
  ts = await startServer(flags);
  return ts;
}

const peerUrl = (s: TestServer, id: string, token: string, key = 'peerjs', path = '/') =>
  s.url(
    `${path}peerjs?key=${encodeURIComponent(key)}&id=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}&version=1.5.5`,
  );

/** A peer whose socket is open and that has heard OPEN. */
async function peer(s: TestServer, id: string, token = `t-${id}`): Promise<TestClient> {
  const c = await TestClient.open(peerUrl(s, id, token));
  await c.next('OPEN');
  return c;
}

const offer = (dst: string, connectionId = 'dc_1', extra: Record<string, unknown> = {}) => ({
  type: 'OFFER',
  dst,
  payload: {
    sdp: { type: 'offer', sdp: 'v=0\r\n' },
    type: 'data',
    connectionId,
    serialization: 'binary',
    reliable: true,
  },
  ...extra,
});

/** Everything the server sent so far has arrived: relay a candidate to ourselves and wait for it. */
async function settle(c: TestClient, id: string): Promise<void> {
  const connectionId = `settle-${Math.random()}`;
  c.send({ type: 'CANDIDATE', dst: id, payload: { connectionId, candidate: {} } });
  await c.next(
    (m) =>
      m.type === 'CANDIDATE' &&
      (m.payload as { connectionId?: string }).connectionId === connectionId,
  );
}

const codeOf = (m: Msg) => (m.payload as { code?: string }).code;

describe('PeerJS dialect: signing in', () => {
  it('opens a chosen id and relays between two peers with src stamped by the server', async () => {
    const s = await start();
    const alice = await peer(s, 'alice');
    const bob = await peer(s, 'bob');
    alice.send(offer('bob', 'dc_1', { src: 'carol', evil: true }));
    const got = await bob.next('OFFER');
    expect(got).toEqual({ ...offer('bob'), src: 'alice' });
    bob.send({
      type: 'ANSWER',
      dst: 'alice',
      src: 'mallory',
      payload: { connectionId: 'dc_1', sdp: { type: 'answer', sdp: 'v=0\r\n' } },
    });
    expect(await alice.next('ANSWER')).toMatchObject({ src: 'bob', dst: 'alice' });
    alice.send({
      type: 'CANDIDATE',
      dst: 'bob',
      payload: { connectionId: 'dc_1', candidate: { candidate: 'c' } },
    });
    expect(await bob.next('CANDIDATE')).toMatchObject({
      src: 'alice',
      payload: { connectionId: 'dc_1' },
    });
    // A LEAVE reaches its peer; a HEARTBEAT is accepted and never answered.
    alice.send({ type: 'HEARTBEAT' });
    alice.send({ type: 'LEAVE', dst: 'bob' });
    expect(await bob.next('LEAVE')).toMatchObject({ src: 'alice', dst: 'bob' });
    await settle(alice, 'alice');
    expect(alice.pending('ERROR')).toEqual([]);
  });

  it('refuses an id in use under another token (ID-TAKEN) and leaves its owner alone', async () => {
    const s = await start();
    const alice = await peer(s, 'alice', 'secret-1');
    const thief = new TestClient(peerUrl(s, 'alice', 'guess'));
    expect(codeOf(await thief.next('ID-TAKEN'))).toBe('name_taken');
    await thief.closed;
    const bob = await peer(s, 'bob');
    bob.send(offer('alice'));
    expect(await alice.next('OFFER')).toMatchObject({ src: 'bob' });
  });

  it('treats ids as case-sensitive, as PeerJS does', async () => {
    const s = await start();
    await peer(s, 'Alice');
    await peer(s, 'alice');
  });

  it('refuses a wrong key (INVALID-KEY) and a missing id, token or key (ERROR)', async () => {
    const s = await start();
    const wrong = new TestClient(peerUrl(s, 'alice', 't', 'nope'));
    expect(codeOf(await wrong.next('INVALID-KEY'))).toBe('invalid_credentials');
    await wrong.closed;
    for (const query of [
      'key=peerjs&id=alice',
      'key=peerjs&token=t',
      'id=alice&token=t',
      'key=peerjs&id=&token=t',
    ]) {
      const c = new TestClient(s.url(`/peerjs?${query}`));
      expect(codeOf(await c.next('ERROR'))).toBe('bad_message');
      await c.closed;
    }
    // None of them took the id.
    await peer(s, 'alice');
  });

  it('lets the same id and token take the id over (the old socket is closed 4003) and reconnect after a drop', async () => {
    const s = await start();
    const old = await peer(s, 'alice', 'tok');
    const bob = await peer(s, 'bob');
    const fresh = await peer(s, 'alice', 'tok');
    expect(await old.closed).toBe(4003);
    bob.send(offer('alice'));
    expect(await fresh.next('OFFER')).toMatchObject({ src: 'bob' });
    // A dropped socket frees the id; the same id and token open it again (peer.reconnect()).
    fresh.ws.terminate();
    await fresh.closed;
    const again = await peer(s, 'alice', 'tok');
    bob.send(offer('alice', 'dc_2'));
    expect(await again.next('OFFER')).toMatchObject({
      src: 'bob',
      payload: { connectionId: 'dc_2' },
    });
  });

  it('frees an id when its peer leaves, for anyone', async () => {
    const s = await start();
    const alice = await peer(s, 'alice', 'one');
    alice.send({ type: 'LEAVE' });
    expect(await alice.closed).toBe(1000);
    await peer(s, 'alice', 'two');
  });
});

describe('PeerJS dialect: bad input', () => {
  it('answers unknown types, bad JSON and malformed frames with coded ERRORs and stays open', async () => {
    const s = await start();
    const alice = await peer(s, 'alice');
    const cases: Array<[unknown, string]> = [
      [{ type: 'FOO' }, 'unknown_type'],
      [{ type: 'EXPIRE', dst: 'alice' }, 'unknown_type'],
      [{ type: '__proto__' }, 'unknown_type'],
      ['not json', 'bad_json'],
      [[1, 2], 'bad_json'],
      [{ dst: 'bob' }, 'bad_message'],
      [{ type: 'OFFER', payload: { connectionId: 'x' } }, 'bad_message'],
      [{ type: 'OFFER', dst: 'bob', payload: 'x' }, 'bad_message'],
      [{ type: 'OFFER', dst: 'b'.repeat(257), payload: {} }, 'bad_message'],
      [{ type: 'CANDIDATE', dst: 42, payload: {} }, 'bad_message'],
    ];
    for (const [frame, code] of cases) {
      alice.send(frame);
      expect(codeOf(await alice.next('ERROR'))).toBe(code);
    }
    await settle(alice, 'alice');
  });

  it('closes a socket that sends a binary frame (1003): the PeerJS server speaks JSON text only', async () => {
    const s = await start();
    const alice = await peer(s, 'alice');
    alice.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await alice.closed).toBe(1003);
    expect(alice.pending('ERROR')).toEqual([]);
  });

  it('closes a socket whose frame passes the size limit (1009)', async () => {
    const s = await start(['--max-frame-bytes', '2048']);
    const alice = await peer(s, 'alice');
    const bob = await peer(s, 'bob');
    alice.send(offer('bob', 'dc_1', { payload: { connectionId: 'dc_1', sdp: 'x'.repeat(4096) } }));
    expect(await alice.closed).toBe(1009);
    await settle(bob, 'bob');
    expect(bob.pending('OFFER')).toEqual([]);
  });

  it('rate-limits a flood (ERROR rate_limited) and then closes it (4029)', async () => {
    const s = await start(['--rate-burst', '5', '--rate-per-second', '1']);
    const alice = await peer(s, 'alice');
    for (let i = 0; i < 450; i++) alice.send({ type: 'HEARTBEAT' });
    expect(codeOf(await alice.next('ERROR'))).toBe('rate_limited');
    expect(await alice.closed).toBe(4029);
  });
});

describe('PeerJS dialect: peers not connected', () => {
  it('queues for an id that comes in time and delivers in order after OPEN', async () => {
    const s = await start(['--peerjs-expire-ms', '5000']);
    const alice = await peer(s, 'alice');
    alice.send(offer('bob', 'dc_1'));
    alice.send({ type: 'CANDIDATE', dst: 'bob', payload: { connectionId: 'dc_1', candidate: {} } });
    await settle(alice, 'alice');
    const bob = new TestClient(peerUrl(s, 'bob', 'b'));
    await bob.next('OPEN');
    expect(bob.received.map((m) => [m.type, m.src])).toEqual([
      ['OFFER', 'alice'],
      ['CANDIDATE', 'alice'],
    ]);
  });

  it('tells the sender EXPIRE once per id that never comes', async () => {
    const s = await start(['--peerjs-expire-ms', '200']);
    const alice = await peer(s, 'alice');
    alice.send(offer('ghost', 'dc_1'));
    alice.send(offer('ghost', 'dc_2'));
    alice.send({
      type: 'CANDIDATE',
      dst: 'ghost',
      payload: { connectionId: 'dc_1', candidate: {} },
    });
    alice.send(offer('phantom'));
    const first = await alice.next('EXPIRE');
    const second = await alice.next('EXPIRE');
    expect([first, second].map((m) => m.src).sort()).toEqual(['ghost', 'phantom']);
    expect(first.dst).toBe('alice');
    // After the expiry, nothing waits: ghost arrives to an empty inbox.
    const ghost = new TestClient(peerUrl(s, 'ghost', 'g'));
    await ghost.next('OPEN');
    await settle(ghost, 'ghost');
    expect(ghost.pending('OFFER', 'CANDIDATE')).toEqual([]);
    await settle(alice, 'alice');
    expect(alice.pending('EXPIRE')).toEqual([]);
  });

  it('keeps at most --queue-max messages for one id', async () => {
    const s = await start(['--queue-max', '3', '--peerjs-expire-ms', '5000']);
    const alice = await peer(s, 'alice');
    for (let i = 0; i < 10; i++) alice.send(offer('bob', `dc_${i}`));
    await settle(alice, 'alice');
    const bob = new TestClient(peerUrl(s, 'bob', 'b'));
    await bob.next('OPEN');
    await settle(bob, 'bob');
    expect(bob.received.map((m) => (m.payload as { connectionId: string }).connectionId)).toEqual([
      'dc_0',
      'dc_1',
      'dc_2',
    ]);
  });
});

describe('PeerJS dialect: HTTP and flags', () => {
  const http = (s: TestServer, path: string) => fetch(`http://127.0.0.1:${s.port}${path}`);

  it('hands out fresh ids at GET /KEY/id and lists peers only with discovery', async () => {
    const s = await start();
    const res = await http(s, '/peerjs/id');
    expect(res.status).toBe(200);
    const id = await res.text();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await (await http(s, '/peerjs/id')).text()).not.toBe(id);
    await peer(s, id);
    expect((await http(s, '/peerjs/peers')).status).toBe(401);
    expect((await http(s, '/other/id')).status).toBe(404);
  });

  it('lists connected ids with --peerjs-discovery on', async () => {
    const s = await start(['--peerjs-discovery', 'on']);
    await peer(s, 'alice');
    await peer(s, 'bob');
    const res = await http(s, '/peerjs/peers');
    expect(res.status).toBe(200);
    expect(((await res.json()) as string[]).sort()).toEqual(['alice', 'bob']);
    expect(await (await http(s, '/metrics')).text()).toMatch(/^callwire_peerjs_peers 2$/m);
  });

  it('mounts under --peerjs-path with --peerjs-key', async () => {
    const s = await start(['--peerjs-path', 'app', '--peerjs-key', 'k1']);
    const c = await TestClient.open(peerUrl(s, 'alice', 't', 'k1', '/app/'));
    await c.next('OPEN');
    expect((await http(s, '/app/k1/id')).status).toBe(200);
    expect((await http(s, '/peerjs/id')).status).toBe(404);
  });

  it('closes PeerJS sockets with 1012 on drain, as every other socket', async () => {
    const s = await start();
    const alice = await peer(s, 'alice');
    await s.server.drain();
    expect(await alice.closed).toBe(1012);
  });

  it('refuses a key or path the PeerJS client could not name', () => {
    for (const flags of [
      ['--peerjs-key', 'a/b'],
      ['--peerjs-key', ''],
      ['--peerjs-path', '/a?b'],
    ]) {
      expect(() => parseConfig(flags, {}), flags.join(' ')).toThrow(ConfigError);
    }
    expect(parseConfig(['--peerjs-path', 'app'], {}).peerjs?.path).toBe('/app/');
    expect(parseConfig(['--peerjs', 'off'], {}).peerjs).toBeUndefined();
  });

  it('is gone with --peerjs off (404 before the upgrade)', async () => {
    const s = await start(['--peerjs', 'off']);
    const c = new TestClient(peerUrl(s, 'alice', 't'));
    await expect(c.opened).rejects.toThrow(/404/);
    expect((await http(s, '/peerjs/id')).status).toBe(404);
  });
});

describe('PeerJS dialect: --auth jwt', () => {
  const SECRET = 'a-test-secret-that-is-32-bytes-long!!';
  const jwt = (sub: string) =>
    new SignJWT({ sub })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));

  it('takes the app token as the PeerJS token; the id must be its subject', async () => {
    const s = await start(['--auth', 'jwt', '--jwt-secret', SECRET]);
    const token = await jwt('alice');
    const alice = await TestClient.open(peerUrl(s, 'alice', token));
    await alice.next('OPEN');
    const bob = new TestClient(peerUrl(s, 'bob', token));
    expect(codeOf(await bob.next('ERROR'))).toBe('invalid_credentials');
    await bob.closed;
    // A token that is not one of the app's never becomes a socket.
    const random = new WebSocket(peerUrl(s, 'carol', 'x8f3k2'));
    random.on('error', () => {});
    const status = await new Promise<number>((resolve) => {
      random.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      random.on('open', () => {
        resolve(101);
        random.close();
      });
    });
    expect(status).toBe(401);
  });

  it('refuses PeerJS peers with --auth password (they have no password to give)', async () => {
    const s = await start(['--auth', 'password']);
    const c = new TestClient(peerUrl(s, 'alice', 't'));
    expect(codeOf(await c.next('ERROR'))).toBe('invalid_credentials');
    await c.closed;
  });
});
