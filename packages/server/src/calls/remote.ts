/**
 * The seam between the call engine and a cluster (cluster/). On a single node the engine has no
 * `RemoteCalls` and none of this runs. In a cluster a call lives on its caller's node (its
 * home); the callee's node keeps a *shadow* of it (a Call with `home` set) so that its local
 * party can be addressed by callId and name as usual, and every command that party sends is
 * carried to the home node, which alone runs the state machine.
 */
import type { MediaValue } from '@callwire/protocol';
import type { SignalKind } from '../events.js';
import type { Session } from '../ws/session.js';
import type { Call } from './call.js';

/** What the local party of a shadow call asked for, as the home node's engine will apply it. */
export type RemoteCommand =
  | { readonly k: 'accept'; readonly ref?: string | undefined; readonly answer?: unknown }
  | { readonly k: 'decline'; readonly busy: boolean; readonly ref?: string | undefined }
  | { readonly k: 'cancel'; readonly ref?: string | undefined }
  | { readonly k: 'hangup'; readonly ref?: string | undefined }
  | {
      readonly k: 'signal';
      readonly signal: SignalKind;
      readonly payload: unknown;
      readonly ref?: string | undefined;
    }
  | { readonly k: 'report'; readonly path: 'direct' | 'relay'; readonly ref?: string | undefined }
  /** The party's session is gone (its socket closed and it cannot resume). */
  | { readonly k: 'disconnect' };

export interface RemoteCalls {
  /**
   * Nobody by that name is on this node: look for them across the cluster and, when found,
   * place the call with `Engine.completeInvite`. Frames the caller sends meanwhile wait.
   */
  invite(
    caller: Session,
    key: string,
    display: string,
    media: MediaValue | undefined,
    offer: unknown,
    ref: string | undefined,
  ): void;
  /** A command from the local party of a shadow call: carry it to the call's home node. */
  forward(call: Call, session: Session, command: RemoteCommand): void;
  /** The session is placing a call to another node right now (it counts as busy). */
  isLocating(session: Session): boolean;
  /** A call homed here ended (after its parties were told). */
  callEnded(call: Call, wasConnected: boolean): void;
  /**
   * Nobody waits in `room` on this node: find it across the cluster (join its waiter there,
   * or be its waiter here through `Engine.waitInRoom`).
   */
  join(session: Session, room: string, media: MediaValue | undefined, ref: string | undefined): void;
  /** A room of this node is empty again (its waiter left, or its call ended). */
  roomClosed(room: string): void;
}
