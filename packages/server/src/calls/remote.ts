/**
 * The engine's one seam to other nodes. On a single node it is `SINGLE_NODE`: nobody is
 * anywhere else. In a cluster (cluster/cluster.ts) a call is driven on its caller's node (its
 * home); the callee's node keeps a copy of it (a Call with `home` set) so that its local party
 * names it as usual, and every command that party gives is carried to the home, which alone
 * runs the state machine.
 */
import type { MediaValue } from '@callwire/protocol';
import type { Call } from './call.js';
import type { CallCommand } from './commands.js';
import type { Party } from './model.js';

export interface InviteTarget {
  readonly key: string;
  readonly display: string;
}

export interface RemoteCalls {
  /**
   * A person's devices may be on several nodes (accounts in a cluster): an invite looks
   * elsewhere even when some of their devices are here, and all of them ring.
   */
  readonly devicesAcrossNodes: boolean;
  /**
   * Nobody by that name is on this node: look for them elsewhere and, when the search is over,
   * come back through `Engine.placeFound`. False when there is nowhere else to look.
   */
  invite(
    caller: Party,
    target: InviteTarget,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
  ): boolean;
  /**
   * "Move call here" for a call this node does not drive (unknown here, or a copy of a call
   * driven elsewhere): find the node that drives it and move it there; the answer reaches
   * `device` as `accepted` or an error. False when there is nowhere else to look.
   */
  move(device: Party, callId: string, ref: string | undefined): boolean;
  /** A command for a call driven elsewhere: carry it to the call's home. */
  forward(call: Call, party: Party, command: CallCommand): void;
  /** The party is placing a call elsewhere right now (it counts as busy). */
  isPlacing(party: Party): boolean;
  /** A call driven here ended (after its parties were told). */
  callEnded(call: Call, wasConnected: boolean): void;
  /**
   * Nobody waits in `room` on this node: find the room elsewhere (join its waiter there, or
   * come back through `Engine.waitInRoom`). False when there is nowhere else to look.
   */
  join(party: Party, room: string, media: MediaValue | undefined, ref: string | undefined): boolean;
  /** A room of this node is empty again (its waiter left, or its call ended). */
  roomClosed(room: string): void;
}

/** One node, nobody elsewhere: every call is driven here. */
export const SINGLE_NODE: RemoteCalls = {
  devicesAcrossNodes: false,
  invite: () => false,
  move: () => false,
  forward: (call) => {
    throw new Error(`call ${call.id} names a home on a single node`);
  },
  isPlacing: () => false,
  callEnded: () => undefined,
  join: () => false,
  roomClosed: () => undefined,
};
