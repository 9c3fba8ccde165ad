/**
 * The few WebSocket members the SDK uses. Both the browser's `WebSocket` and the `ws` package's
 * satisfy it, so Node tests pass `WebSocket` from 'ws' and browsers need nothing. Handler
 * parameters are typed `never` on purpose: that is the only way both implementations' handler
 * types are assignable here; the SDK reads events through the `*EventLike` shapes below.
 */

/**
 * What the SDK reads from a `message` event (text frames arrive as strings).
 *
 * @example
 * ```ts
 * socket.onmessage = (event: MessageEventLike) => console.log(String(event.data));
 * ```
 */
export interface MessageEventLike {
  readonly data: unknown;
}

/**
 * What the SDK reads from a `close` event.
 *
 * @example
 * ```ts
 * socket.onclose = (event: CloseEventLike) => console.log('closed', event.code, event.reason);
 * ```
 */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

/**
 * The subset of a WebSocket the SDK needs.
 *
 * @example
 * ```ts
 * import { WebSocket } from 'ws';
 * const socket: WebSocketLike = new WebSocket('ws://127.0.0.1:9090/');
 * ```
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

/**
 * A WebSocket constructor: the browser's global `WebSocket`, or `WebSocket` from 'ws' in Node.
 *
 * @example
 * ```ts
 * import { WebSocket } from 'ws';
 * const client = await connect('ws://127.0.0.1:9090/', { name: 'bot', WebSocket });
 * ```
 */
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

/** readyState value of an open socket, the same in every implementation. */
export const OPEN = 1;

/** The global WebSocket, looked up only when needed so importing the SDK touches no DOM. */
export function defaultWebSocket(): WebSocketConstructorLike | undefined {
  const ctor = (globalThis as { WebSocket?: unknown }).WebSocket;
  return typeof ctor === 'function' ? (ctor as WebSocketConstructorLike) : undefined;
}

/** Stop listening to a socket and close it. A no-op `onerror` stays: `ws` throws on an
 * unhandled 'error', which closing a socket that is still connecting emits. */
export function discard(socket: WebSocketLike, code = 1000): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => {};
  try {
    socket.close(code);
  } catch {
    // Closing an already-closed or never-opened socket may throw in some implementations.
  }
}
