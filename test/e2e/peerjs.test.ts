/// <reference lib="dom" />
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallwire, type CallwireProcess } from './support/callwire-process.js';
import { launchChromium } from './support/chromium.js';
import { Cleanup } from './support/cleanup.js';
import { repoRoot } from './support/paths.js';
import { assertLoopbackOnlyNetwork } from './support/ports.js';
import { serveStatic, type StaticServer } from './support/static-server.js';
import { RedisServer } from '../../packages/server/test/store-redis-server.js';

/*
 * The real `peerjs` client (its published browser bundle, served unchanged from node_modules)
 * in Chromium with a fake camera, against callwire started as `npm start` starts it. The only
 * change a PeerJS app makes is its server options: host, port and path of callwire.
 *
 * The same suite runs twice: against one callwire, and against two nodes of one Redis with
 * alice's peers on one node and everyone else on the other, so every connection, call and
 * message crosses nodes.
 */

// What the test page keeps for the test to read (written by the snippets the test evaluates).
interface PeerLog {
  opened?: string | undefined;
  errors: string[];
  data: unknown[];
  connections: number;
}
declare global {
  interface Window {
    peerjs: { Peer: new (...args: unknown[]) => PeerLike };
    signaling: { host: string; port: number; path: string; secure: boolean; debug: number };
    peers: Record<string, PeerLike>;
    logs: Record<string, PeerLog>;
    makePeer(name: string, id?: string, port?: number): void;
  }
}
interface PeerLike {
  id: string;
  on(event: string, f: (...args: never[]) => void): void;
  connect(id: string, options?: Record<string, unknown>): ConnLike;
  call(id: string, stream: MediaStream): CallLike;
  destroy(): void;
}
interface ConnLike {
  on(event: string, f: (...args: never[]) => void): void;
  send(data: unknown): void;
}
interface CallLike {
  on(event: string, f: (...args: never[]) => void): void;
  answer(stream: MediaStream): void;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>peerjs on callwire</title>
<script src="/peerjs.min.js"></script>
<script src="/page.js"></script></head><body></body></html>`;

// The page's own helper: every Peer it makes records what the test asserts on.
const PAGE_JS = `
window.peers = {};
window.logs = {};
window.makePeer = function (name, id, port) {
  const log = { errors: [], data: [], connections: 0 };
  window.logs[name] = log;
  const options = port === undefined ? window.signaling : { ...window.signaling, port };
  const peer = id === undefined ? new peerjs.Peer(options) : new peerjs.Peer(id, options);
  window.peers[name] = peer;
  peer.on('open', (opened) => { log.opened = opened; });
  peer.on('error', (err) => { log.errors.push(err.type); });
  peer.on('connection', (conn) => {
    log.connections++;
    conn.on('data', (d) => {
      log.data.push(d instanceof ArrayBuffer ? { bytes: Array.from(new Uint8Array(d)) } : d);
      if (d && d.echo) conn.send({ echoed: d.echo, via: conn.serialization });
    });
  });
};
`;

describe.each(['one node', 'two nodes'] as const)('the PeerJS client against callwire, %s', (topology) => {
  const cleanup = new Cleanup();
  let server: CallwireProcess;
  /** alice's node; everyone else's is `server`'s (the same one on one node). */
  let aliceServer: CallwireProcess;
  let site: StaticServer;
  let browser: Browser;
  let page: Page;

  const opened = (name: string) =>
    page
      .waitForFunction((n) => window.logs[n]?.opened, name)
      .then((h) => h.jsonValue() as Promise<string>);
  const errorSeen = (name: string, type: string) =>
    page.waitForFunction(([n, t]) => window.logs[n]?.errors.includes(t), [name, type] as const);

  beforeAll(async () => {
    assertLoopbackOnlyNetwork();
    const args = ['--port', '0', '--peerjs-expire-ms', '1500', '--peerjs-discovery', 'on'];
    if (topology === 'one node') {
      server = await startCallwire({ args });
      cleanup.add('callwire', () => server.stop());
      aliceServer = server;
    } else {
      const redis = new RedisServer();
      await redis.start();
      cleanup.add('redis', () => redis.stop());
      const clustered = [...args, '--redis', redis.url];
      [server, aliceServer] = await Promise.all([
        startCallwire({ args: clustered }),
        startCallwire({ args: clustered }),
      ]);
      cleanup.add('callwire', () => server.stop());
      cleanup.add('callwire (alice)', () => aliceServer.stop());
      // Both in step with the cluster before the first peer signs in.
      const deadline = Date.now() + 15_000;
      for (const node of [server, aliceServer]) {
        while ((await fetch(`http://127.0.0.1:${node.port}/readyz`)).status !== 200) {
          if (Date.now() > deadline) throw new Error('the nodes did not get ready');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    const bundle = readFileSync(
      path.join(repoRoot, 'node_modules', 'peerjs', 'dist', 'peerjs.min.js'),
      'utf8',
    );
    site = await serveStatic({
      '/': { body: PAGE, contentType: 'text/html; charset=utf-8' },
      '/peerjs.min.js': { body: bundle, contentType: 'text/javascript; charset=utf-8' },
      '/page.js': { body: PAGE_JS, contentType: 'text/javascript; charset=utf-8' },
    });
    cleanup.add('static site', () => site.close());
    browser = await launchChromium();
    cleanup.add('chromium', () => browser.close());
    page = await browser.newPage();
    await page.goto(site.url('/'));
    // The one change a PeerJS app makes: where its server is.
    await page.evaluate((port) => {
      window.signaling = { host: 'localhost', port, path: '/', secure: false, debug: 0 };
    }, server.port);
  });
  afterAll(async () => {
    await cleanup.run();
  });

  it('opens a chosen id and a server-assigned one; a taken id is unavailable-id', async () => {
    await page.evaluate((port) => window.makePeer('alice', 'alice-1', port), aliceServer.port);
    expect(await opened('alice')).toBe('alice-1');
    await page.evaluate(() => window.makePeer('bob'));
    expect(await opened('bob')).toMatch(/^[0-9a-f-]{36}$/);
    await page.evaluate(() => window.makePeer('thief', 'alice-1'));
    await errorSeen('thief', 'unavailable-id');
    expect(await page.evaluate(() => window.logs['thief']!.opened)).toBeUndefined();
  });

  it('carries binary and JSON data both ways over data connections', async () => {
    const bobId = await opened('bob');
    const replies = await page.evaluate(async (to) => {
      const alice = window.peers['alice']!;
      const got: unknown[] = [];
      const open = (serialization: string) =>
        new Promise<ConnLike>((resolve) => {
          const conn = alice.connect(to, { serialization });
          conn.on('data', (d: never) => got.push(d));
          conn.on('open', () => resolve(conn));
        });
      const binary = await open('binary');
      const json = await open('json');
      binary.send(new Uint8Array([0, 1, 2, 254, 255]).buffer);
      binary.send({ echo: 'bin' });
      json.send({ echo: 'json', n: 42 });
      const deadline = Date.now() + 15_000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return got;
    }, bobId);
    expect(replies).toEqual(
      expect.arrayContaining([
        { echoed: 'bin', via: 'binary' },
        { echoed: 'json', via: 'json' },
      ]),
    );
    const bob = await page.evaluate(() => window.logs['bob']!);
    expect(bob.connections).toBe(2);
    expect(bob.data).toEqual(
      expect.arrayContaining([
        { bytes: [0, 1, 2, 254, 255] },
        { echo: 'bin' },
        { echo: 'json', n: 42 },
      ]),
    );
  });

  it('carries a video call both ways: each side plays the other camera', async () => {
    const bobId = await opened('bob');
    const played = await page.evaluate(async (to) => {
      const camera = () => navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      const plays = async (stream: MediaStream) => {
        const video = document.createElement('video');
        video.muted = true;
        video.srcObject = stream;
        document.body.append(video);
        await video.play();
        const start = video.currentTime;
        const deadline = Date.now() + 15_000;
        while (
          (video.videoWidth === 0 || video.currentTime <= start + 0.2) &&
          Date.now() < deadline
        ) {
          await new Promise((r) => setTimeout(r, 50));
        }
        return { width: video.videoWidth, advanced: video.currentTime > start };
      };
      const [aliceCam, bobCam] = await Promise.all([camera(), camera()]);
      const atBob = new Promise<{ width: number; advanced: boolean }>((resolve) => {
        window.peers['bob']!.on('call', (call: CallLike) => {
          call.answer(bobCam);
          call.on('stream', (remote: MediaStream) => resolve(plays(remote)));
        });
      });
      const call = window.peers['alice']!.call(to, aliceCam);
      const atAlice = new Promise<{ width: number; advanced: boolean }>((resolve) =>
        call.on('stream', (remote: MediaStream) => resolve(plays(remote))),
      );
      return Promise.all([atAlice, atBob]);
    }, bobId);
    for (const side of played) {
      expect(side.width).toBeGreaterThan(0);
      expect(side.advanced).toBe(true);
    }
  });

  it('reports peer-unavailable for an id nobody has', async () => {
    await page.evaluate(() => {
      window.peers['alice']!.connect('nobody-here');
    });
    await errorSeen('alice', 'peer-unavailable');
  });

  it('frees an id when its peer is destroyed', async () => {
    await page.evaluate(() => window.peers['alice']!.destroy());
    // Once the server has seen the socket close (discovery lists the ids it holds), the id is
    // anyone's.
    const listed = async () =>
      (await (await fetch(`http://127.0.0.1:${server.port}/peerjs/peers`)).json()) as string[];
    await expect.poll(listed, { timeout: 10_000 }).not.toContain('alice-1');
    // Taken again on the other node (on two nodes): an id freed is free everywhere.
    await page.evaluate(() => window.makePeer('again', 'alice-1'));
    expect(await opened('again')).toBe('alice-1');
  });

  it('reconnects with the same id after its socket is dropped (peer.reconnect())', async () => {
    const bobId = await opened('bob');
    await page.evaluate(() => {
      const bob = window.peers['bob'] as PeerLike & { disconnect(): void; reconnect(): void };
      window.logs['bob']!.opened = undefined;
      bob.disconnect();
      bob.reconnect();
    });
    expect(await opened('bob')).toBe(bobId);
    // Reachable again under that id.
    const before = await page.evaluate(() => window.logs['bob']!.connections);
    await page.evaluate((to) => {
      window.peers['again']!.connect(to);
    }, bobId);
    await page.waitForFunction((n) => window.logs['bob']!.connections > n, before);
  });
});
