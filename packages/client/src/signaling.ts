/**
 * The signaling connection: one WebSocket, the login handshake, request/reply matching by `ref`,
 * an application-level heartbeat, and reconnection driven by a {@link ReconnectPolicy}.
 *
 * States: connecting -> open -> (reconnecting -> open)* -> closed. The first connection either
 * logs in or fails (connect() rejects); only a session that was open reconnects. Every inbound
 * frame is validated with the protocol's decoder before anything looks at it.
 *
 * Resume (docs/PROTOCOL.md): logins ask for a resume token. When the socket drops the session is
 * `suspended`, not lost: the server keeps it (and our calls) for its grace period, pending
 * requests stay pending, and what the calls send meanwhile is held in order (resume-state.ts).
 * The next login presents the token; `resumed` means the session is back and the server is
 * delivering what it held for us; a `ping` sent right after is answered only once all of that
 * has been delivered, which is when `resumeSettled` fires. A refused token (`resume_failed`), or
 * the grace period passing while we are still away, loses the session (`dropped`) and the same
 * connection logs in afresh.
 */
import {
  CLOSE,
  PROTOCOL_VERSION,
  plainServerDecoder,
  type ClientMessage,
  type ServerMessage,
  type ServerMessageMap,
} from '@callwire/protocol';
import { Emitter } from './emitter.js';
import { CallwireError, InvalidStateError, type CallwireErrorCode } from './errors.js';
import type { ReconnectPolicy } from './reconnect-policy.js';
import type { DeviceIdentity } from './device.js';
import { forgetKept, keep, loadKept } from './reload-store.js';
import { ResumeState } from './resume-state.js';
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
  /** A guest login (meet by link without an account). */
  guest: boolean;
  /** Take a second call while in one (login `callWaiting`). */
  callWaiting: boolean;
  WebSocket: WebSocketConstructorLike;
  reconnectPolicy: ReconnectPolicy;
  heartbeatIntervalMs: number;
  requestTimeoutMs: number;
  /** Ask the server to keep the session across socket drops. */
  resume: boolean;
  /** Which device this is, announced at every fresh login. */
  device: DeviceIdentity | undefined;
  /** Keep the resume token in sessionStorage, so a reloaded page takes its session back. */
  keepAcrossReload: boolean;
}

export interface SignalingEvents {
  stateChanged: (state: ConnectionState, previous: ConnectionState) => void;
  /** A validated message that did not answer a pending request. */
  message: (msg: ServerMessage) => void;
  /** A fresh login succeeded; `again` is true after a reconnect. */
  loggedIn: (reply: LoginSuccess, again: boolean) => void;
  /** The socket dropped, but the server keeps the session for its grace period. */
  suspended: () => void;
  /**
   * The session is back (`resumed: true`); what the server held for us is on its way.
   * `restored`: it was taken back by a new page (a reload), which knows none of its calls.
   */
  resumed: (reply: LoginSuccess, restored: boolean) => void;
  /** Everything held for us during the drop has been delivered. */
  resumeSettled: (reply: LoginSuccess) => void;
  /** The session was lost (no resume, or the resume was refused or too late): calls are gone. */
  dropped: () => void;
  error: (err: CallwireError) => void;
}

interface Pending {
  onReply: (msg: ServerMessage) => void;
  reject: (err: CallwireError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** The login (fresh or resumed) the request was sent under. */
  epoch: number;
}

/**
 * The close code for a socket we abandon but mean to resume from (a heartbeat that went
 * unanswered): 1000 would tell the server we left for good, and it would end our calls.
 */
const CLOSE_RESUMING = CLOSE.resuming;

// Close codes after which coming back would be refused again or is not wanted.
const FINAL_CLOSE_CODES = new Set<number>([
  CLOSE.unauthorized,
  CLOSE.signedOut,
  CLOSE.sessionReplaced,
]);
// Login refusals that no retry can fix; anything else (name_taken while the server has not yet
// noticed our old socket died, service_unavailable) is retried per policy.
const FATAL_LOGIN_CODES = new Set([
  'invalid_credentials',
  'name_invalid',
  'name_reserved',
  'guests_disabled',
]);

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
  #loginTimer: ReturnType<typeof setTimeout> | undefined;
  #epoch = 0;
  #name: string;
  /** The API token of the last fresh login, kept with the resume token across a reload. */
  #sessionToken: string | undefined;
  /** Set by `pagehide`: this page closed its socket on its way out. */
  #hidden = false;
  readonly #resume = new ResumeState();
  readonly #options: SignalingOptions;

  constructor(options: SignalingOptions) {
    this.#options = options;
    this.#name = options.name;
    if (options.keepAcrossReload && options.resume) {
      const kept = loadKept(options.url, options.name);
      if (kept !== undefined) {
        this.#resume.granted(kept.token, kept.graceMs);
        this.#sessionToken = kept.sessionToken;
      }
      globalThis.addEventListener?.('pagehide', this.#onPageHide);
      globalThis.addEventListener?.('pageshow', this.#onPageShow);
    }
  }

  /**
   * The page goes (reload, navigation, tab closed): keep the token for the page that may follow
   * and leave as one who will resume (4000), so the server keeps our calls for the grace period.
   * No reconnect is scheduled: a retry from a page on its way out would take the session (and
   * rotate its single-use token) from under the page that follows.
   */
  readonly #onPageHide = (): void => {
    const token = this.#resume.token;
    if (!this.#loggedIn || token === null || this.#socket === null) return;
    keep(this.#options.url, this.#name, token, this.#resume.graceMs, this.#sessionToken);
    this.#teardownSocket(CLOSE_RESUMING);
    this.#hidden = true;
  };

  /**
   * The same page came back from the back/forward cache after `pagehide` closed its socket:
   * resume as after any other drop; the server's list of calls says what is still there.
   */
  readonly #onPageShow = (event: Event): void => {
    if (!this.#hidden || !(event as Event & { persisted?: boolean }).persisted) return;
    this.#hidden = false;
    if (this.#state !== 'open' || this.#socket !== null) return;
    if (this.#resume.suspend(() => this.#sessionLost())) this.events.emit('suspended');
    this.#setState('reconnecting');
    this.#scheduleRetry(new CallwireError('disconnected', 'the page was hidden'));
  };

  /** Remember the current resume token for a page that replaces this one. */
  #keepToken(): void {
    if (!this.#options.keepAcrossReload) return;
    const token = this.#resume.token;
    if (token === null) forgetKept();
    else keep(this.#options.url, this.#name, token, this.#resume.graceMs, this.#sessionToken);
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

  /**
   * Send a message if the session is open, or hold it for the resume while the session is
   * suspended (pings excepted); returns whether it was sent or held.
   */
  send(msg: ClientMessage): boolean {
    const socket = this.#socket;
    if (this.#loggedIn && socket !== null && socket.readyState === OPEN) {
      socket.send(JSON.stringify(msg));
      return true;
    }
    return msg.type !== 'ping' && this.#resume.hold(msg);
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
        epoch: this.#epoch,
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
    this.#resume.lost();
    if (this.#options.keepAcrossReload) forgetKept();
    globalThis.removeEventListener?.('pagehide', this.#onPageHide);
    globalThis.removeEventListener?.('pageshow', this.#onPageShow);
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
    this.#armLoginTimer(socket);
    socket.onopen = () => this.#sendLogin(socket);
    socket.onmessage = (event: MessageEventLike) => {
      if (this.#socket !== socket) return;
      this.#lastFrameAt = Date.now();
      this.#onFrame(socket, event.data);
    };
    socket.onerror = () => {
      // An error is always followed by a close event; the close carries the outcome.
    };
    socket.onclose = (event: CloseEventLike) => {
      if (this.#socket !== socket) return;
      clearTimeout(this.#loginTimer);
      const err =
        event.code === CLOSE.unauthorized
          ? new CallwireError('invalid_credentials', `closed by the server (${event.code})`)
          : event.code === CLOSE.signedOut
            ? new CallwireError('signed_out', `closed by the server (${event.code})`)
            : new CallwireError(
              this.#loggedIn ? 'disconnected' : 'connection_failed',
              `socket closed (${event.code})`,
            );
      this.#lost(socket, err, FINAL_CLOSE_CODES.has(event.code));
    };
  }

  /** The login must finish within the request timeout, or this attempt counts as failed. */
  #armLoginTimer(socket: WebSocketLike): void {
    clearTimeout(this.#loginTimer);
    this.#loginTimer = setTimeout(() => {
      if (this.#socket === socket && !this.#loggedIn)
        this.#lost(socket, new CallwireError('timeout'));
    }, this.#options.requestTimeoutMs);
  }

  /** A resume when we hold a token (exactly the fields PROTOCOL.md names), else a fresh login. */
  #sendLogin(socket: WebSocketLike): void {
    const token = this.#resume.token;
    let msg: ClientMessage;
    if (token !== null) {
      // presenceBatch again: a resumed session takes the flag from this login.
      msg = {
        type: 'login',
        name: this.#name,
        protocol: PROTOCOL_VERSION,
        resumeToken: token,
        presenceBatch: true,
      };
    } else {
      const { password, token: jwt, resume, device, guest, callWaiting } = this.#options;
      msg = {
        type: 'login',
        name: this.#options.name,
        protocol: PROTOCOL_VERSION,
        presenceBatch: true,
        ...(resume ? { resume: true } : {}),
        ...(device !== undefined ? { device: { id: device.id, label: device.label } } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(jwt !== undefined ? { token: jwt } : {}),
        ...(guest ? { guest: true } : {}),
        ...(callWaiting ? { callWaiting: true } : {}),
      };
    }
    socket.send(JSON.stringify(msg));
  }

  #onFrame(socket: WebSocketLike, data: unknown): void {
    if (typeof data !== 'string') {
      this.events.emit(
        'error',
        new CallwireError('protocol_error', 'binary frame from the server'),
      );
      return;
    }
    const decoded = plainServerDecoder.decode(data);
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
    // A pong with a ref answers a request (the resume's barrier); heartbeat pongs have none.
    if (msg.type === 'pong' && msg.ref === undefined) return;
    if (!this.#loggedIn) {
      if (msg.type === 'login') {
        this.#onLoginReply(socket, msg);
      } else if (msg.type === 'error') {
        this.#onLoginError(socket, new CallwireError(msg.code, msg.message));
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
      this.#onLoginError(socket, new CallwireError(code, msg.message));
      return;
    }
    clearTimeout(this.#loginTimer);
    const reply = msg as LoginSuccess;
    if (reply.name !== undefined) this.#name = reply.name;
    if (reply.resumed === true) {
      this.#onResumed(socket, reply);
      return;
    }
    // A fresh session although we were away (a server that does not resume): the old one is gone.
    if (this.#resume.suspended) this.#sessionLost();
    this.#resume.granted(reply.resumeToken, reply.resumeGraceMs);
    this.#sessionToken = reply.sessionToken;
    this.#keepToken();
    const again = this.#first === null;
    this.#loggedIn = true;
    this.#epoch += 1;
    this.#attempt = 0;
    this.#serverRetryAfterMs = undefined;
    this.#startHeartbeat(socket);
    this.#setState('open');
    if (this.#first !== null) {
      const first = this.#first;
      this.#first = null;
      first.resolve(reply);
    }
    this.events.emit('loggedIn', reply, again);
  }

  #onResumed(socket: WebSocketLike, reply: LoginSuccess): void {
    const live = new Set((reply.calls ?? []).map((c) => c.callId));
    const held = this.#resume.resumed(live);
    this.#resume.granted(reply.resumeToken, reply.resumeGraceMs);
    this.#keepToken();
    this.#loggedIn = true;
    const epoch = ++this.#epoch;
    this.#attempt = 0;
    this.#serverRetryAfterMs = undefined;
    this.#startHeartbeat(socket);
    // What the calls said while we were away goes first, before anything new can be sent.
    for (const msg of held) socket.send(JSON.stringify(msg));
    this.#setState('open');
    // The first login of this page took back the session a previous page left (a reload).
    const restored = this.#first !== null;
    if (this.#first !== null) {
      const first = this.#first;
      this.#first = null;
      // A resumed reply carries no API token: the one kept with the resume token still works.
      const full =
        reply.sessionToken === undefined && this.#sessionToken !== undefined
          ? { ...reply, sessionToken: this.#sessionToken }
          : reply;
      first.resolve(full);
      this.events.emit('loggedIn', full, false);
    }
    this.events.emit('resumed', reply, restored);
    // The server answers this ping after the messages it held for us: once the pong is here,
    // every reply that was coming has come, and requests from before the drop that are still
    // waiting never will.
    this.request({ type: 'ping' }, () => undefined).then(
      () => {
        if (this.#epoch !== epoch) return;
        this.#rejectPending('disconnected', epoch);
        this.events.emit('resumeSettled', reply);
      },
      () => {
        // The socket dropped again before the barrier; the next resume settles instead.
      },
    );
  }

  #onLoginError(socket: WebSocketLike, err: CallwireError): void {
    clearTimeout(this.#loginTimer);
    if (err.code === 'resume_failed' && this.#resume.token !== null) {
      // The server no longer has our session (grace over, or it restarted): our calls ended.
      // The connection itself is fine, so log in afresh on it right away.
      this.#sessionLost();
      this.#armLoginTimer(socket);
      this.#sendLogin(socket);
      return;
    }
    this.#loginRefused(socket, err);
  }

  /** The server-side session is gone: end what depended on it. */
  #sessionLost(): void {
    this.#resume.lost();
    if (this.#options.keepAcrossReload) forgetKept();
    this.#rejectPending('disconnected');
    this.events.emit('dropped');
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
    const resuming = wasOpen && !final && this.#resume.token !== null;
    this.#teardownSocket(resuming ? CLOSE_RESUMING : 1000);
    if (wasOpen) {
      // With a resume token the session outlives the socket: calls and pending requests wait.
      const suspended = !final && this.#resume.suspend(() => this.#sessionLost());
      if (suspended) this.events.emit('suspended');
      else this.#sessionLost();
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
    if (this.#resume.lost()) this.events.emit('dropped');
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
    clearTimeout(this.#loginTimer);
    this.#heartbeatTimer = undefined;
    const socket = this.#socket;
    this.#socket = null;
    this.#loggedIn = false;
    if (socket !== null) discard(socket, code);
  }

  /** Reject pending requests (only those sent before login `beforeEpoch`, when given). */
  #rejectPending(code: 'closed' | 'disconnected', beforeEpoch = Infinity): void {
    for (const [ref, p] of [...this.#pending]) {
      if (p.epoch >= beforeEpoch) continue;
      this.#pending.delete(ref);
      clearTimeout(p.timer);
      p.reject(new CallwireError(code));
    }
  }
}
