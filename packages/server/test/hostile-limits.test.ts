// Limits against floods, huge frames, slow readers and anonymous sockets: each abuser gets a
// coded error or a documented close, and a call between two other people carries on.
import { afterEach, describe, expect, it } from 'vitest';
import type { Session } from '../src/ws/session.js';
import {
  SDP_ANSWER,
  SDP_OFFER,
  TestClient,
  candidate,
  connectedCall,
  nativeUser,
  startServer,
  type TestServer,
} from './support.js';
import { until } from './call-support.js';
import { by, bystandersUnaffected, sessions, ts, useBystanders } from './hostile-support.js';

useBystanders();

describe('limits', () => {
  it('closes a socket that sends a 10 MiB frame with 1009; everyone else carries on', async () => {
    const big = await nativeUser(ts, 'bigmouth');
    big.send('x'.repeat(10 * 1024 * 1024));
    expect(await big.closed).toBe(1009);
    await until(() => ts.server.ctx.hub.get('bigmouth') === undefined);
    await bystandersUnaffected();
  });

  it('counts that 1009 close in callwire_closes_total', async () => {
    const big = await nativeUser(ts, 'bigmouth');
    big.send('x'.repeat(100 * 1024));
    expect(await big.closed).toBe(1009);
    await until(() => ts.server.ctx.hub.get('bigmouth') === undefined);
    expect(ts.server.ctx.stats.closes.get(1009)).toBe(1);
  });

  it('accepts a frame just under 64 KiB (an SDP with many m-lines)', async () => {
    const a = await nativeUser(ts, 'bigsdp-a');
    const b = await nativeUser(ts, 'bigsdp-b');
    const callId = await connectedCall(a, b, 'bigsdp-b');
    // 57,605 characters of SDP, ~62,500 bytes as JSON: under both the SDP and the frame limit.
    const offer = { type: 'offer', sdp: `v=0\r\n${`a=${'x'.repeat(20)}\r\n`.repeat(2_400)}` };
    a.send({ type: 'offer', callId, offer });
    expect((await b.next('offer')).offer).toEqual(offer);
    await bystandersUnaffected();
  });

  it('rate-limits a flood (rate_limited), then closes it with 4029; others unaffected', async () => {
    const f = await nativeUser(ts, 'flooder');
    const started = Date.now();
    for (let i = 0; i < 260; i++) f.send({ type: 'ping' });
    expect((await f.next('error')).code).toBe('rate_limited');
    // The burst was served (200, less the login's token), plus what refilled at 50/s meanwhile.
    await until(() => f.pending('pong').length >= 199);
    const refilled = Math.ceil(((Date.now() - started) * 50) / 1000);
    expect(f.pending('pong').length).toBeLessThanOrEqual(200 + refilled);
    // One error per second at most, not one per dropped frame.
    expect(f.pending('error')).toEqual([]);
    for (let i = 0; i < 2000 && f.ws.readyState === f.ws.OPEN; i++) f.send({ type: 'ping' });
    expect(await f.closed).toBe(4029);
    await bystandersUnaffected();
  });

  it('closes 300 pings then a 25 ms pause, in a loop, with 4029 (drops in a row no longer reset)', async () => {
    const f = await nativeUser(ts, 'pulser');
    const started = Date.now();
    let sent = 0;
    // The pattern from issue 14, for at most 15 s: before the flood policy, one frame in each
    // pause got through and reset the count, so it was never closed.
    while (f.closeCode === undefined && Date.now() - started < 15_000) {
      for (let i = 0; i < 300 && f.ws.readyState === f.ws.OPEN; i++, sent++)
        f.send({ type: 'ping' });
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(f.closeCode).toBe(4029);
    const elapsedS = (Date.now() - started) / 1000;
    // Served: at most the burst plus the sustained rate over the time it took (with a margin).
    const { rateBurst, ratePerSecond } = ts.server.ctx.config;
    expect(f.pending('pong').length).toBeLessThanOrEqual(
      rateBurst + ratePerSecond * (elapsedS + 1),
    );
    expect(sent).toBeGreaterThan(rateBurst);
    await until(() => ts.server.ctx.hub.get('pulser') === undefined);
    expect(ts.server.ctx.stats.closes.get(4029)).toBe(1);
    await bystandersUnaffected();
  });

  it('never closes, nor limits, bursts that stay under the sustained rate (44/s for 8 s)', async () => {
    const c = await nativeUser(ts, 'steady');
    const started = Date.now();
    // Most of the burst at once, then 22 pings every 500 ms: 88% of 50/s, in clumps.
    let sent = 0;
    for (let i = 0; i < 150; i++, sent++) c.send({ type: 'ping', ref: `p${sent}` });
    while (Date.now() - started < 8_000) {
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 22; i++, sent++) c.send({ type: 'ping', ref: `p${sent}` });
    }
    await c.settle();
    expect(c.closeCode).toBeUndefined();
    expect(c.pending('error')).toEqual([]);
    expect(c.pending('pong').length).toBe(sent);
    await bystandersUnaffected();
  }, 30_000);

  it('never limits a normal call setup: offer, answer and 40 candidates each way at once', async () => {
    const a = await nativeUser(ts, 'setup-a');
    const b = await nativeUser(ts, 'setup-b');
    // Everything is sent as fast as the client can: far denser than 0.5 s for the whole setup.
    const callId = await connectedCall(a, b, 'setup-b');
    a.send({ type: 'offer', callId, offer: SDP_OFFER });
    for (let i = 0; i < 40; i++) a.send({ type: 'candidate', callId, candidate: candidate(i) });
    expect((await b.next('offer')).offer).toEqual(SDP_OFFER);
    b.send({ type: 'answer', callId, answer: SDP_ANSWER });
    for (let i = 0; i < 40; i++)
      b.send({ type: 'candidate', callId, candidate: candidate(100 + i) });
    expect((await a.next('answer')).answer).toEqual(SDP_ANSWER);
    for (let i = 0; i < 40; i++)
      expect((await b.next('candidate')).candidate).toEqual(candidate(i));
    for (let i = 0; i < 40; i++)
      expect((await a.next('candidate')).candidate).toEqual(candidate(100 + i));
    await a.settle();
    await b.settle();
    expect([...a.pending('error'), ...b.pending('error')]).toEqual([]);
    await bystandersUnaffected();
  });

  it('limits call invites to 10 a minute (rate_limited), counting invites to offline names', async () => {
    const c = await nativeUser(ts, 'dialer');
    for (let i = 0; i < 10; i++) {
      c.send({ type: 'call', to: `ghost${i}`, ref: `r${i}` });
      expect(await c.next('leave')).toMatchObject({ reason: 'unavailable', ref: `r${i}` });
    }
    c.send({ type: 'call', to: 'bystander-x', ref: 'r10' });
    expect(await c.next('error')).toMatchObject({ code: 'rate_limited', ref: 'r10' });
    // The refused invite did not reach its target.
    await by.x.settle();
    expect(by.x.pending('incoming')).toEqual([]);
    await bystandersUnaffected();
  });

  it('closes a client that stops reading with 4008; server buffers stay bounded', async () => {
    const capBytes = ts.server.ctx.config.outboundCapBytes;
    const talker = await nativeUser(ts, 'talker');
    const sleeper = await nativeUser(ts, 'sleeper');
    const callId = await connectedCall(talker, sleeper, 'sleeper');
    (sleeper.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const offer = { type: 'offer', sdp: `v=0\r\n${`a=${'y'.repeat(1000)}\r\n`.repeat(55)}` }; // ~55 KB per frame
    const bufferedSum = () => sessions().reduce((n, s) => n + s.ws.bufferedAmount, 0);
    const baseline = bufferedSum();
    let peak = 0;
    // Bounded: most of the burst at once, then below the sustained rate (50/s) for at most ~6 s.
    // The pacing keeps the talker itself clear of the rate limit.
    for (let round = 0; round < 60 && !ts.server.ctx.stats.closes.get(4008); round++) {
      const n = round === 0 ? 150 : 4;
      for (let i = 0; i < n; i++) talker.send({ type: 'offer', callId, offer });
      await talker.settle();
      peak = Math.max(peak, bufferedSum());
      if (round > 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ts.server.ctx.stats.closes.get(4008)).toBe(1);
    // The server stopped queueing at the cap (plus the frame that crossed it).
    expect(peak - baseline).toBeLessThan(capBytes + 2 * 64 * 1024);
    for (let i = 0; i < 20; i++) talker.send({ type: 'offer', callId, offer });
    await talker.settle();
    expect(bufferedSum() - baseline).toBeLessThan(capBytes + 2 * 64 * 1024);

    // When it reads again it finds what was queued, then the 4008 close.
    (sleeper.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await sleeper.closed).toBe(4008);
    expect(await talker.next('leave')).toMatchObject({ callId, reason: 'disconnected' });
    await until(() => sessions().every((s) => s.name !== 'sleeper'));
    expect(talker.pending('error').filter((e) => e.code !== 'rate_limited')).toEqual([]);
    await bystandersUnaffected();
  });
});

describe('anonymous sockets and client addresses', () => {
  const extra: TestServer[] = [];
  afterEach(async () => {
    for (const s of extra.splice(0)) await s.close();
  });
  async function server(flags: string[]): Promise<TestServer> {
    const s = await startServer(flags);
    extra.push(s);
    return s;
  }
  /** A socket from `localAddress`, with extra upgrade headers; resolves once it is open. */
  async function socketFrom(
    s: TestServer,
    localAddress: string,
    headers: Record<string, string> = {},
    path = '/',
  ) {
    const c = new TestClient(s.url(path), { localAddress, headers });
    await c.opened;
    return c;
  }
  /** The upgrade is refused: the HTTP status it got. */
  async function refusedStatus(
    s: TestServer,
    localAddress: string,
    headers: Record<string, string> = {},
  ) {
    const c = new TestClient(s.url('/'), { localAddress, headers });
    const err = await c.opened.then(
      () => new Error('opened'),
      (e: unknown) => e as Error,
    );
    return /Unexpected server response: (\d+)/.exec(err.message)?.[1];
  }
  const addressesOf = (s: TestServer) =>
    [...(s.server.gateway as unknown as { sessions: Set<Session> }).sessions].map(
      (x) => x.remoteAddress,
    );

  it('closes sockets that do not sign in before the login deadline (4010), in every dialect', async () => {
    expect(ts.server.ctx.config.loginTimeoutMs).toBe(10_000);
    const s = await server(['--login-timeout-ms', '600']);
    const opened = Date.now();
    const native = await TestClient.open(s.url('/'));
    const o2o = await TestClient.open(s.url('/call'));
    const chatty = await TestClient.open(s.url('/'));
    // Talking (app pings, WebSocket pings) is not signing in.
    const talk = setInterval(() => {
      if (chatty.ws.readyState !== chatty.ws.OPEN) return;
      chatty.send({ type: 'ping' });
      chatty.ws.ping();
    }, 50);
    const user = await TestClient.open(s.url('/'));
    user.send({ type: 'login', name: 'prompt', protocol: 1 });
    expect((await user.next('login')).success).toBe(true);
    try {
      for (const c of [native, o2o, chatty]) expect(await c.closed).toBe(4010);
    } finally {
      clearInterval(talk);
    }
    expect(Date.now() - opened).toBeGreaterThanOrEqual(600);
    // The one that signed in is still there, long past the deadline.
    await user.settle();
    expect(user.closeCode).toBeUndefined();
    expect(s.server.ctx.stats.closes.get(4010)).toBe(3);
    expect(s.server.gateway.size).toBe(1);
    await bystandersUnaffected();
  });

  it('caps open connections per address (HTTP 429), freeing a place when one closes', async () => {
    const s = await server(['--max-connections-per-ip', '3']);
    const mine = [
      await socketFrom(s, '127.0.0.1'),
      await socketFrom(s, '127.0.0.1'),
      await socketFrom(s, '127.0.0.1'),
    ];
    expect(await refusedStatus(s, '127.0.0.1')).toBe('429');
    // Another address has its own allowance.
    const other = await socketFrom(s, '127.0.0.2');
    other.send({ type: 'login', name: 'elsewhere', protocol: 1 });
    expect((await other.next('login')).success).toBe(true);
    mine[0]!.close();
    await mine[0]!.closed;
    // The count drops when the TCP socket is gone, a moment after the close handshake.
    await until(() => s.server.gateway.size === 3);
    let again: TestClient | undefined;
    await until(() => {
      if (again === undefined) {
        const c = new TestClient(s.url('/'), { localAddress: '127.0.0.1' });
        c.opened.then(
          () => (again = c),
          () => undefined,
        );
      }
      return again !== undefined;
    });
    expect(again!.ws.readyState).toBe(again!.ws.OPEN);
    await bystandersUnaffected();
  });

  it('believes Forwarded / X-Forwarded-For only from trusted proxies; IPv6 clients count per /64', async () => {
    const s = await server([
      '--trusted-proxies',
      '127.0.0.1,10.0.0.0/8',
      '--max-connections-per-ip',
      '2',
    ]);
    // Through the proxy: the client is the rightmost address that is not a trusted proxy.
    const a1 = await socketFrom(s, '127.0.0.1', { 'x-forwarded-for': '198.51.100.7, 10.1.2.3' });
    await socketFrom(s, '127.0.0.1', { 'x-forwarded-for': '203.0.113.1, 198.51.100.7' });
    expect(await refusedStatus(s, '127.0.0.1', { 'x-forwarded-for': '198.51.100.7' })).toBe('429');
    await socketFrom(s, '127.0.0.1', { forwarded: 'for=192.0.2.60;proto=http, for=10.0.0.9' });
    // Two IPv6 clients in one /64 share an allowance; the next /64 does not.
    await socketFrom(s, '127.0.0.1', { forwarded: 'for="[2001:db8::1]:4711"' });
    await socketFrom(s, '127.0.0.1', { forwarded: 'for="[2001:db8::2]"' });
    expect(await refusedStatus(s, '127.0.0.1', { forwarded: 'for="[2001:db8::ffff:3]"' })).toBe(
      '429',
    );
    await socketFrom(s, '127.0.0.1', { forwarded: 'for="[2001:db8:0:1::1]"' });
    // Not from a trusted proxy: the headers are the client's own words, and ignored.
    await socketFrom(s, '127.0.0.2', { 'x-forwarded-for': '198.51.100.7' });
    await socketFrom(s, '127.0.0.2', { forwarded: 'for=198.51.100.7' });
    expect(await refusedStatus(s, '127.0.0.2', { 'x-forwarded-for': '203.0.113.99' })).toBe('429');
    // The proxy itself, without a header, is counted as itself.
    await socketFrom(s, '127.0.0.1');
    expect(addressesOf(s).sort()).toEqual(
      [
        '198.51.100.7',
        '198.51.100.7',
        '192.0.2.60',
        '2001:db8::1',
        '2001:db8::2',
        '2001:db8:0:1::1',
        '127.0.0.2',
        '127.0.0.2',
        '127.0.0.1',
      ].sort(),
    );
    a1.send({ type: 'login', name: 'proxied', protocol: 1 });
    expect((await a1.next('login')).success).toBe(true);
    await bystandersUnaffected();
  });
});
