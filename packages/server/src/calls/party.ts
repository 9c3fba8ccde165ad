/**
 * A party of a call, as the engine sees it: whoever can be rung, can ask things of a call and
 * can be told what happened to it. A WebSocket session on this node is one (ws/session.ts); a
 * user on another node is another (cluster/remote-party.ts); a second device or a PeerJS peer
 * will be more. The engine knows nothing else about them: it delivers events with `send`, and
 * each kind of party carries them its own way (a socket, the cluster bus).
 */
import type { Call } from './call.js';
import type { CallOutEvent } from './events.js';

/** The family of client a party uses: it decides how events are worded, and a few behaviours. */
export type ClientFamily = 'native' | 'tutorial' | 'one2one';

/** What the engine may ask of a party's client family: its behaviour, never its encoding. */
export interface PartyTraits {
  readonly name: ClientFamily;
  /** The callee's ring notification must carry the offer (one2one clients answer from it). */
  readonly ringsWithOffer: boolean;
  /** The client has no ringing step: the server accepts calls on its behalf (tutorial). */
  readonly autoAccept: boolean;
}

/** `away`: its client lost the connection but may resume; `active`: reachable now. */
export type PartyState = 'anonymous' | 'active' | 'away' | 'closed';

export interface Party {
  /** Identity key (the normalized name) and the name as shown. */
  readonly key: string;
  readonly name: string;
  readonly state: PartyState;
  readonly dialect: PartyTraits;
  /**
   * The call the party is in, and the meet-by-link room it waits in. Written only by the call
   * book (calls/book.ts); everything else reads them.
   */
  call: Call | null;
  room: string | null;
  /** Deliver an event about a call to this party. */
  send(event: CallOutEvent): void;
}
