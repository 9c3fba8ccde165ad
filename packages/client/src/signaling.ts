/**
 * The signaling connection: one WebSocket, the login handshake, request/reply matching by `ref`,
 * an application-level heartbeat, and reconnection driven by a {@link ReconnectPolicy}.
 *
 * States: connecting -> open -> (reconnecting -> open)* -> closed. The first connection either
 * logs in or fails (connect() rejects); only a session that was open reconnects. Every inbound
 * frame is validated with the protocol's decoder before anything looks at it.
 */
import {
  PROTOCOL_VERSION,
  serverDecoder,
  type ClientMessage,
  type ServerMessage,
  type ServerMessageMap,
} from '@callwire/protocol';
import { Emitter } from './emitter.js';
import { CallwireError, InvalidStateError, type CallwireErrorCode } from './errors.js';
import type { ReconnectPolicy } from './reconnect-policy.js';
import {
  OPEN,
  discard,
  type CloseEventLike,
  type MessageEventLike,
  type WebSocketConstructorLike,
  type WebSocketLike,
} from './socket.js';

/**
 * The connection's state; `stateChanged` fires once per transition. `connecting` only before
 * the first login; `reconnecting` after a drop while the reconnect policy retries; `closed` is
 * final (close(), a policy that gave up, or a refusal no retry can fix).
 *
 * @example
 * ```ts
 * client.on('stateChanged', (state: ConnectionState) => {
 *   offlineBanner.hidden = state === 'open';
 * });
 * ```
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  connecting: ['open', 'closed'],
  open: ['reconnecting', 'closed'],
  reconnecting: ['open', 'closed'],
  closed: [],
};

export type LoginSuccess = ServerMessageMap['login'] & { success: true };

export interface SignalingOptions {
  url: string;
  name: string;
  password?: string | undefined;
  token?: string | undefined;
  WebSocket: WebSocketConstructorLike;
  reconnectPolicy: ReconnectPolicy;
  heartbeatIntervalMs: number;
  requestTimeoutMs: number;
}

export interface SignalingEvents {
  stateChanged: (state: ConnectionState, previous: ConnectionState) => void;
  /** A validated message that did not answer a pending request. */
  message: (msg: ServerMessage) => void;
  /** A login succeeded; `again` is true after a reconnect. */
  loggedIn: (reply: LoginSuccess, again: boolean) => void;
  /** The open session was lost (before reconnecting starts). */
  dropped: () => void;
  error: (err: CallwireError) => void;
}

interface Pending {
  onReply: (msg: ServerMessage) => void;
  reject: (err: CallwireError) => void;
  timer: ReturnType<typeof setTimeout>;
}

// Close codes after which coming back would be refused again or is not wanted.
const FINAL_CLOSE_CODES = new Set([4001, 4003]);
// Login refusals that no retry can fix; anything else (name_taken while the server has not yet
// noticed our old socket died, service_unavailable) is retried per policy.
const FATAL_LOGIN_CODES = new Set(['invalid_credentials', 'name_invalid']);

export class Signaling {
  readonly events = new Emitter<SignalingEvents>();
  #state: ConnectionState = 'connecting';
  #socket: WebSocketLike | null = null;
  #loggedIn = false;
  #attempt = 0;
  #nextRef = 0;
  #pending = new Map<string, Pending>();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lastFrameAt = 0;
  #serverRetryAfterMs: number | undefined;
  #first: { resolve: (r: LoginSuccess) => void; reject: (e: CallwireError) => void } | null = null;
  readonly #options: SignalingOptions;

  constructor(options: SignalingOptions) {
    this.#options = options;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Open the first connection; resolves with the login reply, rejects with its code. */
  start(): Promise<LoginSuccess> {
    return new Promise((resolve, reject) => {
      this.#first = { resolve, reject };
      this.#open();
    });
  }

  /** Send a message if the session is open; returns whether it was sent. */
  send(msg: ClientMessage): boolean {
    const socket = this.#socket;
    if (!this.#loggedIn || socket === null || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(msg));
    return true;
  }

  /**
   * Send a message with a fresh `ref` and run `onReply` synchronously on the reply that carries
   * it, so the reply's effects (a Call object, say) exist before the next frame is handled. An
   * `error` reply rejects with its code.
   */
  request<T>(msg: ClientMessage, onReply: (reply: ServerMessage) => T): Promise<T> {
    if (this.#state === 'closed') return Promise.reject(new CallwireError('closed'));
    if (!this.#loggedIn) return Promise.reject(new CallwireError('disconnected'));
    const ref = `r${++this.#nextRef}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(new CallwireError('timeout'));
      }, this.#options.requestTimeoutMs);
      this.#pending.set(ref, {
        timer,
        reject,
        onReply: (reply) => {
          if (reply.type === 'error') {
            reject(new CallwireError(reply.code, reply.message));
            return;
          }
          try {
            resolve(onReply(reply));
          } catch (err) {
            reject(
              err instanceof CallwireError
                ? err
                : new CallwireError('protocol_error', undefined, { cause: err }),
            );
          }
        },
      });
      if (!this.send({ ...msg, ref })) {
        clearTimeout(timer);
        this.#pending.delete(ref);
        reject(new CallwireError('disconnected'));
      }
    });
  }

  /** Close for good. Idempotent. Pending requests are rejected with `closed`. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#teardownSocket(1000);
    clearTimeout(this.#retryTimer);
    this.#rejectPending('closed');
    this.#failFirst(new CallwireError('closed'));
    this.#setState('closed');
    this.events.clear();
  }

  #setState(next: ConnectionState): void {
    const previous = this.#state;
    if (previous === next) return;
    if (!TRANSITIONS[previous].includes(next)) {
      throw new InvalidStateError(`connection cannot go from ${previous} to ${next}`);
    }
    this.#state = next;
    this.events.emit('stateChanged', next, previous);
  }

  #open(): void {
    let socket: WebSocketLike;
    try {
      socket = new this.#options.WebSocket(this.#options.url);
    } catch (err) {
      this.#onSocketGone(new CallwireError('connection_failed', undefined, { cause: err }));
      return;
    }
    this.#socket = socket;
    this.#loggedIn = false;
    this.#lastFrameAt = Date.now();
    // The login must finish within the request timeout, or this attempt counts as failed.
    const loginTimer = setTimeout(() => {
      if (this.#socket === socket && !this.#loggedIn)
        this.#lost(socket, new CallwireError('timeout'));
    }, this.#options.requestTimeoutMs);
    socket.onopen = () => {
      const { name, password, token } = this.#options;
      socket.send(
        JSON.stringify({
          type: 'login',
          name,
          protocol: PROTOCOL_VERSION,
          ...(password !== undefined ? { password } : {}),
          ...(token !== undefined ? { token } : {}),
        } satisfies ClientMessage),
      );
    };
    socket.onmessage = (event: MessageEventLike) => {
      if (this.#socket !== socket) return;
      this.#lastFrameAt = Date.now();
      this.#onFrame(socket, event.data, loginTimer);
    };
    socket.onerror = () => {
      // An error is always followed by a close event; the close carries the outcome.
    };
    socket.onclose = (event: CloseEventLike) => {
      clearTimeout(loginTimer);
      if (this.#socket !== socket) return;
      const err =
        event.code === 4001
          ? new CallwireError('invalid_credentials', `closed by the server (${event.code})`)
          : new CallwireError(
              this.#loggedIn ? 'disconnected' : 'connection_failed',
              `socket closed (${event.code})`,
            );
      this.#lost(socket, err, FINAL_CLOSE_CODES.has(event.code));
    };
  }

  #onFrame(socket: WebSocketLike, data: unknown, loginTimer: ReturnType<typeof setTimeout>): void {
    if (typeof data !== 'string') {
      this.events.emit(
        'error',
        new CallwireError('protocol_error', 'binary frame from the server'),
      );
      return;
    }
    const decoded = serverDecoder.decode(data);
    if (!decoded.ok) {
      this.events.emit(
        'error',
        new CallwireError('protocol_error', `${decoded.code}: ${decoded.message}`),
      );
      return;
    }
    const msg = decoded.msg;
    if (msg.type === 'reconnect') {
      this.#serverRetryAfterMs = msg.afterMs;
      return;
    }
    if (msg.type === 'pong') return;
    if (!this.#loggedIn) {
      if (msg.type === 'login') {
        clearTimeout(loginTimer);
        this.#onLoginReply(socket, msg);
      } else if (msg.type === 'error') {
        clearTimeout(loginTimer);
        this.#loginRefused(socket, new CallwireError(msg.code, msg.message));
      }
      // Anything else before login is out of order; ignore it rather than guess.
      return;
    }
    const ref = 'ref' in msg ? msg.ref : undefined;
    const pending = ref === undefined ? undefined : this.#pending.get(ref);
    if (ref !== undefined && pending !== undefined) {
      this.#pending.delete(ref);
      clearTimeout(pending.timer);
      pending.onReply(msg);
      return;
    }
    this.events.emit('message', msg);
  }

  #onLoginReply(socket: WebSocketLike, msg: ServerMessageMap['login']): void {
    if (!msg.success) {
      const code = (msg.code ?? 'invalid_credentials') as CallwireErrorCode;
      this.#loginRefused(socket, new CallwireError(code, msg.message));
      return;
    }
    const again = this.#first === null;
    this.#loggedIn = true;
    this.#attempt = 0;
    this.#serverRetryAfterMs = undefined;
    this.#startHeartbeat(socket);
    this.#setState('open');
    const reply = msg as LoginSuccess;
    if (this.#first !== null) {
      const first = this.#first;
      this.#first = null;
      first.resolve(reply);
    }
    this.events.emit('loggedIn', reply, again);
  }

  #loginRefused(socket: WebSocketLike, err: CallwireError): void {
    // A refusal during the first connect is final (connect() rejects with its code); during a
    // reconnect only refusals that a retry cannot fix are.
    this.#lost(socket, err, this.#first !== null || FATAL_LOGIN_CODES.has(err.code));
  }

  /** The socket is gone (closed, timed out, refused). Decide between retry and closed. */
  #lost(socket: WebSocketLike, err: CallwireError, final = false): void {
    if (this.#socket !== socket) return;
    const wasOpen = this.#loggedIn;
    this.#teardownSocket(1000);
    if (wasOpen) {
      this.#rejectPending('disconnected');
      this.events.emit('dropped');
    }
    if (this.#state === 'closed') return;
    if (final || this.#first !== null) {
      this.#fail(err);
      return;
    }
    this.#setState('reconnecting');
    this.#scheduleRetry(err);
  }

  #onSocketGone(err: CallwireError): void {
    if (this.#first !== null) this.#fail(err);
    else this.#scheduleRetry(err);
  }

  #scheduleRetry(err: CallwireError): void {
    const delay =
      this.#serverRetryAfterMs ?? this.#options.reconnectPolicy.nextRetryDelayMs(this.#attempt);
    this.#serverRetryAfterMs = undefined;
    this.#attempt += 1;
    if (delay === null) {
      this.#fail(err);
      return;
    }
    this.#retryTimer = setTimeout(
      () => {
        if (this.#state === 'reconnecting') this.#open();
      },
      Math.max(0, delay),
    );
  }

  #fail(err: CallwireError): void {
    this.#teardownSocket(1000);
    this.#rejectPending(err.code === 'closed' ? 'closed' : 'disconnected');
    const first = this.#failFirst(err);
    if (this.#state !== 'closed') this.#setState('closed');
    // connect() reports the reason through its rejection; a session that was open reports it here.
    if (!first) this.events.emit('error', err);
    this.events.clear();
  }

  #failFirst(err: CallwireError): boolean {
    const first = this.#first;
    if (first === null) return false;
    this.#first = null;
    first.reject(err);
    return true;
  }

  #startHeartbeat(socket: WebSocketLike): void {
    clearInterval(this.#heartbeatTimer);
    const interval = this.#options.heartbeatIntervalMs;
    if (!(interval > 0)) return;
    // Browsers answer the server's WebSocket pings without telling the page, so a half-open
    // connection is only noticed by an application-level ping that goes unanswered.
    this.#heartbeatTimer = setInterval(() => {
      if (this.#socket !== socket) return;
      if (Date.now() - this.#lastFrameAt > interval * 2) {
        this.#lost(socket, new CallwireError('disconnected', 'heartbeat timed out'));
        return;
      }
      this.send({ type: 'ping' });
    }, interval);
  }

  #teardownSocket(code: number): void {
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    const socket = this.#socket;
    this.#socket = null;
    this.#loggedIn = false;
    if (socket !== null) discard(socket, code);
  }

  #rejectPending(code: 'closed' | 'disconnected'): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(new CallwireError(code));
    }
  }
}
