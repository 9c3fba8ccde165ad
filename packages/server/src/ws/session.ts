/**
 * One WebSocket connection and, once logged in, one user: a party of calls (calls/party.ts).
 * The session owns the socket's output: every send goes through `sendText`, which corks the
 * TCP socket for the rest of the tick when a burst is being handled (write-batch.ts) and
 * enforces the outbound cap.
 */
import type { WebSocket } from 'ws';
import { CLOSE, type ErrorCode } from '@callwire/protocol';
import type { Call } from '../calls/call.js';
import type { Device, Party, PartyState } from '../calls/model.js';
import type { Dialect } from '../dialects/dialect.js';
import type { OutEvent } from '../events.js';
import { newBucket, type Bucket, type BucketSpec } from '../rate-limit.js';
import type { WriteBatch } from './write-batch.js';
import { rawSocketOf, type CorkableSocket } from './ws-internals.js';

/** `away`: the socket dropped but the session waits for its client to resume (resume.ts). */
export type SessionState = PartyState;

export interface SessionLimits {
  readonly messages: BucketSpec;
  /** Every frame received, accepted or dropped: empty means a flood (4029). */
  readonly flood: BucketSpec;
  /** Strikes for malformed frames: empty means close (1008). */
  readonly malformed: BucketSpec;
  readonly invites: BucketSpec;
  readonly outboundCapBytes: number;
  /** Messages kept for a session while it is away (resume). */
  readonly backlogMax: number;
}

/** What a session needs from the server that made it. */
export interface SessionHost {
  readonly limits: SessionLimits;
  readonly batch: WriteBatch;
  /** The client stopped reading (its outbound buffer passed the cap). */
  slowConsumer(session: Session): void;
  /** Too much is waiting for an away session: it cannot resume in order. */
  backlogOverflow(session: Session): void;
  /** The session was just told that a frame of its was malformed (a strike against it). */
  malformed(session: Session): void;
  /** Make the connection `from` arrived on serve `to` instead (a resume). */
  rebind(from: Session, to: Session): void;
}

/**
 * The connection a session arrived on (connection.ts): a resume points it at the session it
 * resumes (one object per socket, not a closure per session).
 */
export interface SessionLink {
  session: Session;
}

/**
 * The error codes that say "that frame was not the protocol": each is a strike (see
 * MALFORMED_POLICY). Codes about state (`not_logged_in`, `not_in_call`, ...) are not: an honest
 * client can race into them.
 */
const MALFORMED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'bad_json',
  'bad_message',
  'unknown_type',
]);

export class Session implements Party {
  state: SessionState = 'anonymous';
  /** Display name (NFKC) and identity key; empty until login. */
  name = '';
  key = '';
  /**
   * A guest (meet by link without an account, guest-login.ts): may only join rooms, and is
   * never in the online list or in presence.
   */
  guest = false;
  dialect: Dialect;
  /** Written only by the call book (calls/book.ts). */
  call: Call | null = null;
  other: Call | null = null;
  room: string | null = null;
  /** Which device of its account this session is (set at login). */
  device: Device | undefined = undefined;
  watching: Set<string> | null = null;
  /**
   * Presence comes to this client as `presences` batches (it said `presenceBatch: true` at
   * login, or at its latest resume), not one `presence` frame per change.
   */
  presenceBatch = false;
  lastSeenMs: number;
  /** When the socket opened: the login deadline counts from here. */
  readonly openedAtMs: number;
  readonly bucket: Bucket;
  /** Every frame received, accepted or dropped (gateway: the flood policy). */
  readonly floodBucket: Bucket;
  /**
   * Malformed frames, forgiven slowly (gateway: MALFORMED_POLICY); made at the first strike,
   * since most sessions never send one.
   */
  malformedBucket: Bucket | null = null;
  lastRateErrorMs = 0;
  /**
   * When the gateway's sweep sends this (native) session fresh TURN credentials; 0 = not yet
   * scheduled (the first sweep after login schedules it).
   */
  iceRefreshAtMs = 0;
  /** Resume: the current token, the end of the grace while away, what waits for it meanwhile. */
  resumeToken: string | null = null;
  awayUntilMs = 0;
  backlog: string[] | null = null;
  backlogOverflowed = false;
  /** Set by the gateway: the connection this session is served on (none after a restart). */
  link: SessionLink | null = null;
  /** Closed by the server on purpose (policy, auth, drain): such a session may not resume. */
  kicked = false;
  /**
   * Draining for a restart: the socket is closing, the session will be kept in the store, and
   * what is sent to it from now on is kept for its resume instead of racing the close frame.
   */
  parking = false;
  private corkedSocket: CorkableSocket | null = null;

  constructor(
    readonly id: number,
    /** The current socket; a resumed session moves onto its client's new socket. */
    public ws: WebSocket,
    dialect: Dialect,
    readonly remoteAddress: string,
    private readonly host: SessionHost,
    nowMs: number,
  ) {
    this.dialect = dialect;
    this.lastSeenMs = nowMs;
    this.openedAtMs = nowMs;
    this.bucket = newBucket(host.limits.messages, nowMs);
    this.floodBucket = newBucket(host.limits.flood, nowMs);
  }

  /** Make the connection this session arrived on serve `target` instead (a resume). */
  rebind(target: Session): void {
    if (this.link !== null) this.host.rebind(this, target);
  }

  get limits(): SessionLimits {
    return this.host.limits;
  }

  /** Encode an event in this session's dialect and send it (dialects may drop some events). */
  send(event: OutEvent): void {
    const text = this.dialect.encode(event, this);
    if (text !== null) this.sendText(text);
    // After the reply, so that the client learns what was wrong before a closing strike.
    if (event.t === 'error' && MALFORMED_CODES.has(event.code)) this.host.malformed(this);
  }

  sendText(text: string): void {
    if (this.state === 'away' || this.parking) return this.keep(text);
    const ws = this.ws;
    if (ws.readyState !== 1 /* OPEN */) return;
    const { batch } = this.host;
    if (batch.coalescing && this.corkedSocket === null) {
      const socket = rawSocketOf(ws);
      if (socket !== null) {
        socket.cork();
        this.corkedSocket = socket;
        batch.add(this);
      }
    }
    ws.send(text);
    if (ws.bufferedAmount > this.host.limits.outboundCapBytes) this.host.slowConsumer(this);
  }

  /** Several events, in order, in one socket write (see sendTexts). */
  sendAll(events: readonly OutEvent[]): void {
    const texts: string[] = [];
    for (const event of events) {
      const text = this.dialect.encode(event, this);
      if (text !== null) texts.push(text);
    }
    this.sendTexts(texts);
  }

  /**
   * Several frames in one socket write: the socket is corked around them (unless the tick's
   * write batch corked it already and uncorks it later).
   */
  sendTexts(texts: readonly string[]): void {
    if (texts.length === 0) return;
    const socket =
      texts.length > 1 && this.corkedSocket === null && this.state === 'active' && !this.parking
        ? rawSocketOf(this.ws)
        : null;
    socket?.cork();
    for (const text of texts) this.sendText(text);
    socket?.uncork();
  }

  /** While away, keep what is sent (bounded); past the bound the session cannot resume. */
  private keep(text: string): void {
    const backlog = this.backlog;
    if (backlog === null || this.backlogOverflowed) return;
    if (backlog.length >= this.host.limits.backlogMax) {
      this.backlogOverflowed = true;
      this.host.backlogOverflow(this);
      return;
    }
    backlog.push(text);
  }

  /** Deliver, in order and in one write, what was kept while away. */
  flushBacklog(): void {
    const backlog = this.backlog;
    this.backlog = null;
    if (backlog !== null) this.sendTexts(backlog);
  }

  /** @internal Called by the write batch at the end of the tick. */
  uncork(): void {
    const socket = this.corkedSocket;
    this.corkedSocket = null;
    socket?.uncork();
  }

  /** Close for a restart (1012) without ending the session: it is parked and may resume. */
  closeForRestart(): void {
    if (this.ws.readyState === 0 || this.ws.readyState === 1) {
      this.ws.close(CLOSE.serviceRestart, 'server restarting');
    }
  }

  /** Close with a protocol close code; idempotent. */
  close(code: number, reason = ''): void {
    if (code !== 1000) this.kicked = true;
    if (this.ws.readyState === 0 || this.ws.readyState === 1) this.ws.close(code, reason);
  }

  /** The client stopped reading: stop queueing for it and close with 4008. */
  closeSlow(): void {
    this.close(CLOSE.slowConsumer, 'slow consumer');
  }
}
