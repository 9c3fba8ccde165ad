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
 * make PeerJS ids either stricter than PeerJS's or visible where they cannot be used.
 *
 * In a cluster the ids are claimed cluster-wide and frames for an id on another node are
 * carried there, through one seam (`PeerjsNetwork`, cluster/peerjs-ids.ts); without one, this
 * node is the whole world.
 */
import { createHash, randomUUID } from 'node:crypto';
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

/**
 * PeerJS ids beyond this node (a cluster). An id is claimed cluster-wide before its socket is
 * told OPEN, given back when the socket closes, and a frame for an id that is not here is
 * carried to the node that has it.
 */
export interface PeerjsNetwork {
  /** Able to claim and carry now (in step with the cluster). */
  readonly ready: boolean;
  /**
   * Claim `id` for a socket here. `digest` names its token: a claim with the same digest takes
   * the id over from wherever it is (that node closes its socket); another digest is `taken`.
   */
  claim(id: string, digest: string): Promise<'ok' | 'taken'>;
  /** The socket here that held `id` is gone: give the claim back, if it is still ours. */
  release(id: string, digest: string): void;
  /**
   * Carry frames for `id` to the node that has it, in order. Resolves false (nothing sent)
   * when no node has it.
   */
  deliver(id: string, texts: readonly string[]): Promise<boolean>;
  /** Every id connected anywhere (discovery). */
  ids(): Promise<string[]>;
}

/** The name of a token, as claims carry it: never the token itself. */
const digestOf = (token: string) => createHash('sha256').update(token).digest('base64url');

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
  private network: PeerjsNetwork | undefined;

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

  /** Join a cluster: ids are claimed there, and frames reach peers on other nodes. */
  attachNetwork(network: PeerjsNetwork): void {
    this.network = network;
  }

  /** A fresh id for `GET <path><key>/id`: a UUID, as the PeerJS server makes, not in use here. */
  freshId(): string {
    let id = randomUUID();
    while (this.peers.has(id)) id = randomUUID();
    return id;
  }

  /** The connected ids, for `GET <path><key>/peers` (discovery): cluster-wide in a cluster. */
  async ids(): Promise<string[]> {
    if (this.network === undefined) return [...this.peers.keys()];
    return this.network.ids();
  }

  /** Frames from another node for a peer here (a peer gone meanwhile has them wait). */
  arrived(id: string, texts: readonly string[]): void {
    const to = this.peers.get(id);
    if (to === undefined) {
      for (const text of texts) this.enqueue(id, '', text);
      return;
    }
    for (const text of texts) to.session.sendText(text);
    this.deps.stats.relayed += texts.length;
  }

  /** The id was taken over on another node with the same token: close its socket here. */
  takenOver(id: string, digest: string): void {
    const peer = this.peers.get(id);
    if (peer === undefined || digestOf(peer.token) !== digest) return;
    // Forget it first, so that its close gives nothing back: the claim is the other node's.
    this.peers.delete(id);
    peer.session.close(CLOSE.sessionReplaced, 'replaced by a new connection');
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
    if (peer?.session !== session) return;
    this.peers.delete(session.name);
    this.network?.release(session.name, digestOf(peer.token));
  }

  close(): void {
    clearInterval(this.timer);
    this.queues.clear();
  }

  private open(session: Session, id: string, token: string): void {
    const network = this.network;
    if (network === undefined || this.peers.get(id)?.token === token) {
      return this.activate(session, id, token);
    }
    if (!network.ready) {
      return this.refuse(session, 'ERROR', 'temporarily_unavailable', 'The server cannot reach its cluster');
    }
    network.claim(id, digestOf(token)).then(
      (claimed) => {
        const gone = session.ws.readyState !== 1 || session.state !== 'anonymous';
        if (claimed === 'taken') {
          if (!gone) this.refuse(session, 'ID-TAKEN', 'name_taken', 'ID is taken');
          return;
        }
        if (gone) return network.release(id, digestOf(token));
        this.activate(session, id, token);
      },
      () => this.refuse(session, 'ERROR', 'temporarily_unavailable', 'The server cannot reach its cluster'),
    );
  }

  private activate(session: Session, id: string, token: string): void {
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
    const network = this.network;
    // Frames for an id already waiting here stay behind the ones before them.
    if (network === undefined || !network.ready || this.queues.has(dst)) {
      return this.notHere(src, type, dst, text);
    }
    network.deliver(dst, [text]).then(
      (sent) => {
        if (sent) this.deps.stats.relayed++;
        else this.notHere(src, type, dst, text);
      },
      () => this.notHere(src, type, dst, text),
    );
  }

  /** `dst` is connected nowhere: as the PeerJS server, a LEAVE is dropped, the rest waits. */
  private notHere(src: string, type: Relayed, dst: string, text: string): void {
    if (type === 'LEAVE') return;
    this.enqueue(dst, src, text);
  }

  private enqueue(dst: string, src: string, text: string): void {
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
      if (now - queue.sinceMs < this.deps.config.expireMs) {
        // In a cluster the id may have come online on another node: carry what waits there.
        if (this.network?.ready === true) this.forward(dst, queue);
        continue;
      }
      this.queues.delete(dst);
      const told = new Set<string>();
      for (const { src } of queue.items) {
        if (src === '' || told.has(src)) continue;
        told.add(src);
        this.toPeer(src, JSON.stringify({ type: 'EXPIRE', src: dst, dst: src }));
      }
    }
  }

  /**
   * What waits for `dst` goes to the node that has it now, if one does. It leaves the queue
   * while it travels (later frames for `dst` follow it there in order) and comes back if no
   * node has `dst` after all.
   */
  private forward(dst: string, queue: Queue): void {
    const network = this.network;
    if (network === undefined) return;
    this.queues.delete(dst);
    const back = () => {
      const later = this.queues.get(dst);
      this.queues.set(
        dst,
        later === undefined ? queue : { sinceMs: queue.sinceMs, items: [...queue.items, ...later.items] },
      );
    };
    network.deliver(dst, queue.items.map((i) => i.text)).then((sent) => {
      if (sent) this.deps.stats.relayed += queue.items.length;
      else back();
    }, back);
  }

  /** A server message for a peer here or, in a cluster, on another node. */
  private toPeer(id: string, text: string): void {
    const peer = this.peers.get(id);
    if (peer !== undefined) return peer.session.sendText(text);
    if (this.network?.ready === true) void this.network.deliver(id, [text]).catch(() => undefined);
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
