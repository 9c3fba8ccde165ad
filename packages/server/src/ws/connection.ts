/**
 * One accepted socket and what serves it. Its listeners are the four functions below, the same
 * for every socket, which find the socket's `Connection` on the socket itself: an idle
 * connection holds no closures of its own (at 19,000 idle sockets that is several megabytes).
 */
import type { RawData, WebSocket } from 'ws';
import type { Context } from '../context.js';
import type { Session, SessionLink } from './session.js';

export type FrameHandler = (ctx: Context, session: Session, text: string) => void;

/** What a socket's events go to (the gateway). */
export interface ConnectionOwner {
  message(conn: Connection, ws: WebSocket, data: RawData, isBinary: boolean): void;
  socketError(conn: Connection, err: Error): void;
  closed(session: Session, ws: WebSocket, code: number): void;
}

/** The session a socket serves (a resume points it at the session it resumes) and its handler. */
export class Connection implements SessionLink {
  constructor(
    public session: Session,
    readonly handler: FrameHandler,
    readonly owner: ConnectionOwner,
  ) {}
}

const CONNECTION = Symbol('callwire.connection');
type SocketWithConnection = WebSocket & { [CONNECTION]: Connection };
const connectionOf = (ws: WebSocket): Connection => (ws as SocketWithConnection)[CONNECTION];

/** Serve `session` on `ws`: its frames go to `handler`, its events to `owner`. */
export function serve(
  ws: WebSocket,
  session: Session,
  handler: FrameHandler,
  owner: ConnectionOwner,
): Connection {
  const conn = new Connection(session, handler, owner);
  (ws as SocketWithConnection)[CONNECTION] = conn;
  ws.on('message', onMessage);
  ws.on('pong', onPong);
  ws.on('error', onError);
  ws.on('close', onClose);
  return conn;
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const conn = connectionOf(this);
  conn.owner.message(conn, this, data, isBinary);
}

function onPong(this: WebSocket): void {
  connectionOf(this).session.lastSeenMs = Date.now();
}

function onError(this: WebSocket, err: Error): void {
  const conn = connectionOf(this);
  conn.owner.socketError(conn, err);
}

function onClose(this: WebSocket, code: number): void {
  const conn = connectionOf(this);
  conn.owner.closed(conn.session, this, code);
}
