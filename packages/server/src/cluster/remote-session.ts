/**
 * A user on another node, as this node's engine sees them: a party of a call like any session,
 * except that what the engine "sends" it is handed to the cluster bus, which carries it to the
 * user's node. It has no socket here and never logs in or out on this node; it exists for one
 * call (the engine's `call` field tells whether that call is still on).
 */
import type { WebSocket } from 'ws';
import type { Dialect, DialectName } from '../dialects/dialect.js';
import type { OutEvent } from '../events.js';
import { Session, type SessionLimits } from '../ws/session.js';

/** What the engine may ask of a remote party's dialect: its behaviour, never its encoding. */
function capabilities(name: DialectName): Dialect {
  return {
    name,
    ringsWithOffer: name === 'one2one',
    // A tutorial callee is accepted by its own node, right after it hears `incoming`: its
    // home cannot skip the ringing step without leaving that node out of the call.
    autoAccept: false,
    presence: name === 'native',
    encode: () => null,
  };
}

const DIALECTS: Record<DialectName, Dialect> = {
  native: capabilities('native'),
  tutorial: capabilities('tutorial'),
  one2one: capabilities('one2one'),
};

/** A socket that is already closed: every socket path of Session is a no-op on it. */
const NO_SOCKET = { readyState: 3 } as unknown as WebSocket;
const NO_LIMITS: SessionLimits = {
  messages: { burst: 1, perSecond: 1 },
  invites: { burst: 1, perSecond: 1 },
  outboundCapBytes: 0,
  heldMax: 0,
};

export type RemoteSink = (to: RemoteSession, event: OutEvent) => void;

export class RemoteSession extends Session {
  constructor(
    /** The node the user is on. */
    readonly node: string,
    key: string,
    name: string,
    dialect: DialectName,
    private readonly sink: RemoteSink,
  ) {
    super(NO_SOCKET, DIALECTS[dialect], '', NO_LIMITS, Date.now(), () => undefined);
    this.key = key;
    this.name = name;
    this.state = 'active';
  }

  override send(event: OutEvent): void {
    this.sink(this, event);
  }

  override sendText(): void {
    // Nothing is ever encoded for a remote party here; its own node encodes for its dialect.
  }
}
