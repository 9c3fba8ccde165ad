// Logs are for operators: they must never carry SDP, candidates or secrets, even at trace.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { SDP_ANSWER, SDP_OFFER, candidate, connectedCall, nativeUser, startServer, type TestServer } from './support.js';

let ts: TestServer | undefined;
afterEach(async () => {
  await ts?.close();
});

it('logs calls without SDP, candidates or fingerprints, even at trace level', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  ts = await startServer([], pino({ level: 'trace' }, sink));
  const a = await nativeUser(ts, 'alice');
  const b = await nativeUser(ts, 'bob');
  const callId = await connectedCall(a, b, 'bob');
  a.send({ type: 'offer', callId, offer: SDP_OFFER });
  await b.next('offer');
  b.send({ type: 'answer', callId, answer: SDP_ANSWER });
  await a.next('answer');
  a.send({ type: 'candidate', callId, candidate: candidate(7) });
  await b.next('candidate');
  a.send({ type: 'hangup', callId });
  await b.next('leave');
  await ts.close();
  ts = undefined;
  const all = lines.join('');
  expect(all).toContain('call ended'); // the log is there...
  expect(all).not.toContain('fingerprint'); // ...but not what the call carried
  expect(all).not.toContain('v=0');
  expect(all).not.toContain('typ host');
  expect(all).not.toContain('ice-pwd');
});
