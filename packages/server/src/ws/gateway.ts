/**
 * The WebSocket edge: decides before the upgrade whether a request may become a socket (path,
 * Origin, draining), turns accepted sockets into sessions, meters their input (token bucket),
 * keeps them alive (heartbeat) and cleans up when they go, whichever way they go.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { CLOSE, ErrorCodes, MALFORMED_POLICY } from '@callwire/protocol';
import type { Context } from '../context.js';
import { handleNativeFrame } from '../dialects/native-router.js';
import { handleOne2OneFrame } from '../dialects/one2one-router.js';
import { one2oneDialect } from '../dialects/one2one-encode.js';
import { peerjsDialect } from '../dialects/peerjs-encode.js';
import type { Dialect } from '../dialects/dialect.js';
import { iceRefreshAfterMs } from '../ice.js';
import { isOriginAllowed } from './origin.js';
import { ClientAddresses } from './client-address.js';
import { networkKey } from '../auth/throttle.js';
import { newBucket, take } from '../rate-limit.js';
import { Session, type SessionHost, type SessionLimits } from './session.js';
import { serve, type Connection, type ConnectionOwner, type FrameHandler } from './connection.js';
import { moreFramesPending } from './ws-internals.js';
import { announcePeerState } from '../calls/resume-view.js';
import { peerOf, roleOf } from '../calls/call.js';
import { nativeDialect, tutorialDialect } from '../dialects/native.js';
import { DETACHED_SOCKET, parkSessions, restoreSessions } from './restart.js';

/**
 * A WebSocket path and the dialect served there. Most dialects sign in with a message; one that
 * signs in from its URL (PeerJS) does so in `opened`, and `finished` tells it the session is over.
 */
interface Route {
  readonly handler: FrameHandler;
  readonly dialect: Dialect;
  readonly opened?: (session: Session, req: IncomingMessage) => void;
  readonly finished?: (session: Session) => void;
}

const ROUTES = new Map<string, Route>([
  ['/', { handler: handleNativeFrame, dialect: tutorialDialect }],
  ['/ws', { handler: handleNativeFrame, dialect: tutorialDialect }],
  ['/call', { handler: handleOne2OneFrame, dialect: one2oneDialect }],
  ['/one2one', { handler: handleOne2OneFrame, dialect: one2oneDialect }],
]);

/**
 * Close codes by which a client says it is leaving for good: a normal close (1000), a page
 * going away (1001: tab closed, navigation) and a close without a code (1005). Such a session
 * ends at once; any other close (1006 for a broken connection, 4000 `resuming` from an SDK that
 * drops a socket it means to resume from) keeps it for resume.
 */
const GOODBYE_CODES = new Set([1000, 1001, 1005]);

/**
 * The flood policy. Frames above the sustained rate are dropped (`rate_limited`); a client that
 * goes on sending above it is closed (4029) once this much more than the sustained rate allows
 * has arrived. It is a second bucket over every frame received, dropped or not, with the
 * sustained rate and a deeper burst: over any stretch of T seconds a client may send
 * `burst + perSecond * (T + FLOOD_WINDOW_S)` frames. A count of drops "in a row" (what this
 * replaced) was reset by every frame that got through, so 300 frames then a 25 ms pause, in a
 * loop, was never closed. Sending at or under the sustained rate never empties this bucket.
 */
export const FLOOD_WINDOW_S = 10;

export class Gateway implements ConnectionOwner {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  private readonly limits: SessionLimits;
  /** What every session of this server shares: limits, the tick's write batch, callbacks. */
  private readonly host: SessionHost;
  private nextSessionId = 1;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly sweepMs: number;
  private lastSweepMs: number;
  private pendingSweep: NodeJS.Immediate | undefined;
  private draining = false;
  private readonly routes: Map<string, Route>;
  /** Sessions of routes that want to hear when a session is over. */
  private readonly finishers = new WeakMap<Session, (session: Session) => void>();
  private readonly addresses: ClientAddresses;
  /** Open connections (upgrading or upgraded) per client network (networkKey). */
  private readonly perNetwork = new Map<string, number>();

  constructor(private readonly ctx: Context) {
    const { config, directory } = ctx;
    // A cluster node may have to make a session's frames wait while it waits for Redis; a
    // single node's directory hands the handlers back as they are.
    const routes = new Map(ROUTES);
    const { peerjs } = ctx;
    if (peerjs !== undefined) {
      // `<peerjs-path>peerjs` always ends in "peerjs", so it cannot be one of the paths above.
      routes.set(peerjs.socketPath, {
        handler: (_ctx, session, text) => peerjs.frame(session, text),
        dialect: peerjsDialect,
        opened: (session, req) => peerjs.opened(session, req),
        finished: (session) => peerjs.closed(session),
      });
    }
    this.routes = new Map(
      [...routes].map(([path, r]) => [path, { ...r, handler: directory.wrap(r.handler) }]),
    );
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.limits = {
      messages: { burst: config.rateBurst, perSecond: config.ratePerSecond },
      flood: {
        burst: config.rateBurst + config.ratePerSecond * FLOOD_WINDOW_S,
        perSecond: config.ratePerSecond,
      },
      invites: { burst: config.invitesPerMinute, perSecond: config.invitesPerMinute / 60 },
      outboundCapBytes: config.outboundCapBytes,
      backlogMax: config.queueMax,
      malformed: { burst: MALFORMED_POLICY.strikes, perSecond: 1000 / MALFORMED_POLICY.forgiveMs },
    };
    this.host = {
      limits: this.limits,
      batch: ctx.writes,
      slowConsumer: (s) => this.slowConsumer(s),
      // Too much is waiting for an away session: it could not resume in order, so it ends
      // now (after the current message is handled) rather than at the end of its grace.
      backlogOverflow: (s) => setImmediate(() => s.state === 'away' && this.finish(s)),
      malformed: (s) => this.malformed(s),
      rebind: (from, to) => {
        const link = from.link!;
        this.sessions.delete(from);
        from.state = 'closed';
        from.link = null;
        link.session = to;
        to.link = link;
        this.sessions.add(to);
      },
    };
    // One timer for all sockets (not one per socket): ping the quiet ones, drop the silent.
    // Fine enough that a dead socket, a resume grace and a TURN refresh are each handled within
    // a second of their due time; cheap enough at 19k sockets (one loop, no allocation).
    this.addresses = new ClientAddresses(config.trustedProxies);
    const bounds = [config.pingIntervalMs, config.idleTimeoutMs, config.loginTimeoutMs, 3000];
    if (config.resumeGraceMs > 0) bounds.push(config.resumeGraceMs);
    const sweepMs = Math.max(25, Math.min(...bounds) / 3);
    this.sweepMs = sweepMs;
    this.lastSweepMs = Date.now();
    // The sweep judges silence from what the sockets have delivered, so it runs after the
    // event loop's next poll for I/O (setImmediate), not in the timer phase. After the process
    // was stalled (starved of CPU, a long GC, stopped, a paused VM) the timer fires first, while
    // the pings, pongs and logins that clients sent meanwhile still sit unread in the kernel:
    // judged then, every socket looks silent and is terminated (the soak found this on a
    // starved machine; see BENCHMARKS.md, "Soak").
    this.sweepTimer = setInterval(() => {
      this.pendingSweep = setImmediate(this.sweepAfterReads);
    }, sweepMs);
    this.sweepTimer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Attach to an HTTP(S) server's `upgrade` event. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A plain function, not a closure: a closure here would share its scope with the one that
    // captures `req` below and keep every upgrade request alive as long as its socket.
    socket.on('error', destroySocket);
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = this.routes.get(path);
    if (route === undefined) return reject(socket, 404, 'Not Found');
    if (this.draining) return reject(socket, 503, 'Service Unavailable');
    if (!isOriginAllowed(req, this.ctx.config)) return reject(socket, 403, 'Forbidden');
    const address = this.addresses.of(req);
    if (!this.admit(socket, address)) return reject(socket, 429, 'Too Many Requests');
    const upgrade = () =>
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, route, address));
    // A token offered with the upgrade (jwt mode) is checked first: a bad one gets 401 and
    // never becomes a socket.
    const check = this.ctx.auth.checkUpgrade(req);
    if (check === undefined) return upgrade();
    check.then(
      (ok) => {
        if (socket.destroyed) return;
        if (!ok) return reject(socket, 401, 'Unauthorized');
        if (this.draining) return reject(socket, 503, 'Service Unavailable');
        upgrade();
      },
      () => reject(socket, 500, 'Internal Server Error'),
    );
  };

  /**
   * Count a connection against its client's network, or refuse it when that network already
   * holds `--max-connections-per-ip`. The count drops when the TCP socket closes, however it
   * ends (refused, upgraded and closed, terminated).
   */
  private admit(socket: Duplex, address: string): boolean {
    const cap = this.ctx.config.maxConnectionsPerIp;
    if (cap === 0) return true;
    const key = networkKey(address);
    const open = this.perNetwork.get(key) ?? 0;
    if (open >= cap) {
      this.ctx.log.debug({ address }, 'connection cap reached: refused');
      return false;
    }
    this.perNetwork.set(key, open + 1);
    socket.once('close', () => {
      const n = (this.perNetwork.get(key) ?? 1) - 1;
      if (n <= 0) this.perNetwork.delete(key);
      else this.perNetwork.set(key, n);
    });
    return true;
  }

  private accept(ws: WebSocket, req: IncomingMessage, route: Route, address: string): void {
    const { ctx } = this;
    const session = new Session(
      this.nextSessionId++,
      ws,
      route.dialect,
      address,
      this.host,
      Date.now(),
    );
    this.sessions.add(session);
    ctx.auth.attach(session, req);
    ctx.stats.connections++;
    // The socket's listeners are shared by every socket (connection.ts): an idle connection
    // holds no closure of its own.
    session.link = serve(ws, session, route.handler, this);
    if (route.finished !== undefined) this.finishers.set(session, route.finished);
    route.opened?.(session, req);
  }

  /** @internal A frame arrived on `ws` (connection.ts). */
  message(conn: Connection, ws: WebSocket, data: RawData, isBinary: boolean): void {
    const { ctx } = this;
    const session = conn.session;
    const now = Date.now();
    session.lastSeenMs = now;
    if (!take(session.floodBucket, this.limits.flood, now)) return this.flood(session);
    if (!take(session.bucket, this.limits.messages, now)) return this.rateLimited(session, now);
    if (isBinary) {
      // Every dialect is JSON text: a binary frame is a client that speaks something else, and
      // answering it would only invite more. RFC 6455 7.4.1: 1003, "cannot accept this type".
      ctx.stats.closed(CLOSE.unsupportedData);
      return session.close(CLOSE.unsupportedData, 'binary frames are not supported');
    }
    // Replies and relays of a frame that is one of several in the same read are written
    // together at the end of the tick; a lone frame's are written at once.
    this.host.batch.coalescing = moreFramesPending(ws);
    try {
      conn.handler(ctx, session, (data as Buffer).toString());
    } catch (err) {
      // A bug must not take the server down or leak into other sessions; the client learns
      // that this one message failed.
      ctx.log.error({ err, session: session.id }, 'message handler failed');
      ctx.stats.error('internal_error');
      session.send({ t: 'error', code: 'internal_error', message: ErrorCodes.internal_error });
    }
  }

  /** @internal The socket failed (connection.ts). */
  socketError(conn: Connection, err: Error): void {
    // 1009 (too big) and protocol errors: ws closes the socket itself and stops reading, so
    // the close event reports 1006; count the 1009 here, where it is known.
    if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.ctx.stats.closed(CLOSE.messageTooBig);
    }
    this.ctx.log.debug({ err: err.message, session: conn.session.id }, 'socket error');
  }

  /** @internal The socket closed (connection.ts). */
  closed(session: Session, ws: WebSocket, code: number): void {
    this.ctx.stats.connections--;
    // A resumed session has moved to a newer socket: this one's close means nothing to it.
    if (session.ws !== ws || session.state === 'away') return;
    this.sessions.delete(session);
    // Already over (a cluster handed it to another node): nothing more to end here.
    if (session.state === 'closed') return;
    const { resumer } = this.ctx;
    if (
      session.state === 'active' &&
      session.resumeToken !== null &&
      !session.kicked &&
      (session.parking || !GOODBYE_CODES.has(code)) &&
      resumer.enabled
    ) {
      resumer.suspend(session, Date.now());
      // Away now: what is sent to it is kept because it is away (and goes out once it resumes).
      session.parking = false;
      announcePeerState(session, true);
      this.ctx.log.debug({ session: session.id, name: session.name }, 'away: may resume');
      return;
    }
    this.finish(session);
  }

  /**
   * End a session for good with a close code (4001 when it is no longer authorized), also one
   * that is away waiting to resume: it must not come back with its resume token.
   */
  endSession(session: Session, code: number, reason: string): void {
    if (session.state === 'closed') return;
    if (session.state !== 'away') session.close(code, reason);
    // Finished now, not when the close handshake ends: its calls end and its name (or device)
    // is free at once, for the session that may take its place in the same tick.
    this.finish(session);
  }

  /** The session is over: its calls end, its name is freed. */
  private finish(session: Session): void {
    const wasActive = session.state === 'active' || session.state === 'away';
    session.state = 'closed';
    this.ctx.resumer.forget(session);
    this.ctx.engine.disconnect(session);
    if (wasActive) this.ctx.hub.remove(session);
    this.finishers.get(session)?.(session);
  }

  private flood(session: Session): void {
    // Frames already read after the close was decided arrive here too: count the close once.
    if (session.ws.readyState !== 1) return;
    this.ctx.stats.closed(CLOSE.flood);
    this.ctx.log.warn({ session: session.id, name: session.name }, 'flood: closing');
    session.close(CLOSE.flood, 'flood');
  }

  private rateLimited(session: Session, now: number): void {
    this.ctx.stats.error('rate_limited');
    // One error per second at most: answering every dropped frame would amplify a flood.
    if (now - session.lastRateErrorMs >= 1000) {
      session.lastRateErrorMs = now;
      session.send({ t: 'error', code: 'rate_limited' });
    }
  }

  /**
   * A malformed frame is a strike; the strike that empties the bucket closes the socket (1008).
   * Good frames in between do not wipe the slate (that was how a flood slipped through), only
   * time does.
   */
  private malformed(session: Session): void {
    if (session.ws.readyState !== 1) return;
    const now = Date.now();
    const bucket = (session.malformedBucket ??= newBucket(this.limits.malformed, now));
    take(bucket, this.limits.malformed, now);
    if (bucket.tokens >= 1) return;
    this.ctx.stats.closed(CLOSE.policyViolation);
    this.ctx.log.warn({ session: session.id, name: session.name }, 'malformed frames: closing');
    session.close(CLOSE.policyViolation, 'too many malformed frames');
  }

  private slowConsumer(session: Session): void {
    if (session.ws.readyState !== 1) return;
    this.ctx.stats.closed(CLOSE.slowConsumer);
    this.ctx.log.warn({ session: session.id, name: session.name }, 'slow consumer: closing');
    session.closeSlow();
    // The close frame queues behind what the client is not reading; do not wait for it longer
    // than a ping interval to free the memory.
    const ws = session.ws;
    setTimeout(() => ws.terminate(), Math.min(5000, this.ctx.config.pingIntervalMs)).unref();
  }

  private readonly sweepAfterReads = (): void => this.sweep();

  private sweep(): void {
    const now = Date.now();
    // A sweep far later than its interval means this process did not run meanwhile: that time
    // is nobody's silence. A client that only answers our pings (a browser page) got none while
    // we were stalled, so without this it would be cut off as soon as we woke up.
    const stalledMs = now - this.lastSweepMs - 2 * this.sweepMs;
    this.lastSweepMs = now;
    if (stalledMs > 0) {
      for (const session of this.sessions) {
        session.lastSeenMs = Math.min(now, session.lastSeenMs + stalledMs);
      }
    }
    for (const session of [...this.ctx.resumer.expired(now)]) this.finish(session);
    const { pingIntervalMs, idleTimeoutMs, loginTimeoutMs } = this.ctx.config;
    const iceRefreshMs = iceRefreshAfterMs(this.ctx.config);
    for (const session of this.sessions) {
      const quietMs = now - session.lastSeenMs;
      if (quietMs >= idleTimeoutMs) {
        session.ws.terminate();
        continue;
      }
      // `ws` answers pings by itself, so a socket that never signs in is not silent: without
      // a deadline it would hold its memory forever. One whose login is being checked (a
      // password hash waiting its turn) is left to finish it.
      if (
        session.state === 'anonymous' &&
        now - session.openedAtMs >= loginTimeoutMs &&
        !this.ctx.loggingIn.has(session) &&
        session.ws.readyState === 1
      ) {
        this.ctx.stats.closed(CLOSE.loginTimeout);
        session.close(CLOSE.loginTimeout, 'login timeout');
        continue;
      }
      if (quietMs >= pingIntervalMs && session.ws.readyState === 1) session.ws.ping();
      if (iceRefreshMs !== undefined) this.refreshIce(session, now, iceRefreshMs);
    }
  }

  /**
   * TURN credentials expire (--turn-ttl-seconds) but a call can outlast them and may need to
   * restart ICE: push native sessions a fresh set before theirs run out. Only native clients
   * read `iceServers`; the others are skipped rather than computing credentials for nothing.
   */
  private refreshIce(session: Session, now: number, refreshMs: number): void {
    if (session.state !== 'active' || session.dialect.name !== 'native') return;
    if (session.iceRefreshAtMs === 0) {
      // First sweep since login, which issued credentials at most one sweep ago.
      session.iceRefreshAtMs = now + refreshMs;
    } else if (now >= session.iceRefreshAtMs) {
      session.iceRefreshAtMs = now + refreshMs;
      session.send({ t: 'ice-servers', iceServers: this.ctx.iceServers(session.name) });
    }
  }

  /**
   * Drain: refuse new sockets, tell every client to come back after a jittered delay (so they
   * do not all return at once), then close with 1012. Resolves when every socket is gone or
   * the deadline passes (the rest are terminated).
   *
   * With `park` (a single node, whose next process will take over from the store), it loses
   * nothing that was accepted: sessions that cannot resume have their calls ended first, while
   * both sides can still hear it (a tutorial page gets `leave`, a one2one client
   * `stopCommunication`); sessions that can resume keep, from the moment they are told to
   * reconnect, whatever is sent to them (their peers' frames that were already on the way
   * included) instead of racing it against the close frame; and once the sockets are gone
   * they are written to the store with their calls (restart.ts).
   */
  async drain(
    deadlineMs: number,
    options: { park?: boolean; jitterMs?: number } = {},
  ): Promise<void> {
    const { park = false, jitterMs = 5000 } = options;
    this.draining = true;
    const sessions = [...this.sessions];
    // A cluster node first hands resumable sessions and their calls to the other nodes: those
    // clients resume wherever they reconnect, and their calls go on. Only their sockets are
    // left to close here. (A single node hands nobody over.)
    const handedOver = await this.ctx.directory.handOff([...sessions, ...this.ctx.resumer.all()]);
    for (const session of handedOver) this.sessions.delete(session);
    const staying = sessions.filter((s) => !handedOver.has(s));
    const parked = new Set(park ? staying.filter((s) => this.parkable(s)) : []);
    if (park) {
      // Only connected calls are kept: a ringing call (and a wait in a room) ends now, for
      // everyone, while its parties can still be told.
      for (const session of staying) {
        if (!parked.has(session) || session.call?.state !== 'connected') this.endCallsNow(session);
      }
    }
    // Handed-over sessions too: their clients resume on another node.
    for (const session of sessions) {
      session.send({ t: 'reconnect', afterMs: Math.floor(Math.random() * jitterMs) });
      if (parked.has(session)) {
        session.backlog ??= [];
        session.parking = true;
        session.closeForRestart();
      } else {
        session.close(CLOSE.serviceRestart, 'server restarting');
      }
    }
    const deadline = Date.now() + deadlineMs;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const session of this.sessions) session.ws.terminate();
    if (park) await this.park();
  }

  /** A session whose client will resume after a restart: native, with a resume token. */
  private parkable(session: Session): boolean {
    return (
      this.ctx.resumer.enabled &&
      session.state === 'active' &&
      session.resumeToken !== null &&
      session.dialect.name === 'native' &&
      !session.kicked
    );
  }

  /**
   * A session that cannot resume is leaving: end its call now, telling both parties, before
   * any socket is closed (once closed, what is sent to it is lost).
   */
  private endCallsNow(session: Session): void {
    if (session.state !== 'active') return;
    const call = session.call;
    if (call !== null) {
      // The engine tells the leaving party too, as the one who ended the call; tutorial and
      // one2one clients are not told of an end they caused (their page did it), but here the
      // server did, so they are told as of an end from the other side.
      const ended = {
        t: 'ended',
        callId: call.id,
        peerName: peerOf(call, session).name,
        role: roleOf(call, session) ?? 'caller',
        reason: 'disconnected',
        missed: false,
        self: true,
        wasConnected: call.state === 'connected',
      } as const;
      if (session.dialect.encode(ended, session) === null) session.send({ ...ended, self: false });
    }
    this.ctx.engine.disconnect(session);
  }

  /** Write every session that may resume, and their calls, to the store for the next start. */
  private park(): Promise<void> {
    return parkSessions(this.ctx, (session) => this.finish(session));
  }

  /**
   * Start: take back what the previous process on this store kept (park). Its sessions are
   * away, with a full grace period from now, their names held and their calls up.
   */
  restore(): Promise<void> {
    return restoreSessions(
      this.ctx,
      (remoteAddress, nowMs) =>
        new Session(
          this.nextSessionId++,
          DETACHED_SOCKET,
          nativeDialect,
          remoteAddress,
          this.host,
          nowMs,
        ),
    );
  }

  close(): void {
    clearInterval(this.sweepTimer);
    clearImmediate(this.pendingSweep);
    for (const session of this.sessions) session.ws.terminate();
    this.wss.close();
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function reject(socket: Duplex, status: number, text: string): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}
