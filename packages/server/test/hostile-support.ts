// The bed the hostile-input suites share: a fresh server per test with two bystanders in a
// connected call, who must never notice anything the tests do.
import { afterEach, beforeEach, expect } from 'vitest';
import type { Session } from '../src/ws/session.js';
import {
  TestClient,
  candidate,
  connectedCall,
  nativeUser,
  startServer,
  type Msg,
  type TestServer,
} from './support.js';

/** Two people in a connected call who must never notice anything the tests do. */
export interface Bystanders {
  readonly x: TestClient;
  readonly y: TestClient;
  readonly callId: string;
  relays: number;
}

/** The current test's server and bystanders (set by `useBystanders`' beforeEach). */
export let ts: TestServer;
export let by: Bystanders;

/** Registers, for the calling suite, a fresh server with its bystanders around each test. */
export function useBystanders(): void {
  beforeEach(async () => {
    ts = await startServer();
    const x = await nativeUser(ts, 'bystander-x');
    const y = await nativeUser(ts, 'bystander-y');
    const callId = await connectedCall(x, y, 'bystander-y');
    by = { x, y, callId, relays: 0 };
  });
  afterEach(async () => {
    await ts.close();
  });
}
/** The bystanders' call still relays both ways, and neither was told anything bad. */
export async function bystandersUnaffected(): Promise<void> {
  const i = ++by.relays;
  by.x.send({ type: 'candidate', callId: by.callId, candidate: candidate(1000 + i) });
  expect((await by.y.next('candidate')).candidate).toEqual(candidate(1000 + i));
  by.y.send({ type: 'candidate', callId: by.callId, candidate: candidate(2000 + i) });
  expect((await by.x.next('candidate')).candidate).toEqual(candidate(2000 + i));
  for (const c of [by.x, by.y]) {
    expect(c.pending('leave', 'error', 'offer', 'answer', 'incoming')).toEqual([]);
    expect(c.closeCode).toBeUndefined();
  }
  // And the server still takes new people.
  const fresh = await TestClient.open(ts.url('/'));
  fresh.send({ type: 'login', name: `fresh-${i}`, protocol: 1 });
  expect((await fresh.next('login')).success).toBe(true);
  fresh.close();
}

export async function errorFor(c: TestClient, frame: unknown): Promise<Msg> {
  c.send(frame);
  return c.next('error');
}

/** Server-side sessions, to look at what the server holds for each socket. */
export function sessions(): Session[] {
  return [...(ts.server.gateway as unknown as { sessions: Set<Session> }).sessions];
}
