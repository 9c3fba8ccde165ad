/**
 * What the real server never does, played by a scripted WebSocket server on a real socket:
 * malformed frames, a login that never comes, a connection that goes silent. The SDK must
 * validate every frame before use and notice a dead connection on its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CallwireError, connect, type CallwireClient } from '../src/index.js';
import { next } from './support.js';

const servers: WebSocketServer[] = [];
const clients: CallwireClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) {
    for (const ws of s.clients) ws.terminate();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function scripted(
  onMessage: (ws: WebSocket, msg: Record<string, unknown>) => void,
): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('message', (data) =>
      onMessage(ws, JSON.parse((data as Buffer).toString()) as Record<string, unknown>),
    );
  });
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected address');
  return `ws://127.0.0.1:${address.port}/`;
}

const loginOk = (name: unknown) =>
  JSON.stringify({
    type: 'login',
    success: true,
    name,
    protocol: 1,
    users: [],
    usersTotal: 0,
    iceServers: [],
  });

describe('frames the protocol does not allow', () => {
  it('are reported as protocol_error and otherwise ignored', async () => {
    const url = await scripted((ws, msg) => {
      if (msg.type === 'login') return ws.send(loginOk(msg.name));
      if (msg.type !== 'watch') return;
      ws.send('not json');
      ws.send(JSON.stringify({ type: 'incoming', callId: 'c1' })); // from, name, media missing
      ws.send(JSON.stringify({ type: 'presence', name: 'zed', status: 'online' }));
    });
    const client = await connect(url, { name: 'amy', WebSocket });
    clients.push(client);
    const errors: string[] = [];
    let incoming = 0;
    client.on('error', (e) => errors.push(e.code));
    client.on('incoming', () => incoming++);
    const presence = next(client, 'presence');
    client.watch(['zed']);
    await presence;
    expect(errors).toEqual(['protocol_error', 'protocol_error']);
    expect(incoming).toBe(0);
    expect(client.online.get('zed')).toBe('online');
  });
});

describe('a server that stops answering', () => {
  it('connect() rejects with timeout when the login reply never comes', async () => {
    const url = await scripted(() => {});
    const err = await connect(url, { name: 'ben', WebSocket, requestTimeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CallwireError);
    expect((err as CallwireError).code).toBe('timeout');
  });

  it('an unanswered heartbeat drops the connection and reconnects', async () => {
    let logins = 0;
    const url = await scripted((ws, msg) => {
      // Answer logins, never pings: the connection looks alive to TCP but is dead to us.
      if (msg.type === 'login') {
        logins++;
        ws.send(loginOk(msg.name));
      }
    });
    const client = await connect(url, {
      name: 'cat',
      WebSocket,
      heartbeatIntervalMs: 100,
      reconnectPolicy: { nextRetryDelayMs: () => 10 },
    });
    clients.push(client);
    await next(client, 'stateChanged', (s) => s === 'reconnecting');
    await next(client, 'stateChanged', (s) => s === 'open');
    expect(logins).toBeGreaterThanOrEqual(2);
  });

  it('a socket abandoned to resume closes with 4000 (not a goodbye), and the next login presents the token', async () => {
    const logins: Record<string, unknown>[] = [];
    const closeCodes: number[] = [];
    const url = await scripted((ws, msg) => {
      if (msg.type !== 'login') return; // never a pong: the heartbeat gives up on the socket
      logins.push(msg);
      ws.once('close', (code) => closeCodes.push(code));
      ws.send(
        JSON.stringify({
          ...(JSON.parse(loginOk(msg.name)) as object),
          resumeToken: `token${logins.length}`,
          resumeGraceMs: 20_000,
          ...(msg.resumeToken !== undefined ? { resumed: true, calls: [] } : {}),
        }),
      );
    });
    const client = await connect(url, {
      name: 'dot',
      WebSocket,
      heartbeatIntervalMs: 100,
      reconnectPolicy: { nextRetryDelayMs: () => 10 },
    });
    clients.push(client);
    await next(client, 'stateChanged', (s) => s === 'reconnecting');
    await next(client, 'stateChanged', (s) => s === 'open');
    expect(logins[0]).toMatchObject({ type: 'login', name: 'dot', protocol: 1, resume: true });
    expect(logins[1]).toEqual({
      type: 'login',
      name: 'dot',
      protocol: 1,
      resumeToken: 'token1',
      presenceBatch: true,
    });
    await expect.poll(() => closeCodes[0]).toBe(4000);
  });
});
