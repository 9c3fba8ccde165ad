// callwire reads two private fields of `ws` (ws/ws-internals.ts): the TCP socket, to cork a
// burst of relayed frames into one write, and the receiver's buffered bytes, to tell a burst
// from a lone frame. Both have safe fallbacks, so a `ws` release that renamed them would not
// break anything visibly, only make relaying slower. This suite makes such a release fail.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { internalsKnown, moreFramesPending, rawSocketOf } from '../src/ws/ws-internals.js';

let wss: WebSocketServer | undefined;

afterEach(async () => {
  if (wss) await new Promise<void>((resolve) => wss!.close(() => resolve()));
  wss = undefined;
});

async function pair(): Promise<{ server: WebSocket; client: WebSocket }> {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  return { server, client };
}

describe('the ws internals callwire relies on', () => {
  it('are where callwire reads them on a server-side socket', async () => {
    const { server, client } = await pair();
    expect(internalsKnown(server)).toBe(true);
    expect(rawSocketOf(server)).not.toBeNull();
    client.close();
  });

  it('tell a burst (more frames in the same read) from a lone frame', async () => {
    const { server, client } = await pair();
    const seen: boolean[] = [];
    server.on('message', () => seen.push(moreFramesPending(server)));
    // Three frames in one TCP write arrive in one read: the first two have more behind them.
    const raw = rawSocketOf(client)!;
    raw.cork();
    client.send('a');
    client.send('b');
    client.send('c');
    raw.uncork();
    while (seen.length < 3) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([true, true, false]);
    seen.length = 0;
    client.send('lone');
    while (seen.length < 1) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([false]);
    client.close();
  });
});
