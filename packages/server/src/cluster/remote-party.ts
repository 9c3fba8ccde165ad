/**
 * A user on another node, as a party of a call here (calls/party.ts): what the engine sends it
 * is handed to the cluster bus, which carries it to the user's node, whose own session encodes
 * it for its client. It has no socket here and never logs in or out on this node; it exists
 * for one call (its `call` tells whether that call is still on).
 *
 * A party whose node was drained is *parked* while its client reconnects to another node:
 * what is sent to it is kept, in order and bounded, and goes to its new node when it resumes
 * there (migration.ts).
 */
import type { Call } from '../calls/call.js';
import type { CallOutEvent, ClientFamily, Party, PartyTraits } from '../calls/model.js';

/** What the engine may ask of a remote party's client family: its behaviour, never its words. */
function traits(name: ClientFamily): PartyTraits {
  return {
    name,
    ringsWithOffer: name === 'one2one',
    // A tutorial callee is accepted by its own node, right after it hears `incoming`: its
    // home cannot skip the ringing step without leaving that node out of the call.
    autoAccept: false,
  };
}

const TRAITS: Record<ClientFamily, PartyTraits> = {
  native: traits('native'),
  tutorial: traits('tutorial'),
  one2one: traits('one2one'),
  // Never a party of a call (PeerJS frames are relayed by id, not through the engine).
  peerjs: traits('peerjs'),
};

export type RemoteSink = (to: RemoteParty, event: CallOutEvent) => void;

export class RemoteParty implements Party {
  readonly state = 'active';
  readonly dialect: PartyTraits;
  /** Written only by the call book (calls/book.ts). */
  call: Call | null = null;
  other: Call | null = null;
  room: string | null = null;
  parked = false;
  /** The node it was on before it was parked (late messages from there are still its own). */
  formerNode: string | undefined;
  private parkQueue: CallOutEvent[] = [];
  private parkCap = 0;
  private onParkOverflow: (() => void) | undefined;

  constructor(
    /** The node the user is on ('' while parked). */
    public node: string,
    readonly key: string,
    readonly name: string,
    family: ClientFamily,
    private readonly sink: RemoteSink,
    /** Which of the person's devices it is (with accounts), for its node to deliver to. */
    readonly dev?: string | undefined,
  ) {
    this.dialect = TRAITS[family];
  }

  send(event: CallOutEvent): void {
    if (!this.parked) return this.sink(this, event);
    if (this.parkQueue.length < this.parkCap) {
      this.parkQueue.push(event);
    } else if (this.onParkOverflow !== undefined) {
      const overflow = this.onParkOverflow;
      this.onParkOverflow = undefined;
      overflow();
    }
  }

  /** What one node sends another within a turn leaves in one PUBLISH already (wire.ts). */
  sendAll(events: readonly CallOutEvent[]): void {
    for (const event of events) this.send(event);
  }

  /** Its node is going away and its client will resume elsewhere: keep what is sent to it. */
  park(queueMax: number, onOverflow: () => void): void {
    if (this.parked) return;
    this.formerNode = this.node;
    this.node = '';
    this.parked = true;
    this.parkCap = queueMax;
    this.onParkOverflow = onOverflow;
  }

  /** It resumed on the node that holds its call: what was kept is that node's to deliver. */
  takeQueued(): CallOutEvent[] {
    const queued = this.parkQueue;
    this.parkQueue = [];
    this.parked = false;
    this.onParkOverflow = undefined;
    return queued;
  }

  /** It resumed on `node`: deliver there, in order, what was kept. */
  unpark(node: string): void {
    this.node = node;
    this.parked = false;
    this.onParkOverflow = undefined;
    const queued = this.parkQueue;
    this.parkQueue = [];
    for (const event of queued) this.sink(this, event);
  }
}
