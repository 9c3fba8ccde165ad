/**
 * TEST ONLY: a malicious signaling path, for verify-mitm.test.ts. Pages connect to this relay
 * instead of the callwire server; it passes every frame through both ways, and while
 * `attacking` is on it takes the calls' offers, answers and candidates out of the stream and
 * hands them to the test (which gives them to an attacker's page), and writes the attacker's
 * own into each victim's socket as if the server had relayed them from the peer. That is what
 * whoever runs or breaks into a signaling server can do to every call.
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export type Signal =
  | { type: 'offer'; callId: string; offer: { type: 'offer'; sdp: string } }
  | { type: 'answer'; callId: string; answer: { type: 'answer'; sdp: string } }
  | { type: 'candidate'; callId: string; candidate: RTCIceCandidateInit | null };

export interface MitmRelay {
  /** The WebSocket URL the pages connect to. */
  readonly url: string;
  /** Divert signaling (true) or pass everything through (false). */
  attacking: boolean;
  /** Write a signal into `to`'s socket, as the server would relay it from `from`. */
  inject(to: string, from: string, signal: Signal): void;
  close(): Promise<void>;
}

const DIVERTED = new Set(['offer', 'answer', 'candidate']);

/** Text frames only: the native protocol is JSON text. */
const text = (data: RawData): string =>
  Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Buffer.from(new Uint8Array(data)).toString('utf8');

/** `onSignal(from, signal)`: a victim sent a signal that was diverted. */
export async function startMitmRelay(
  upstream: string,
  onSignal: (from: string, signal: Signal) => void,
): Promise<MitmRelay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const byName = new Map<string, WebSocket>();
  // As the server does, a caller's signals sent while its call rings are held until the call is
  // accepted (the SDK offers while ringing); then the attacker gets them, in order.
  const accepted = new Set<string>();
  const held = new Map<string, Array<[string, Signal]>>();
  const divert = (from: string, signal: Signal): void => {
    if (accepted.has(signal.callId)) return onSignal(from, signal);
    const queue = held.get(signal.callId) ?? [];
    queue.push([from, signal]);
    held.set(signal.callId, queue);
  };
  const sawAccepted = (callId: string): void => {
    accepted.add(callId);
    const queue = held.get(callId) ?? [];
    held.delete(callId);
    for (const [from, signal] of queue) onSignal(from, signal);
  };

  wss.on('connection', (client) => {
    const server = new WebSocket(upstream);
    const pending: RawData[] = [];
    let name = '';
    server.on('open', () => {
      for (const data of pending.splice(0)) server.send(text(data));
    });
    server.on('message', (data) => {
      const frame = text(data);
      const msg = JSON.parse(frame) as { type?: string; callId?: string };
      if (msg.type === 'accepted' && typeof msg.callId === 'string') sawAccepted(msg.callId);
      if (client.readyState === WebSocket.OPEN) client.send(frame);
    });
    server.on('close', () => client.close());
    server.on('error', () => client.close());
    client.on('close', () => server.close());
    client.on('message', (data) => {
      const msg = JSON.parse(text(data)) as { type?: string; name?: string };
      if (msg.type === 'login' && typeof msg.name === 'string') {
        name = msg.name;
        byName.set(name, client);
      }
      if (relay.attacking && typeof msg.type === 'string' && DIVERTED.has(msg.type)) {
        divert(name, msg as Signal);
        return;
      }
      if (server.readyState === WebSocket.OPEN) server.send(text(data));
      else pending.push(data);
    });
  });

  const { port } = wss.address() as AddressInfo;
  const relay: MitmRelay = {
    url: `ws://127.0.0.1:${port}/`,
    attacking: false,
    inject(to, from, signal) {
      const socket = byName.get(to);
      if (socket === undefined) throw new Error(`nobody called ${to} is connected`);
      socket.send(JSON.stringify({ ...signal, name: from, from }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
  return relay;
}
