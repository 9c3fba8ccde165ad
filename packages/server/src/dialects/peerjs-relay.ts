/**
 * The PeerJS dialect's relay: PeerJS peers sign in when their socket opens (`id`, `token` and
 * `key` in the URL), then send `OFFER`, `ANSWER`, `CANDIDATE` and `LEAVE` frames addressed to
 * another peer's id. These are not calls (there is no ringing and no accepting: two peers
 * negotiate by themselves), so they never reach the call engine: this relay routes each frame
 * by destination id, stamps the sender's id as `src`, and keeps what is addressed to an id that
 * is not connected for `expireMs`, after which the sender hears `EXPIRE` (one per sender and
 * destination), as the PeerJS server does.
 *
 * Peer ids live in this relay's own table, not in the hub with the other dialects' names, on
 * purpose: a PeerJS id is an opaque, case-sensitive string nobody can call (PeerJS peers and
 * callwire users never reach each other), while the hub's names are case-folded and everything
 * in it is announced as presence and listed to native users as callable. Sharing the hub would
 * make PeerJS ids either stricter than PeerJS's or visible where they cannot be used. The
 * cluster will claim ids through its own seam next to the Directory (not done yet: one node).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { CLOSE, LIMITS, PEERJS_LIMITS, peerjsDecoder, type ErrorCode } from '@callwire/protocol';
import type { Authenticator } from '../auth/authenticator.js';
import type { SessionGuard } from '../auth/session-guard.js';
import { assertNever } from '../calls/machine.js';
import type { AuthMode, PeerjsConfig } from '../config.js';
import type { Stats } from '../metrics.js';
import type { Session } from '../ws/session.js';
import { peerjsError } from './peerjs-encode.js';

export interface PeerjsRelayDeps {
  readonly config: PeerjsConfig;
  readonly authMode: AuthMode;
  readonly auth: Authenticator;
  readonly guard: SessionGuard;
  readonly stats: Stats;
  readonly log: Logger;
  /** Messages kept for one id that is not connected (more are dropped until it expires). */
  readonly queueMax: number;
}

interface Peer {
  readonly session: Session;
  /** The secret the id was opened with: only a socket with the same token may take it over. */
  readonly token: string;
}

interface Queue {
  readonly sinceMs: number;
  readonly items: { readonly src: string; readonly text: string }[];
}

type Relayed = 'OFFER' | 'ANSWER' | 'CANDIDATE' | 'LEAVE';

export class PeerjsRelay {
  /** The WebSocket path: the mount path followed by `peerjs`, as the client builds it. */
  readonly socketPath: string;
  private readonly peers = new Map<string, Peer>();
  /** Destination id -> what waits for it, in order. */
  private readonly queues = new Map<string, Queue>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly deps: PeerjsRelayDeps) {
    this.socketPath = `${deps.config.path}peerjs`;
    // One timer for every queue, as the PeerJS server prunes: at most a fifth of the expiry
    // late, and never more often than the sweep needs.
    const everyMs = Math.max(25, Math.min(1000, deps.config.expireMs / 5));
    this.timer = setInterval(() => this.expire(Date.now()), everyMs);
    this.timer.unref();
  }

  get size(): number {
    return this.peers.size;
  }

  /** A fresh id for `GET <path><key>/id`: a UUID, as the PeerJS server makes, not in use here. */
  freshId(): string {
    let id = randomUUID();
    while (this.peers.has(id)) id = randomUUID();
    return id;
  }

  /** The connected ids, for `GET <path><key>/peers` (discovery). */
  ids(): string[] {
    return [...this.peers.keys()];
  }

  /** The socket is open: sign the peer in from its URL, or tell it why not and close. */
  opened(session: Session, req: IncomingMessage): void {
    const params = new URL(req.url ?? '/', 'http://peerjs.invalid').searchParams;
    const id = params.get('id');
    const token = params.get('token');
    const key = params.get('key');
    if (!id || !token || !key)
      return this.refuse(
        session,
        'ERROR',
        'bad_message',
        'No id, token, or key supplied to websocket server',
      );
    if (key !== this.deps.config.key)
      return this.refuse(session, 'INVALID-KEY', 'invalid_credentials', 'Invalid key provided');
    if (id.length > PEERJS_LIMITS.idChars || token.length > LIMITS.tokenChars) {
      return this.refuse(session, 'ERROR', 'bad_message', 'The id or token is too long');
    }
    switch (this.deps.authMode) {
      case 'open':
        return this.open(session, id, token);
      case 'jwt': {
        // The token was verified before the upgrade (a bad one got 401); the id must be its
        // subject, exactly: a token is not a pass for any id.
        const identity = this.deps.auth.upgradeIdentity(session);
        if (identity === undefined || identity.display !== id) {
          return this.refuse(
            session,
            'ERROR',
            'invalid_credentials',
            "The id is not the token's subject",
          );
        }
        this.deps.guard.track(session, identity);
        return this.open(session, id, token);
      }
      case 'password':
        // PeerJS has no password to give: with accounts, PeerJS peers cannot sign in.
        return this.refuse(
          session,
          'ERROR',
          'invalid_credentials',
          'This server signs in with passwords',
        );
      default:
        return assertNever(this.deps.authMode);
    }
  }

  /** One text frame from a PeerJS socket (the gateway has metered and size-checked it). */
  frame(session: Session, text: string): void {
    const { stats } = this.deps;
    if (session.state !== 'active') {
      stats.error('not_logged_in');
      return session.send({ t: 'error', code: 'not_logged_in' });
    }
    const decoded = peerjsDecoder.decode(text);
    if (!decoded.ok) {
      stats.error(decoded.code);
      return session.send({ t: 'error', code: decoded.code, message: decoded.message });
    }
    const msg = decoded.msg;
    switch (msg.type) {
      case 'HEARTBEAT':
        // The gateway has already marked the socket as alive.
        return;
      case 'OFFER':
      case 'ANSWER':
      case 'CANDIDATE':
        return this.relay(session.name, msg.type, msg.dst, msg.payload);
      case 'LEAVE':
        if (msg.dst === undefined) return session.close(CLOSE.normal, 'leave');
        return this.relay(session.name, 'LEAVE', msg.dst, msg.payload);
      default:
        return assertNever(msg);
    }
  }

  /** The session is over (the gateway's finish): its id is free again. */
  closed(session: Session): void {
    const peer = this.peers.get(session.name);
    // A socket that took the id over is the peer now; the one it replaced frees nothing.
    if (peer?.session === session) this.peers.delete(session.name);
  }

  close(): void {
    clearInterval(this.timer);
    this.queues.clear();
  }

  private open(session: Session, id: string, token: string): void {
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      if (existing.token !== token)
        return this.refuse(session, 'ID-TAKEN', 'name_taken', 'ID is taken');
      // The same id and token: the client reconnected before its old socket was noticed dead
      // (`peer.reconnect()`). The new socket takes over; the old one is closed.
      existing.session.close(CLOSE.sessionReplaced, 'replaced by a new connection');
    }
    session.name = id;
    session.key = id;
    session.state = 'active';
    this.peers.set(id, { session, token });
    this.deps.stats.logins++;
    // Unlike the PeerJS server, a takeover is answered with OPEN too: the client's `reconnect()`
    // waits for it to emit `open`.
    session.sendText('{"type":"OPEN"}');
    const queue = this.queues.get(id);
    if (queue === undefined) return;
    this.queues.delete(id);
    for (const item of queue.items) session.sendText(item.text);
    this.deps.stats.relayed += queue.items.length;
  }

  private relay(src: string, type: Relayed, dst: string, payload: unknown): void {
    // Built from known fields only; `payload` is the peers' own business and goes as it came.
    const text = JSON.stringify({ type, src, dst, payload });
    const to = this.peers.get(dst);
    if (to !== undefined) {
      to.session.sendText(text);
      this.deps.stats.relayed++;
      return;
    }
    // As the PeerJS server: a LEAVE for a peer that is not here is dropped; anything else waits.
    if (type === 'LEAVE') return;
    let queue = this.queues.get(dst);
    if (queue === undefined) {
      queue = { sinceMs: Date.now(), items: [] };
      this.queues.set(dst, queue);
    }
    // Bounded (the PeerJS server's queue is not): past the cap the message is dropped, and its
    // sender still hears EXPIRE when the queue expires.
    if (queue.items.length >= this.deps.queueMax) {
      this.deps.stats.error('queue_full');
      return;
    }
    queue.items.push({ src, text });
  }

  private expire(now: number): void {
    for (const [dst, queue] of this.queues) {
      if (now - queue.sinceMs < this.deps.config.expireMs) continue;
      this.queues.delete(dst);
      const told = new Set<string>();
      for (const { src } of queue.items) {
        if (told.has(src)) continue;
        told.add(src);
        this.peers
          .get(src)
          ?.session.sendText(JSON.stringify({ type: 'EXPIRE', src: dst, dst: src }));
      }
    }
  }

  private refuse(
    session: Session,
    type: 'ERROR' | 'INVALID-KEY' | 'ID-TAKEN',
    code: ErrorCode,
    msg: string,
  ): void {
    this.deps.stats.error(code);
    this.deps.stats.loginFailures++;
    session.sendText(
      type === 'ERROR' ? peerjsError(code, msg) : JSON.stringify({ type, payload: { msg, code } }),
    );
    // As the PeerJS server: the reason, then the close (a normal one: the client reads the reason).
    session.close(CLOSE.normal, '');
  }
}
