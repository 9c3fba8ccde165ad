// TURN credentials expire; calls may outlast them. A native session is sent fresh ones
// (`iceServers`) before the ones it holds run out, so it can still restart ICE through TURN.
import { createHmac } from 'node:crypto';
import { serverDecoder } from '@callwire/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TestClient,
  one2oneUser,
  startServer,
  tutorialUser,
  type Msg,
  type TestServer,
} from './support.js';

const SECRET = 'refresh-test-secret';
const TURN_URL = 'turn:127.0.0.1:3478?transport=udp';
// TTL 3 s: credentials live 2-3 s (the expiry is a whole second), refreshed every ~1.4 s.
// The heartbeat sweep that sends refreshes runs every ~33 ms with a 100 ms ping interval.
const FLAGS = [
  '--turn-secret',
  SECRET,
  '--turn-urls',
  TURN_URL,
  '--turn-ttl-seconds',
  '3',
  '--ping-interval-ms',
  '100',
];

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function start(flags: string[]): Promise<TestServer> {
  const server = await startServer(flags);
  servers.push(server);
  return server;
}

interface TurnEntry {
  urls: string[];
  username: string;
  credential: string;
}

/** The TURN entry of an `iceServers` list, checked against coturn's REST credential format. */
function turnEntry(iceServers: unknown, name: string): { entry: TurnEntry; expiresAtMs: number } {
  expect(Array.isArray(iceServers)).toBe(true);
  const entry = (iceServers as TurnEntry[]).find((s) => s.username !== undefined);
  if (entry === undefined) throw new Error(`no TURN entry in ${JSON.stringify(iceServers)}`);
  expect(entry.urls).toEqual([TURN_URL]);
  const match = /^(\d+):(.+)$/.exec(entry.username);
  expect(match?.[2]).toBe(name);
  expect(entry.credential).toBe(createHmac('sha1', SECRET).update(entry.username).digest('base64'));
  return { entry, expiresAtMs: Number(match?.[1]) * 1000 };
}

async function loginNative(
  server: TestServer,
  name: string,
): Promise<{ client: TestClient; reply: Msg }> {
  const client = await TestClient.open(server.url('/'));
  client.send({ type: 'login', name, protocol: 1 });
  const reply = await client.next('login');
  expect(reply.success).toBe(true);
  return { client, reply };
}

describe('TURN credential refresh', () => {
  it('sends a native session fresh credentials before the ones it holds expire, again and again', async () => {
    const ts = await start(FLAGS);
    const { client, reply } = await loginNative(ts, 'Alice');
    let previous = turnEntry(reply.iceServers, 'Alice');

    for (let round = 0; round < 2; round++) {
      const refresh = await client.next('iceServers', 4000);
      const arrivedAtMs = Date.now();
      expect(Object.keys(refresh).sort()).toEqual(['iceServers', 'type']);
      const fresh = turnEntry(refresh.iceServers, 'Alice');
      expect(arrivedAtMs).toBeLessThan(previous.expiresAtMs);
      expect(fresh.expiresAtMs).toBeGreaterThan(previous.expiresAtMs);
      expect(fresh.entry.username).not.toBe(previous.entry.username);
      previous = fresh;
    }
    // The wire contract: every refresh is a valid server message by the protocol's schema.
    const frames = client.raw.filter((text) => text.includes('"type":"iceServers"'));
    expect(frames).toHaveLength(2);
    for (const text of frames) expect(serverDecoder.decode(text).ok).toBe(true);
    client.close();
  });

  it('sends STUN servers along with the fresh TURN credentials', async () => {
    const ts = await start([...FLAGS, '--stun-urls', 'stun:127.0.0.1:3478']);
    const { client } = await loginNative(ts, 'bob');
    const refresh = await client.next('iceServers', 4000);
    expect(refresh.iceServers).toContainEqual({ urls: ['stun:127.0.0.1:3478'] });
    turnEntry(refresh.iceServers, 'bob');
    client.close();
  });

  it('sends nothing to tutorial and one2one clients, and nothing at all without TURN', async () => {
    const ts = await start(FLAGS);
    const stunOnly = await start([
      '--stun-urls',
      'stun:127.0.0.1:3478',
      '--ping-interval-ms',
      '100',
    ]);
    const tutorial = await tutorialUser(ts, 'tut');
    const one2one = await one2oneUser(ts, 'kur');
    const { client: noTurn, reply } = await loginNative(stunOnly, 'Alice');
    expect(reply.iceServers).toEqual([{ urls: ['stun:127.0.0.1:3478'] }]);
    const { client: clock } = await loginNative(ts, 'clock');
    // Two refreshes seen by a native session prove that everybody's moment has passed.
    await clock.next('iceServers', 4000);
    await clock.next('iceServers', 4000);
    await Promise.all([tutorial.settle(), one2one.settle(), noTurn.settle()]);
    for (const client of [tutorial, one2one, noTurn]) {
      expect(client.raw.filter((text) => text.includes('"type":"iceServers"'))).toEqual([]);
    }
    for (const client of [tutorial, one2one, noTurn, clock]) client.close();
  });
});
