/**
 * One WebSocket connection and, once logged in, one user. The session owns the socket's
 * output: every send goes through `sendText`, which corks the TCP socket for the rest of the
 * tick (a burst of relayed candidates leaves in one write) and enforces the outbound cap.
 */
import type { WebSocket } from 'ws';
import { CLOSE } from '@callwire/protocol';
import type { Call } from '../calls/call.js';
import type { Dialect } from '../dialects/dialect.js';
import type { OutEvent } from '../events.js';
import { newBucket, type Bucket, type BucketSpec } from './rate-limit.js';

/** `away`: the socket dropped but the session waits for its client to resume (resume.ts). */
export type SessionState = 'anonymous' | 'active' | 'away' | 'closed';

let nextId = 1;

// Sessions whose socket is corked during the current tick; uncorked together on the next one.
// Relaying a burst of frames that arrived in one read then costs one write per peer.
const corkedSessions: Session[] = [];
let flushScheduled = false;
function flushCorked(): void {
  flushScheduled = false;
  for (const session of corkedSessions) session.uncork();
  corkedSessions.length = 0;
}

// Set by the gateway for each inbound frame: true when more frames of the same socket read
// follow, so that what they cause can leave in one write per peer. A lone frame (the common
// case at a steady rate) is relayed with a plain write: corking it would only add a tick.
let coalescing = false;
export function setCoalescing(on: boolean): void {
  coalescing = on;
}

interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

export interface SessionLimits {
  readonly messages: BucketSpec;
  readonly invites: BucketSpec;
  readonly outboundCapBytes: number;
  /** Messages held for a session while it is away (resume). */
  readonly heldMax: number;
}

export class Session {
  readonly id = nextId++;
  state: SessionState = 'anonymous';
  /** Display name (NFKC) and identity key; empty until login. */
  name = '';
  key = '';
  dialect: Dialect;
  call: Call | null = null;
  room: string | null = null;
  watching: Set<string> | null = null;
  lastSeenMs: number;
  readonly bucket: Bucket;
  inviteBucket: Bucket | null = null;
  rateStrikes = 0;
  lastRateErrorMs = 0;
  /**
   * When the gateway's sweep sends this (native) session fresh TURN credentials; 0 = not yet
   * scheduled (the first sweep after login schedules it).
   */
  iceRefreshAtMs = 0;
  /** Resume: the current token, the end of the grace while away, what is held meanwhile. */
  resumeToken: string | null = null;
  awayUntilMs = 0;
  held: string[] | null = null;
  heldOverflow = false;
  /** Set by the gateway: make the connection this session arrived on serve `target` instead. */
  rebind: ((target: Session) => void) | null = null;
  private corkedSocket: CorkableSocket | null = null;

  constructor(
    /** The current socket; a resumed session moves onto its client's new socket. */
    public ws: WebSocket,
    dialect: Dialect,
    readonly remoteAddress: string,
    readonly limits: SessionLimits,
    nowMs: number,
    private readonly onSlowConsumer: (session: Session) => void,
    private readonly onHeldOverflow: (session: Session) => void = () => {},
  ) {
    this.dialect = dialect;
    this.lastSeenMs = nowMs;
    this.bucket = newBucket(limits.messages, nowMs);
  }

  /** Encode an event in this session's dialect and send it (dialects may drop some events). */
  send(event: OutEvent): void {
    const text = this.dialect.encode(event, this);
    if (text !== null) this.sendText(text);
  }

  sendText(text: string): void {
    if (this.state === 'away') return this.hold(text);
    const ws = this.ws;
    if (ws.readyState !== 1 /* OPEN */) return;
    if (coalescing && this.corkedSocket === null) {
      // ws keeps the net.Socket private; corking it is safe because ws itself only ever
      // cork()s and uncork()s in pairs around one frame.
      const socket = (ws as unknown as { _socket: CorkableSocket | null })._socket;
      if (socket) {
        socket.cork();
        this.corkedSocket = socket;
        corkedSessions.push(this);
        if (!flushScheduled) {
          flushScheduled = true;
          process.nextTick(flushCorked);
        }
      }
    }
    ws.send(text);
    if (ws.bufferedAmount > this.limits.outboundCapBytes) this.onSlowConsumer(this);
  }

  /** While away, keep what is sent (bounded); past the bound the session cannot resume. */
  private hold(text: string): void {
    const held = this.held;
    if (held === null || this.heldOverflow) return;
    if (held.length >= this.limits.heldMax) {
      this.heldOverflow = true;
      this.onHeldOverflow(this);
      return;
    }
    held.push(text);
  }

  /** Deliver, in order, what was held while away. */
  flushHeld(): void {
    const held = this.held;
    this.held = null;
    if (held !== null) for (const text of held) this.sendText(text);
  }

  /** @internal Called by the tick flush. */
  uncork(): void {
    const socket = this.corkedSocket;
    this.corkedSocket = null;
    socket?.uncork();
  }

  /** Closed by the server on purpose (policy, auth, drain): such a session may not resume. */
  kicked = false;

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
