/// <reference lib="dom" />
import dgram from 'node:dgram';
import { turnCredentials } from 'callwire';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { Cleanup } from './support/cleanup.js';
import { startCoturn, type Coturn, type CoturnOptions } from './support/coturn.js';
import { deployCoturnConfig } from './support/deploy-coturn.js';
import { addNamespaceAddresses } from './support/namespace-addresses.js';
import { connectRelayPair, probeThroughRelay, type ProbeTarget } from './support/relay-probe.js';
import { serveStatic, type StaticServer } from './support/static-server.js';

/*
 * docs/DEPLOY.md's coturn configuration, run as written (minus the lines that name the
 * site: addresses, secret, certificates, logs): it must relay calls between ordinary
 * addresses and refuse to relay into loopback and private networks.
 *
 * Hosts are stood in for by extra addresses on the namespace's `lo` (the suite runs in its
 * own loopback-only namespace; none of these addresses exists anywhere else). ORDINARY is an
 * address outside every denied range, as a TURN server's public address would be.
 */
const ORDINARY = '11.0.0.1';
const INTERNAL = [
  '127.0.0.1',
  '10.1.2.3',
  '172.20.0.5',
  '192.168.1.9',
  '100.64.0.9',
  '169.254.169.254',
];
/** A second ordinary host: the control that proves checks are being relayed at all. */
const CONTROL = '11.0.0.2';

function deployConfig(): string {
  const config = deployCoturnConfig();
  expect(config).toContain('denied-peer-ip=10.0.0.0-10.255.255.255');
  return config;
}

/** A UDP service on `ip`, remembering whether anything reached it. */
interface Listener {
  ip: string;
  port: number;
  packets: number;
  /** Resolves once `count` packets have arrived; rejects after `timeoutMs`. */
  received(count: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

async function listen(ip: string): Promise<Listener> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, ip, resolve);
  });
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const listener: Listener = {
    ip,
    port: socket.address().port,
    packets: 0,
    received: (count, timeoutMs = 15_000) => {
      if (listener.packets >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${ip} received ${listener.packets} of ${count} packets in ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: () => socket.close(),
  };
  socket.on('message', () => {
    listener.packets++;
    for (const waiter of waiters.filter((w) => listener.packets >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  return listener;
}

describe("docs/DEPLOY.md's coturn configuration", () => {
  const cleanup = new Cleanup();
  let each = new Cleanup();
  let browser: Browser;
  let site: StaticServer;
  let coturn: Coturn | undefined;

  beforeAll(async () => {
    const removeAddresses = await addNamespaceAddresses([ORDINARY, CONTROL, ...INTERNAL.slice(1)]);
    cleanup.add('namespace addresses', removeAddresses);
    site = await serveStatic({
      '/': { body: '<!doctype html><title>relay probe</title>', contentType: 'text/html' },
    });
    cleanup.add('static site', () => site.close());
    browser = await launchChromium();
    cleanup.add('chromium', () => browser.close());
  });
  afterEach(async () => {
    await each.run();
    each = new Cleanup();
    coturn = undefined;
  });
  afterAll(() => cleanup.run());

  async function start(
    options: CoturnOptions,
  ): Promise<{ page: Page; iceServers: RTCIceServer[] }> {
    const server = await startCoturn(options);
    coturn = server;
    each.add('coturn', () => server.stop());
    const context = await browser.newContext();
    each.add('context', () => context.close());
    const page = await context.newPage();
    await page.goto(site.url('/'));
    const { username, credential } = turnCredentials(server.secret, 'probe', 3600);
    return { page, iceServers: [{ urls: [server.url], username, credential }] };
  }

  /**
   * Points relayed connectivity checks at a UDP service on every internal address and one
   * ordinary control host (checked last: lowest priority), and resolves once the control
   * has received three of them, by which time every internal target has been tried.
   */
  async function probeInternalAddresses(
    page: Page,
    iceServers: RTCIceServer[],
  ): Promise<Listener[]> {
    const internal = await Promise.all(INTERNAL.map(listen));
    const control = await listen(CONTROL);
    for (const listener of [...internal, control])
      each.add(`listener ${listener.ip}`, () => listener.close());
    const targets: ProbeTarget[] = [
      ...internal.map(({ ip, port }, i) => ({ ip, port, priority: 2_000_000_000 - i })),
      { ip: control.ip, port: control.port, priority: 1 },
    ];
    await page.evaluate(probeThroughRelay, { iceServers, targets });
    await control.received(3);
    return internal;
  }

  const diagnostics = (): string =>
    ['--- coturn output', ...(coturn?.output.slice(-60) ?? [])].join('\n');

  it('relays a call between two ordinary addresses', async () => {
    onTestFailed(() => console.error(diagnostics()));
    const { page, iceServers } = await start({
      config: deployConfig(),
      relayIp: ORDINARY,
      allowLoopbackPeers: false,
    });
    expect(await page.evaluate(connectRelayPair, iceServers)).toBe('connected');
  });

  it('relays nothing to loopback, private, shared or link-local addresses', async () => {
    onTestFailed(() => console.error(diagnostics()));
    const { page, iceServers } = await start({
      config: deployConfig(),
      relayIp: ORDINARY,
      allowLoopbackPeers: false,
    });
    const internal = await probeInternalAddresses(page, iceServers);
    expect(internal.map(({ ip, packets }) => ({ ip, packets }))).toEqual(
      INTERNAL.map((ip) => ({ ip, packets: 0 })),
    );
  });

  it('(the danger it prevents) a coturn without the deny list relays into the private network', async () => {
    onTestFailed(() => console.error(diagnostics()));
    const { page, iceServers } = await start({ relayIp: ORDINARY, allowLoopbackPeers: false });
    const internal = await probeInternalAddresses(page, iceServers);
    const reached = internal.filter(({ packets }) => packets > 0).map(({ ip }) => ip);
    expect(reached).toEqual(expect.arrayContaining(['10.1.2.3', '172.20.0.5', '192.168.1.9']));
  });
});
