/**
 * buildServer(config): everything a callwire node is, wired together, without listening.
 * Tests build one on port 0; the CLI builds one from flags. HTTP and WebSocket share a port.
 */
import { createServer, type Server as HttpServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Engine } from './calls/engine.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { registerRoutes } from './http/routes.js';
import { Hub } from './hub.js';
import { iceServersFor } from './ice.js';
import { createLogger } from './logger.js';
import { Stats, createRegistry } from './metrics.js';
import { Gateway } from './ws/gateway.js';

export interface CallwireServer {
  readonly ctx: Context;
  readonly http: FastifyInstance;
  readonly gateway: Gateway;
  /** Bind (both loopback addresses by default). Resolves with the port. */
  listen(): Promise<{ port: number; addresses: string[] }>;
  /** SIGTERM behaviour: stop accepting, tell clients to reconnect, close 1012, then stop. */
  drain(): Promise<void>;
  /** Stop at once. Idempotent. */
  close(): Promise<void>;
}

export interface BuildOptions {
  readonly logger?: Logger;
}

export function buildServer(config: Config, options: BuildOptions = {}): CallwireServer {
  const log = options.logger ?? createLogger(config.logLevel);
  const stats = new Stats();
  const hub = new Hub({
    presence: config.presence,
    broadcastBelow: config.presenceBroadcastBelow,
    loginListMax: 100,
  });
  const engine = new Engine(hub, stats, log, {
    ringTimeoutMs: config.ringTimeoutMs,
    heldMax: config.heldMax,
    invites: { burst: config.invitesPerMinute, perSecond: config.invitesPerMinute / 60 },
  });
  const ctx: Context = {
    config,
    hub,
    engine,
    stats,
    log,
    iceServers: (name) => iceServersFor(config, name),
  };
  const gateway = new Gateway(ctx);
  const registry = createRegistry(stats, { online: () => hub.size, activeCalls: () => engine.activeCalls });

  let handler: RequestListener | undefined;
  const servers: HttpServer[] = [];
  const makeServer = (h: RequestListener): HttpServer => {
    const server = createServer(h);
    server.on('upgrade', gateway.handleUpgrade);
    servers.push(server);
    return server;
  };
  // Fastify's own logger type is the narrower base of pino's.
  const httpLog: FastifyBaseLogger = log;
  const http = Fastify({
    loggerInstance: httpLog,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    serverFactory: (h) => {
      handler = h;
      return makeServer(handler);
    },
  });
  let state: 'idle' | 'listening' | 'draining' | 'closed' = 'idle';
  registerRoutes(http, { config, registry, ready: () => state === 'listening' });

  const listenOn = (server: HttpServer, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const closeServers = async () => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  };

  return {
    ctx,
    http,
    gateway,
    async listen() {
      await http.ready();
      const primary = http.server;
      const addresses: string[] = [];
      let port: number;
      if (config.host !== undefined) {
        port = await listenOn(primary, config.port, config.host);
        addresses.push(config.host);
      } else {
        // Loopback only, as a browser means it by "localhost": IPv4 and IPv6 on one port.
        port = await listenOn(primary, config.port, '127.0.0.1');
        addresses.push('127.0.0.1');
        try {
          await listenOn(makeServer(handler!), port, '::1');
          addresses.push('::1');
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'IPv6 loopback unavailable; listening on 127.0.0.1 only');
          servers.pop();
        }
      }
      state = 'listening';
      log.info({ port, addresses }, 'listening');
      return { port, addresses };
    },
    async drain() {
      if (state === 'closed' || state === 'draining') return;
      state = 'draining';
      log.info({ connections: gateway.size }, 'draining');
      for (const s of servers) if (s.listening) s.close();
      await gateway.drain(config.shutdownTimeoutMs - 1000);
      await this.close();
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      gateway.close();
      await closeServers();
      await http.close();
    },
  };
}
