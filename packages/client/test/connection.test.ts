/**
 * The SDK's connection against a real callwire process: login and its refusals, presence,
 * the paged online list, close(), and reconnecting after the server goes away.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CallwireError, connect, type ConnectionState, type PresenceUpdate } from '../src/index.js';
import { Clients, next, startServer, type ServerProcess } from './support.js';

let server: ServerProcess;
const clients = new Clients();
let seq = 0;
const uniq = (base: string): string => `${base}${++seq}`;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.stop();
});
afterEach(() => clients.closeAll());

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CallwireError);
  return (err as CallwireError).code;
}

describe('connect', () => {
  it('logs in with the native protocol and exposes the session', async () => {
    const first = await clients.connect(server.url, uniq('Ann'));
    const name = uniq('Ｂｅｎ'); // full-width letters: the server normalizes with NFKC
    const client = await clients.connect(server.url, name);
    expect(client.state).toBe('open');
    expect(client.name).toBe(name.normalize('NFKC'));
    expect(Array.isArray(client.iceServers)).toBe(true);
    expect(client.online.get(first.name)).toBe('online');
  });

  it('takes STUN and TURN servers (with TURN REST credentials) from the login reply', async () => {
    const own = await startServer([
      '--stun-urls',
      'stun:127.0.0.1:3478',
      '--turn-secret',
      'test-secret',
      '--turn-urls',
      'turn:127.0.0.1:3478?transport=udp',
    ]);
    try {
      const client = await clients.connect(own.url, 'kim');
      const [stun, turn] = client.iceServers;
      expect(stun).toEqual({ urls: ['stun:127.0.0.1:3478'] });
      expect(turn?.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
      expect(turn?.username).toMatch(/^\d+:kim$/);
      const expiry = Number(turn!.username!.split(':')[0]);
      expect(expiry * 1000).toBeGreaterThan(Date.now());
      expect(turn?.credential).toMatch(/^[A-Za-z0-9+/]+=*$/);
      client.close();
    } finally {
      await own.stop();
    }
  });

  it('rejects a name already online (case-insensitively) with name_taken', async () => {
    const name = uniq('carla');
    await clients.connect(server.url, name);
    expect(await refusal(connect(server.url, { name: name.toUpperCase(), WebSocket }))).toBe(
      'name_taken',
    );
  });

  it('rejects an invalid name with name_invalid', async () => {
    expect(await refusal(connect(server.url, { name: 'no/slashes', WebSocket }))).toBe(
      'name_invalid',
    );
  });

  it('rejects with connection_failed when nothing listens', async () => {
    const url = server.url.replace(`:${server.port}/`, ':1/');
    expect(await refusal(connect(url, { name: 'x', WebSocket }))).toBe('connection_failed');
  });

  it('throws TypeError for bad arguments', async () => {
    await expect(connect('http://example.com', { name: 'x', WebSocket })).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(connect(server.url, { name: '', WebSocket })).rejects.toBeInstanceOf(TypeError);
  });
});

describe('presence', () => {
  it('reports people coming online, getting busy and leaving', async () => {
    const watcher = await clients.connect(server.url, uniq('watcher'));
    const seen: PresenceUpdate[] = [];
    watcher.on('presence', (p) => seen.push(p));
    const name = uniq('dora');
    const online = next(watcher, 'presence', (p) => p.name === name && p.status === 'online');
    const dora = await clients.connect(server.url, name);
    await online;
    expect(watcher.online.get(name)).toBe('online');

    const busy = next(watcher, 'presence', (p) => p.name === name && p.status === 'busy');
    await dora.join(uniq('room-'), { audio: true, video: false });
    await busy;
    expect(watcher.online.get(name)).toBe('busy');

    const offline = next(watcher, 'presence', (p) => p.name === name && p.status === 'offline');
    dora.close();
    await offline;
    expect(watcher.online.has(name)).toBe(false);
  });
});

describe('users()', () => {
  it('pages through the online list and filters by substring', async () => {
    const tag = `pg${++seq}x`;
    const names = ['a', 'b', 'c', 'd', 'e'].map((l) => `${tag}${l}`);
    const all = [];
    for (const n of names) all.push(await clients.connect(server.url, n));
    const me = all[0]!;

    const seen: string[] = [];
    let page = await me.users({ query: tag, limit: 2 });
    expect(page.total).toBe(5);
    seen.push(...page.users.map((u) => u.name));
    while (page.cursor !== undefined) {
      page = await me.users({ query: tag, limit: 2, cursor: page.cursor });
      seen.push(...page.users.map((u) => u.name));
    }
    expect(seen).toEqual(names);

    const one = await me.users({ query: `${tag}C` });
    expect(one.users).toEqual([{ name: `${tag}c`, status: 'online' }]);
  });
});

describe('close()', () => {
  it('is idempotent, emits one stateChanged and rejects pending requests', async () => {
    const client = await clients.connect(server.url, uniq('erin'));
    const states: ConnectionState[] = [];
    client.on('stateChanged', (s) => states.push(s));
    const pending = client.users();
    client.close();
    client.close();
    expect(await refusal(pending)).toBe('closed');
    expect(client.state).toBe('closed');
    expect(states).toEqual(['closed']);
    await expect(client.users()).rejects.toMatchObject({ code: 'closed' });
  });

  it('hangs up calls in progress', async () => {
    const a = await clients.connect(server.url, uniq('fay'));
    const b = await clients.connect(server.url, uniq('gus'));
    const ringing = next(b, 'incoming');
    const call = await a.call(b.name, { audio: true, video: false });
    const [incoming] = await ringing;
    // Both sides must know the call is accepted, or closing would cancel a ringing call.
    const connecting = next(call, 'stateChanged', (s) => s === 'connecting');
    const bobCall = await incoming.accept();
    await connecting;
    const ended = next(bobCall, 'ended');
    a.close();
    expect(call.endReason).toBe('hangup');
    expect(await ended).toEqual(['hangup']);
  });
});

describe('reconnecting', () => {
  it('goes reconnecting when the server vanishes; a restarted server refuses the resume, so calls end as disconnected and it logs in afresh', async () => {
    const own = await startServer();
    const quick = { nextRetryDelayMs: (attempt: number) => (attempt < 200 ? 50 : null) };
    const a = await clients.connect(own.url, uniq('hal'), { reconnectPolicy: quick });
    const b = await clients.connect(own.url, uniq('ida'), { reconnectPolicy: quick });
    a.watch([b.name]);
    const ringing = next(b, 'incoming');
    const call = await a.call(b.name, { audio: true, video: false });
    await ringing;

    const states: ConnectionState[] = [];
    a.on('stateChanged', (s) => states.push(s));
    let endedAt: ConnectionState | null = null;
    const ended = next(call, 'ended');
    void ended.then(() => (endedAt = a.state));
    const reconnecting = next(a, 'stateChanged', (s) => s === 'reconnecting');
    await own.stop('SIGKILL');
    await reconnecting;
    // Away, the call waits for the session to resume rather than ending at once.
    expect(call.state).toBe('ringing');
    await expect(a.users()).rejects.toMatchObject({ code: 'disconnected' });

    // The same port again, as a restarted server would be: it knows nothing of our session.
    const again = await startServer([], own.port);
    try {
      await next(a, 'stateChanged', (s) => s === 'open');
      expect(await ended).toEqual(['disconnected']);
      // The call ended before the new session opened (resume_failed, then a fresh login).
      expect(endedAt).toBe('reconnecting');
      expect(states).toEqual(['reconnecting', 'open']);
      expect(a.state).toBe('open');
      const page = await a.users();
      expect(page.users.map((u) => u.name)).toContain(a.name);
    } finally {
      a.close();
      b.close();
      await again.stop();
    }
  });

  it('gives up when the policy says so, with state closed and an error event', async () => {
    const own = await startServer();
    const once = { nextRetryDelayMs: (attempt: number) => (attempt < 1 ? 20 : null) };
    const a = await clients.connect(own.url, uniq('jon'), { reconnectPolicy: once });
    const errors: CallwireError[] = [];
    a.on('error', (e) => errors.push(e));
    const closed = next(a, 'stateChanged', (s) => s === 'closed');
    await own.stop('SIGKILL');
    await closed;
    expect(errors.map((e) => e.code)).toEqual(['connection_failed']);
  });
});
