/**
 * What the call engine tells a party. Each kind of party turns these into its own form: a
 * dialect's wire text for a local session (dialects/), a node-to-node message for a party on
 * another node (cluster/wire.ts). Both of those switch over this union exhaustively, so a new
 * event that one of them does not handle does not compile.
 */
import type { EndReason, ErrorCode } from '@callwire/protocol';
import type { Call, SignalKind } from './call.js';
import type { Party } from './party.js';

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
