// Shared by the call-state suites: a fresh server per test, and small waits on what clients see.
import { afterEach, expect } from 'vitest';
import { startServer, type TestClient, type TestServer } from './support.js';

/** Registers cleanup for the calling suite; returns a function that starts its server. */
export function useServer(): (flags?: string[]) => Promise<TestServer> {
  let ts: TestServer | undefined;
  afterEach(async () => {
    await ts?.close();
    ts = undefined;
  });
  return async (flags: string[] = []) => {
    ts = await startServer(flags);
    return ts;
  };
}

/** A rings b; resolves with the callId once both sides know. */
export async function ring(a: TestClient, b: TestClient, bName: string): Promise<string> {
  a.send({ type: 'call', to: bName, media: { audio: true, video: false } });
  const ringing = await a.next('ringing');
  const incoming = await b.next('incoming');
  expect(incoming.callId).toBe(ringing.callId);
  return ringing.callId as string;
}

export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Nothing more of these types arrives (after a round trip). */
export async function nothingMore(c: TestClient, ...types: string[]): Promise<void> {
  await c.settle();
  expect(c.pending(...types)).toEqual([]);
}
