/**
 * HTTP on the signaling port: health, readiness, Prometheus metrics, the public config, and
 * the web app with security headers (a Content-Security-Policy without inline script).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import { runsFromClone } from '../data-dir.js';
import { registerNotFound } from './not-found.js';
import { registerPublicConfig } from './public-config.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "font-src 'self'",
  // The installable app: its manifest and its service worker (/sw.js), from this origin only.
  "manifest-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(self), microphone=(self), display-capture=(self)',
  'cross-origin-opener-policy': 'same-origin',
};

export interface RouteDeps {
  readonly config: Config;
  readonly registry: Registry;
  readonly ready: () => boolean;
}

/**
 * The built web app: --web-root; else, for an installed `callwire`, the copy inside this package
 * (dist/web, made by the build for the tarball). In a clone, packages/web/dist comes first: it is
 * what `vite build` (and the browser suites' rebuild) refreshes, and the copy may lag behind it.
 */
export function webRoot(config: Config): string | undefined {
  const bundled = fileURLToPath(new URL('../web/', import.meta.url));
  const workspace = fileURLToPath(new URL('../../../web/dist/', import.meta.url));
  const candidates =
    config.webRoot !== undefined
      ? [config.webRoot]
      : runsFromClone()
        ? [workspace, bundled]
        : [bundled, workspace];
  return candidates.find((dir) => existsSync(`${dir}/index.html`));
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.addHook('onSend', async (_req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
  });

  registerNotFound(app);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (deps.ready()) return { status: 'ready' };
    return reply.code(503).send({ status: 'not_ready' });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  registerPublicConfig(app, deps.config);

  const root = webRoot(deps.config);
  if (root === undefined) {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('callwire is running. The web app is not built: run `npm run build`.\n'),
    );
    return;
  }
  void app.register(fastifyStatic, { root, index: ['index.html'], wildcard: true });
  // Meet by link: /r/<room> is the app itself; the page reads the room from its URL.
  app.get('/r/:room', async (_req, reply) => reply.sendFile('index.html'));
  // "Test my connection" is the app too.
  app.get('/check', async (_req, reply) => reply.sendFile('index.html'));
}
