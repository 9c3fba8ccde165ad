/**
 * The call engine's model, types only: a party (anyone who can be in a call), a call, and the
 * events the engine tells parties. They refer to each other, so they live in one file; the
 * functions over them are in call.ts, book.ts and engine.ts.
 *
 * A party is whoever can be rung, can ask things of a call and can be told what happened to
 * it. A WebSocket session on this node is one (ws/session.ts); a user on another node is
 * another (cluster/remote-party.ts); a second device or a PeerJS peer will be more. The engine
 * knows nothing else about them: it delivers events with `send`, and each kind of party carries
 * them its own way (a socket, the cluster bus).
 */
import type { EndReason, ErrorCode, MediaValue } from '@callwire/protocol';
import type { CallState } from './machine.js';

/** The family of client a party uses: it decides how events are worded, and a few behaviours. */
/**
 * `peerjs` peers are never rung (dialects/peerjs-relay.ts relays their frames by id, outside
 * calls); the family exists so their sessions share the socket machinery of the others.
 */
export type ClientFamily = 'native' | 'tutorial' | 'one2one' | 'peerjs';

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

/**
 * One device of a person: a session that announced itself at login (`device`), or that the
 * server named. Several parties may share a key (one account on several devices); a call to
 * that key rings each of them that is free.
 */
export interface Device {
  readonly id: string;
  label: string;
  /** The client announced the device at login: it knows the events about its other devices. */
  readonly aware: boolean;
  /**
   * The client takes a second call while in one (`callWaiting` at login): a call to its person
   * rings it as waiting instead of finding it busy.
   */
  readonly callWaiting?: boolean | undefined;
  readonly signedInAtMs: number;
}

export interface Party {
  /** Identity key (the normalized name) and the name as shown. */
  readonly key: string;
  readonly name: string;
  /** Which of its person's devices this party is (undefined: a party from elsewhere). */
  readonly device?: Device | undefined;
  readonly state: PartyState;
  readonly dialect: PartyTraits;
  /**
   * The call the party is in, and the meet-by-link room it waits in. Written only by the call
   * book (calls/book.ts); everything else reads them.
   */
  call: Call | null;
  /**
   * A second call, on a device that takes call waiting: one ringing while `call` is connected
   * (a waiting call), or one on hold behind `call` (answered by holding the first). When `call`
   * ends, this one takes its place. Written only by the call book.
   */
  other: Call | null;
  room: string | null;
  /** Deliver an event about a call to this party. */
  send(event: CallOutEvent): void;
  /** Deliver several, in order, in one write where the transport can (a socket: corked). */
  sendAll(events: readonly CallOutEvent[]): void;
}

export type SignalKind = 'offer' | 'answer' | 'candidate';

export interface QueuedSignal {
  readonly signal: SignalKind;
  readonly payload: unknown;
}

export interface Call {
  readonly id: string;
  /** Fixed for the call's life, except when a stand-in gives way to the party it stood for. */
  caller: Party;
  callee: Party;
  /**
   * While the call rings: every device of the callee being rung (`callee` is one of them until
   * one accepts and becomes `callee`). Empty once answered or ended.
   */
  ringing: Party[];
  /** Put on hold, by role (either side may hold; media pauses while either holds). */
  held: { caller: boolean; callee: boolean };
  state: CallState;
  readonly media: MediaValue;
  /** Caller signals queued while ringing, delivered in order on accept. */
  queued: QueuedSignal[];
  /** The callee has been told it rings (`incoming`); one2one callees need the offer first. */
  calleeNotified: boolean;
  ringTimer: NodeJS.Timeout | undefined;
  readonly createdAtMs: number;
  answeredAtMs: number | undefined;
  readonly room: string | undefined;
  /**
   * Where the call's state machine and timers run when that is not here (the node id of the
   * caller's node, in a cluster): the local party's commands are carried there. Undefined for
   * a call driven here.
   */
  readonly home: string | undefined;
}

export interface CallSpec {
  readonly id: string;
  readonly caller: Party;
  readonly callee: Party;
  /** The callee's devices to ring (default: `callee` alone). */
  readonly ringing?: readonly Party[];
  readonly state: 'ringing' | 'connected';
  readonly media: MediaValue;
  readonly createdAtMs: number;
  readonly answeredAtMs?: number | undefined;
  readonly calleeNotified: boolean;
  readonly queued?: readonly QueuedSignal[];
  readonly room?: string | undefined;
  readonly home?: string | undefined;
}

/**
 * What the engine tells a party. Each kind of party turns these into its own form: a dialect's
 * wire text for a local session (dialects/), a node-to-node message for a party on another node
 * (cluster/wire.ts). Both switch over this union exhaustively, so a new event that one of them
 * does not handle does not compile.
 */
export type CallOutEvent =
  | {
      /** The callee is being rung (`sendOffer`: a one2one callee needs the caller's offer first). */
      readonly t: 'ringing';
      readonly call: Call;
      readonly sendOffer: boolean;
      readonly ref?: string | undefined;
    }
  | {
      readonly t: 'incoming';
      readonly call: Call;
      /** The device is in another call: this one is waiting (call waiting). */
      readonly waiting?: boolean | undefined;
      /** The caller's offer, for a callee whose client rings with it (one2one). */
      readonly offer?: unknown;
    }
  | {
      readonly t: 'accepted';
      readonly call: Call;
      readonly role: 'caller' | 'callee';
      readonly ref?: string | undefined;
    }
  | {
      readonly t: 'signal';
      readonly call: Call;
      readonly from: Party;
      readonly signal: SignalKind;
      readonly payload: unknown;
    }
  | {
      readonly t: 'ended';
      readonly callId: string;
      /** The other party's display name. */
      readonly peerName: string;
      readonly role: 'caller' | 'callee';
      readonly reason: EndReason;
      readonly missed: boolean;
      /** This party ended the call itself (its own hangup, cancel or decline). */
      readonly self: boolean;
      /** The call was accepted before it ended. */
      readonly wasConnected: boolean;
      readonly ref?: string | undefined;
    }
  | {
      /** The peer's media starts over on a new peer connection (reload, or a moved call). */
      readonly t: 'restart';
      readonly call: Call;
      readonly from: Party;
    }
  | {
      /** The peer put the call on hold, or took it off hold. */
      readonly t: 'hold';
      readonly call: Call;
      readonly from: Party;
      readonly held: boolean;
    }
  | {
      /** The peer of `callId` lost its connection (`away`) or resumed. */
      readonly t: 'peer-state';
      readonly callId: string;
      readonly name: string;
      readonly away: boolean;
    }
  | { readonly t: 'joined'; readonly room: string; readonly ref?: string | undefined }
  | {
      readonly t: 'error';
      readonly code: ErrorCode;
      readonly message?: string | undefined;
      readonly callId?: string | undefined;
      readonly ref?: string | undefined;
    };
