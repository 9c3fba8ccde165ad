import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { bundleHarness } from '../fixtures/sdk/support.js';
import { repoRoot } from './paths.js';

const fixture = path.join(repoRoot, 'test', 'e2e', 'fixtures', 'sdk');

export interface SdkPage {
  /** `http://<host>:<port>/`: the SDK test page (window.cw, see fixtures/sdk/harness.ts). */
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Serve the SDK's test page (bundled from its TypeScript sources) on `host`, for browsers that
 * are not on this machine's loopback (the NAT lab's hosts). The CSP forbids inline script and
 * eval as production does, and allows WebSockets to `host` only. Such an origin is not a secure
 * context by itself: launch Chromium with `--unsafely-treat-insecure-origin-as-secure=<origin>`.
 */
export async function serveSdkPage(host: string): Promise<SdkPage> {
  const js = await bundleHarness();
  const html = readFileSync(path.join(fixture, 'index.html'), 'utf8');
  // CSP host sources cannot name an IPv6 address: a page on one may use any ws: URL.
  const v6 = host.includes(':');
  const wsSource = v6 ? 'ws:' : `ws://${host}:*`;
  const csp = `default-src 'self'; script-src 'self'; connect-src 'self' ${wsSource}; media-src 'self' blob:`;
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://page').pathname;
    const body = pathname === '/' ? html : pathname === '/harness.js' ? js : undefined;
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response
      .writeHead(200, {
        'content-type': `${pathname === '/' ? 'text/html' : 'text/javascript'}; charset=utf-8`,
        'content-security-policy': csp,
        'cache-control': 'no-store',
      })
      .end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${v6 ? `[${host}]` : host}:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
