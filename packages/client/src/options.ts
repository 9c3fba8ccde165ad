/**
 * connect() options and their defaults, checked once and frozen into the client's config.
 */
import { resolveDevice, type DeviceIdentity } from './device.js';
import type { FileLinkOptions } from './file-link.js';
import { defaultReconnectPolicy, type ReconnectPolicy } from './reconnect-policy.js';
import type { SignalingOptions } from './signaling.js';
import { defaultWebSocket, type WebSocketConstructorLike } from './socket.js';

/**
 * Options of `connect()`. Only `name` is required.
 *
 * @example
 * ```ts
 * import { WebSocket } from 'ws'; // Node only; browsers use their own WebSocket
 * const options: ConnectOptions = {
 *   name: 'alice',
 *   password: 'correct horse battery staple',
 *   WebSocket,
 *   reconnectPolicy: jitteredBackoff({ maxAttempts: 10 }),
 * };
 * ```
 */
export interface ConnectOptions {
  /** The name to log in as (1-32 letters, digits, `.`, `_`, `-` or inner spaces). */
  name: string;
  /** For servers started with `--auth password`. */
  password?: string;
  /** A JWT, for servers started with `--auth jwt`. */
  token?: string;
  /**
   * Sign in as a guest, to meet by link (`client.join(room)`) without an account, on servers
   * started with `--rooms guests` (the default). Others see the name marked " (guest)"
   * (`client.name` says so after login); a guest can only join rooms, and does not resume.
   */
  guest?: boolean;
  /** The WebSocket implementation; required in Node (`WebSocket` from 'ws'). */
  WebSocket?: WebSocketConstructorLike;
  /** When and how often to retry after the connection drops. Default: jittered exponential backoff. */
  reconnectPolicy?: ReconnectPolicy;
  /**
   * Keep the session across a dropped connection: calls go on and the client resumes them when
   * it is back within the server's grace period. Default true.
   */
  resume?: boolean;
  /** Extra RTCPeerConnection settings; its `iceServers`, if given, replace the server's. */
  rtcConfiguration?: RTCConfiguration;
  /** How long to wait for the login and for each request's reply. Default 15 s. */
  requestTimeoutMs?: number;
  /** Application-level ping interval; a connection silent for two intervals is dropped. Default 15 s, 0 turns it off. */
  heartbeatIntervalMs?: number;
  /** How often a connected call emits `stats`. Default 1 s, 0 turns it off. */
  statsIntervalMs?: number;
  /**
   * Largest file accepted from a peer; larger offers are refused at once (the sender's transfer
   * fails with `transfer_too_large`, and the call emits `fileRefused`). Default 256 MiB; change
   * it later with `client.setMaxFileBytes()`.
   */
  maxFileBytes?: number;
  /**
   * Take a second call while in one (call waiting): a call that arrives during a call is an
   * `incoming` with `waiting: true` instead of `busy` for its caller. Answer it with
   * `holdAndAccept()` or `endAndAccept()`, or `decline()` it (the caller hears busy). Default
   * false, so an app that shows every incoming call as if the user were free is not surprised.
   *
   * @example
   * ```ts
   * const client = await connect(url, { name: 'alice', callWaiting: true });
   * client.on('incoming', (incoming) =>
   *   incoming.waiting ? showCallWaiting(incoming) : showRinging(incoming));
   * ```
   */
  callWaiting?: boolean;
  /**
   * Which device this is, on a server where one account may be signed in on several devices.
   * By default a browser tab keeps its own id (in `sessionStorage`, so a reload is the same
   * device) and is labelled from the user agent ("Chrome on Linux"). `false` announces none.
   */
  device?: Partial<DeviceIdentity> | false;
  /**
   * In a browser, keep the session's resume token in `sessionStorage` so that a page reloaded
   * mid-call takes the session back (within the server's grace period) and its calls go on on
   * a new peer connection (`callStarted` fires for them; `call.connectedAt` keeps the time it
   * was answered). Needs `resume`. Default false: a page cannot tell a reload from a closed
   * tab, so with it a closed tab leaves the peer "reconnecting" for the grace period instead of
   * ending the call at once, and the app must show calls it did not start (docs/SDK.md).
   *
   * @example
   * ```ts
   * const client = await connect(url, { name, token, keepAcrossReload: true });
   * client.on('callStarted', (call) => showCall(call)); // also the call a reload took back
   * ```
   */
  keepAcrossReload?: boolean;
}

/** @internal */
export interface ClientConfig {
  name: string;
  signaling: SignalingOptions;
  rtcConfiguration: RTCConfiguration | undefined;
  statsIntervalMs: number;
  files: FileLinkOptions;
}

function positive(
  value: number | undefined,
  fallback: number,
  what: string,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new TypeError(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

/** @internal Validate options (TypeError on misuse) and apply defaults. */
export function resolveOptions(url: string, options: ConnectOptions): ClientConfig {
  if (typeof url !== 'string' || !/^wss?:\/\//i.test(url))
    throw new TypeError('url must be a ws:// or wss:// URL');
  if (typeof options !== 'object' || options === null) throw new TypeError('options are required');
  if (typeof options.name !== 'string' || options.name.length === 0)
    throw new TypeError('name must be a non-empty string');
  const WebSocket = options.WebSocket ?? defaultWebSocket();
  if (WebSocket === undefined) {
    throw new TypeError(
      'no global WebSocket: pass options.WebSocket (in Node: WebSocket from "ws")',
    );
  }
  if (options.resume !== undefined && typeof options.resume !== 'boolean')
    throw new TypeError('resume must be a boolean');
  if (options.guest !== undefined && typeof options.guest !== 'boolean')
    throw new TypeError('guest must be a boolean');
  const guest = options.guest === true;
  const policy = options.reconnectPolicy ?? defaultReconnectPolicy;
  if (typeof policy.nextRetryDelayMs !== 'function')
    throw new TypeError('reconnectPolicy.nextRetryDelayMs must be a function');
  return {
    name: options.name,
    signaling: {
      url,
      name: options.name,
      password: options.password,
      token: options.token,
      guest,
      callWaiting: !guest && options.callWaiting === true,
      WebSocket,
      reconnectPolicy: policy,
      heartbeatIntervalMs: positive(
        options.heartbeatIntervalMs,
        15_000,
        'heartbeatIntervalMs',
        true,
      ),
      requestTimeoutMs: positive(options.requestTimeoutMs, 15_000, 'requestTimeoutMs'),
      // A guest session cannot resume (the server gives it no token): do not ask.
      resume: guest ? false : (options.resume ?? true),
      device: resolveDevice(options.device),
      keepAcrossReload: options.keepAcrossReload ?? false,
    },
    rtcConfiguration: options.rtcConfiguration,
    statsIntervalMs: positive(options.statsIntervalMs, 1_000, 'statsIntervalMs', true),
    files: {
      chunkBytes: 16 * 1024,
      maxFileBytes: positive(options.maxFileBytes, 256 * 1024 * 1024, 'maxFileBytes'),
    },
  };
}
