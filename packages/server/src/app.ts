/**
 * buildServer(config): everything a callwire node is, wired together, without listening.
 * Tests build one on port 0; the CLI builds one from flags. HTTP and WebSocket share a port.
 */
import { createServer, type Server as HttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CLOSE } from '@callwire/protocol';
import { Authenticator } from './auth/authenticator.js';
import { SessionGuard } from './auth/session-guard.js';
import { SessionTokens } from './auth/session-tokens.js';
import { Engine } from './calls/engine.js';
import { Cluster } from './cluster/cluster.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { registerApi } from './http/api.js';
import { Devices } from './devices.js';
import { registerRoutes } from './http/routes.js';
import { registerPeerjsApi } from './http/peerjs-api.js';
import { PeerjsRelay } from './dialects/peerjs-relay.js';
import { LocalDirectory } from './directory.js';
import { Hub } from './hub.js';
import { iceServersFor } from './ice.js';
import { createLogger } from './logger.js';
import { Stats, createRegistry } from './metrics.js';
import { Recorder } from './records/recorder.js';
import { DAY_MS, createStore } from './stores/open-store.js';
import { isStoreUnavailable } from './stores/store.js';
import { HSTS, loadTls, tlsEnabled, type TlsMaterial } from './tls.js';
import { Gateway } from './ws/gateway.js';
import { WriteBatch } from './ws/write-batch.js';
import { Resumer } from './resume.js';

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
  const store = createStore(config, log);
  const records = new Recorder(store, log, stats, {
    mode: config.auth,
    retentionMs: config.recordsRetentionDays * DAY_MS,
  });
  const hub = new Hub({
    presence: config.presence,
    broadcastBelow: config.presenceBroadcastBelow,
    tickMs: config.presenceTickMs,
    loginListMax: 100,
  });
  const engine = new Engine((key) => hub.devices(key), stats, log, {
    ringTimeoutMs: config.ringTimeoutMs,
    queueMax: config.queueMax,
    invites: { burst: config.invitesPerMinute, perSecond: config.invitesPerMinute / 60 },
    onPartyStatus: (party) => hub.refresh(party),
    onCallEnded: (end) => records.ended(end),
    onReport: (party, callId, path, ref) => records.report(party, callId, path, ref),
  });
  const sessionTokens = new SessionTokens(config.dataDir, config.sessionTokenTtlSeconds);
  const resumer = new Resumer(config.resumeGraceMs);
  const writes = new WriteBatch();
  // --redis: this node joins a cluster (the store is separate: --store).
  const cluster =
    config.redis === undefined
      ? undefined
      : new Cluster(
          {
            url: config.redis,
            nodeTtlMs: config.nodeTtlMs,
            heartbeatMs: config.clusterHeartbeatMs,
            nameTtlMs: config.nameTtlMs,
            presence: config.presence,
            queueMax: config.queueMax,
            loginListMax: 100,
            maxDevices: config.auth === 'open' ? 1 : config.maxDevices,
          },
          { hub, engine, stats, log, resumer, writes, identityOf: (s) => ctx.guard.identityOf(s) },
        );
  const auth = new Authenticator(config, store, log, sessionTokens);
  const guard = new SessionGuard(
    store,
    log,
    config.userCheckIntervalMs,
    config.auth === 'password',
    (session, why) => gateway.endSession(session, CLOSE.unauthorized, why),
  );
  const peerjs =
    config.peerjs === undefined
      ? undefined
      : new PeerjsRelay({
          config: config.peerjs,
          authMode: config.auth,
          auth,
          guard,
          stats,
          log,
          queueMax: config.queueMax,
        });
  if (peerjs !== undefined) cluster?.attachPeerjs(peerjs);
  const ctx: Context = {
    config,
    hub,
    engine,
    stats,
    log,
    store,
    auth,
    guard,
    records,
    sessionTokens,
    resumer,
    writes,
    directory: cluster ?? new LocalDirectory(hub),
    loggingIn: new WeakSet(),
    iceServers: (name) => iceServersFor(config, name),
    endSession: (session, code, reason) => gateway.endSession(session, code, reason),
    devices: new Devices(hub, sessionTokens, (session, code, reason) =>
      gateway.endSession(session, code, reason),
    ),
    peerjs,
  };
  hub.onDevices = (key, membership) => ctx.devices.changed(key, membership);
  cluster?.attachDevices(ctx.devices);
  const gateway = new Gateway(ctx);
  const registry = createRegistry(stats, {
    online: () => hub.size,
    activeCalls: () => engine.activeCalls,
    peerjsPeers: () => peerjs?.size ?? 0,
  });

  let handler: RequestListener | undefined;
  const servers: Array<HttpServer | HttpsServer> = [];
  const secure = tlsEnabled(config);
  // With TLS the key and certificate are loaded (or made) in listen(); until then the server
  // exists without them (and is not listening).
  let tls: TlsMaterial | undefined;
  const makeServer = (h: RequestListener): HttpServer => {
    const server = secure ? createHttpsServer(tls ? { key: tls.key, cert: tls.cert } : {}, h) : createServer(h);
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
  registerRoutes(http, {
    config,
    registry,
    // A cluster node is ready once it is in step with the cluster (Redis reachable).
    ready: () => state === 'listening' && (cluster?.ready ?? true),
  });
  registerApi(http, { mode: config.auth, store, tokens: sessionTokens, devices: ctx.devices });
  if (peerjs !== undefined && config.peerjs !== undefined) {
    registerPeerjsApi(http, config.peerjs, peerjs);
  }
  if (secure) {
    http.addHook('onSend', async (_req, reply) => {
      reply.header('strict-transport-security', HSTS);
    });
  }

  const listenOn = (server: HttpServer | HttpsServer, port: number, host: string) =>
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
      try {
        await store.open();
      } catch (err) {
        // Redis may come later (ioredis keeps trying); logins answer service_unavailable until
        // it does. An embedded store that cannot be opened is a broken data directory: fatal.
        if (!(store.kind === 'redis' && isStoreUnavailable(err))) throw err;
        log.warn({ err: (err as Error).message }, 'store unavailable at start; retrying in the background');
      }
      void records.prune();
      // A single node takes back the sessions its previous process kept when it was drained.
      if (cluster === undefined) await gateway.restore();
      if (secure) {
        tls = await loadTls(config);
        if (tls === undefined) throw new Error('TLS is on but no certificate was loaded');
        (http.server as unknown as HttpsServer).setSecureContext({ key: tls.key, cert: tls.cert });
        log.info(
          { certificate: tls.certFile, selfSigned: tls.selfSigned, fingerprint256: tls.fingerprint256 },
          'tls: serving https and wss',
        );
      }
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
      // Joining happens in the background: until Redis answers, the node is up but not ready.
      cluster?.start();
      state = 'listening';
      log.info(
        { port, addresses, tls: secure, auth: config.auth, store: store.kind, node: cluster?.nodeId },
        'listening',
      );
      return { port, addresses };
    },
    async drain() {
      if (state === 'closed' || state === 'draining') return;
      state = 'draining';
      log.info({ connections: gateway.size }, 'draining');
      for (const s of servers) if (s.listening) s.close();
      // A cluster hands sessions to the other nodes; a single node keeps them for its restart.
      await gateway.drain(config.shutdownTimeoutMs - 1000, { park: cluster === undefined });
      await this.close();
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      gateway.close();
      peerjs?.close();
      ctx.guard.close();
      ctx.auth.close();
      await closeServers();
      await http.close();
      await cluster?.close();
      await records.close();
      await store.close();
    },
  };
}
