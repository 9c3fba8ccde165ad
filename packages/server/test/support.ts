/**
 * Integration test support: a real callwire server on port 0 and real `ws` clients that
 * remember every frame they receive, so tests can await "the next message of type X".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import pino from 'pino';
import { buildServer, parseConfig, type CallwireServer } from '../src/index.js';

export interface TestServer {
  server: CallwireServer;
  port: number;
  url(path?: string): string;
  close(): Promise<void>;
}

export async function startServer(
  flags: string[] = [],
  logger: pino.Logger = pino({ level: 'silent' }),
): Promise<TestServer> {
  // Each server gets its own data directory, so tests never share (or leave behind) a store.
  const dataDir = mkdtempSync(join(tmpdir(), 'callwire-test-'));
  const config = parseConfig(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...flags], {});
  const server = buildServer(config, { logger });
  const { port } = await server.listen();
  return {
    server,
    port,
    url: (path = '/') => `ws://127.0.0.1:${port}${path}`,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Msg = Record<string, unknown> & { type?: string; id?: string };

/** A client that records frames; `next(pred)` resolves with the first unseen matching frame. */
export class TestClient {
  readonly ws: WebSocket;
  readonly received: Msg[] = [];
  readonly raw: string[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  readonly one2one: boolean;

  constructor(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
    this.ws = new WebSocket(url, options);
    this.one2one = /\/(call|one2one)$/.test(new URL(url).pathname);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code) => {
        this.closeCode = code;
        resolve(code);
        this.wake();
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const text = (data as Buffer).toString();
      this.raw.push(text);
      this.received.push(JSON.parse(text) as Msg);
      this.wake();
    });
  }

  static async open(url: string): Promise<TestClient> {
    const c = new TestClient(url);
    await c.opened;
    return c;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The next frame (after the ones already consumed) that matches. */
  async next(match: string | ((m: Msg) => boolean), timeoutMs = 5000): Promise<Msg> {
    const pred = typeof match === 'string' ? (m: Msg) => (m.type ?? m.id) === match : match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.cursor; i < this.received.length; i++) {
        const m = this.received[i]!;
        if (pred(m)) {
          this.received.splice(i, 1);
          return m;
        }
      }
      if (this.closeCode !== undefined) {
        throw new Error(`socket closed (${this.closeCode}) while waiting; got ${JSON.stringify(this.received)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Round-trip a ping so that everything the server sent before it has arrived. */
  async settle(): Promise<void> {
    if (this.one2one) {
      // This dialect's pong carries no ref; frames are delivered in order, so the next pong
      // is ours.
      this.send({ id: 'ping' });
      await this.next('pong');
      return;
    }
    const ref = `settle-${Math.random()}`;
    this.send({ type: 'ping', ref });
    await this.next((m) => m.type === 'pong' && m.ref === ref);
  }

  /** Frames not consumed by next(), of the given types (or all). */
  pending(...types: string[]): Msg[] {
    return this.received.filter((m) => types.length === 0 || types.includes((m.type ?? m.id)!));
  }

  close(): void {
    this.ws.close();
  }
}

export async function nativeUser(ts: TestServer, name: string): Promise<TestClient> {
  const c = await TestClient.open(ts.url('/'));
  c.send({ type: 'login', name, protocol: 1 });
  const reply = await c.next('login');
  if (reply.success !== true) throw new Error(`login ${name} failed: ${JSON.stringify(reply)}`);
  return c;
}

export async function tutorialUser(ts: TestServer, name: string): Promise<TestClient> {
  const c = await TestClient.open(ts.url('/'));
  c.send({ type: 'login', name });
  const reply = await c.next('login');
  if (reply.success !== true) throw new Error(`login ${name} failed: ${JSON.stringify(reply)}`);
  return c;
}

export async function one2oneUser(ts: TestServer, name: string, path = '/call'): Promise<TestClient> {
  const c = await TestClient.open(ts.url(path));
  c.send({ id: 'register', name });
  const reply = await c.next('registerResponse');
  if (reply.response !== 'accepted') throw new Error(`register ${name} failed: ${JSON.stringify(reply)}`);
  return c;
}

/** A native call from a to b, accepted; resolves with the callId. */
export async function connectedCall(a: TestClient, b: TestClient, bName: string): Promise<string> {
  a.send({ type: 'call', to: bName });
  const ringing = await a.next('ringing');
  const incoming = await b.next('incoming');
  b.send({ type: 'accept', callId: incoming.callId });
  await a.next('accepted');
  await b.next('accepted');
  return ringing.callId as string;
}

export const SDP_OFFER = {
  type: 'offer',
  sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=fingerprint:sha-256 3B:9F:2C:AA:01:7E:55:10:00:FF:EE:DD:CC:BB:AA:99:88:77:66:55:44:33:22:11:00:AB:CD:EF:12:34:56:78\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:Ab/+\r\na=ice-pwd:"\\u2028 quote\r\na=mid:0\r\n',
};
export const SDP_ANSWER = { type: 'answer', sdp: SDP_OFFER.sdp.replace('4611731400430051336', '9') };
export const candidate = (i: number) => ({
  candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${50000 + i} typ host generation 0 ufrag Ab/+ network-id 1`,
  sdpMid: '0',
  sdpMLineIndex: 0,
});

/**
 * Every write the in-process server makes to `client`'s connection from now on, as the number
 * of chunks it carried (a `ws` frame is two; a corked burst of frames is one write). `stop()`
 * ends the count. Net sockets are patched at their prototype, so a connection can be counted
 * before the server has made its side of it (a resume arriving on a new socket).
 */
export function serverWrites(client: TestClient): { chunks: number[]; stop(): void } {
  const clientPort = (client.ws as unknown as { _socket: Socket })._socket.localPort;
  const chunks: number[] = [];
  type Write = (this: Socket, ...args: unknown[]) => void;
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', Write>;
  const originals = { _write: proto._write, _writev: proto._writev };
  for (const method of ['_write', '_writev'] as const) {
    const original = originals[method];
    proto[method] = function (...args) {
      if (this.remotePort === clientPort) chunks.push(method === '_writev' ? (args[0] as unknown[]).length : 1);
      return original.apply(this, args);
    };
  }
  return {
    chunks,
    stop: () => Object.assign(proto, originals),
  };
}
