/**
 * The two places where callwire looks inside `ws` beyond its public API, wrapped here and only
 * here. Both are optimisations with a safe fallback, and test/ws-internals.test.ts fails if a
 * `ws` release renames what they read, so an upgrade cannot silently turn them off.
 */
import type { WebSocket } from 'ws';

export interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

/**
 * The TCP socket under a WebSocket, to cork a burst of writes into one. `ws` keeps it private
 * (`_socket`); corking it is safe because `ws` itself only ever cork()s and uncork()s in pairs
 * around one frame. Null when it cannot be found: then nothing is corked.
 */
export function rawSocketOf(ws: WebSocket): CorkableSocket | null {
  const socket = (ws as unknown as { _socket?: CorkableSocket | null })._socket;
  return socket !== undefined && socket !== null && typeof socket.cork === 'function'
    ? socket
    : null;
}

/**
 * Are more frames of the same read still waiting in the WebSocket's receiver (`_receiver`'s
 * `_bufferedBytes`)? Unknown internals answer true: a burst is assumed, which only costs a cork.
 */
export function moreFramesPending(ws: WebSocket): boolean {
  const receiver = (ws as unknown as { _receiver?: { _bufferedBytes?: number } })._receiver;
  return receiver?._bufferedBytes === undefined || receiver._bufferedBytes > 0;
}

/** Whether this `ws` exposes what the functions above read (the internals test asserts it). */
export function internalsKnown(ws: WebSocket): boolean {
  const receiver = (ws as unknown as { _receiver?: { _bufferedBytes?: unknown } })._receiver;
  return rawSocketOf(ws) !== null && typeof receiver?._bufferedBytes === 'number';
}
