/**
 * A user on another node, as this node's engine sees them: a party of a call like any session,
 * except that what the engine "sends" it is handed to the cluster bus, which carries it to the
 * user's node. It has no socket here and never logs in or out on this node; it exists for one
 * call (the engine's `call` field tells whether that call is still on).
 *
 * A party whose node was drained is *parked* while its client reconnects to another node:
 * what is sent to it is held, in order and bounded, and goes to its new node when it resumes
 * there (migration.ts).
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
  parked = false;
  /** The node it was on before it was parked (late messages from there are still its own). */
  formerNode: string | undefined;
  private parkHeld: OutEvent[] = [];
  private parkCap = 0;
  private onParkOverflow: (() => void) | undefined;

  constructor(
    /** The node the user is on ('' while parked). */
    public node: string,
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
    if (!this.parked) return this.sink(this, event);
    if (this.parkHeld.length < this.parkCap) {
      this.parkHeld.push(event);
    } else if (this.onParkOverflow !== undefined) {
      const overflow = this.onParkOverflow;
      this.onParkOverflow = undefined;
      overflow();
    }
  }

  /** Its node is going away and its client will resume elsewhere: hold what is sent to it. */
  park(heldMax: number, onOverflow: () => void): void {
    if (this.parked) return;
    this.formerNode = this.node;
    this.node = '';
    this.parked = true;
    this.parkCap = heldMax;
    this.onParkOverflow = onOverflow;
  }

  /** It resumed on the node that holds its call: what was held is that node's to deliver. */
  takeHeld(): OutEvent[] {
    const held = this.parkHeld;
    this.parkHeld = [];
    this.parked = false;
    this.onParkOverflow = undefined;
    return held;
  }

  /** It resumed on `node`: deliver there, in order, what was held. */
  unpark(node: string): void {
    this.node = node;
    this.parked = false;
    this.onParkOverflow = undefined;
    const held = this.parkHeld;
    this.parkHeld = [];
    for (const event of held) this.sink(this, event);
  }

  override sendText(): void {
    // Nothing is ever encoded for a remote party here; its own node encodes for its dialect.
  }
}
