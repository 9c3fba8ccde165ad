/**
 * What the server tells a session, before a dialect turns it into its own wire format.
 * The engine and the hub speak only these events; dialects/ translate them at the edge.
 */
import type {
  EndReason,
  ErrorCode,
  UserEntryValue,
  IceServerValue,
  MissedCallValue,
  ResumedCallValue,
} from '@callwire/protocol';
import type { Call } from './calls/call.js';
import type { Session } from './ws/session.js';

export type SignalKind = 'offer' | 'answer' | 'candidate';

export type OutEvent =
  | {
      readonly t: 'login-ok';
      readonly users: readonly UserEntryValue[];
      readonly usersTotal: number;
      readonly iceServers: readonly IceServerValue[];
      /** Calls missed while away (with accounts only). */
      readonly missed?: readonly MissedCallValue[] | undefined;
      /** Bearer token for the HTTP API (with accounts only). */
      readonly sessionToken?: string | undefined;
      /** Resume: the token for the next resume, and what this login got back. */
      readonly resumeToken?: string | undefined;
      readonly resumeGraceMs?: number | undefined;
      readonly resumed?: boolean | undefined;
      readonly calls?: readonly ResumedCallValue[] | undefined;
      readonly ref?: string | undefined;
    }
  | {
      /** The peer of `callId` lost its socket (`away`) or resumed. */
      readonly t: 'peer-state';
      readonly callId: string;
      readonly name: string;
      readonly away: boolean;
    }
  | {
      readonly t: 'login-fail';
      readonly code: ErrorCode;
      readonly message: string;
      readonly retryAfterMs?: number | undefined;
      readonly ref?: string | undefined;
    }
  | { readonly t: 'ringing'; readonly call: Call; readonly sendOffer: boolean; readonly ref?: string | undefined }
  | { readonly t: 'incoming'; readonly call: Call }
  | { readonly t: 'accepted'; readonly call: Call; readonly role: 'caller' | 'callee'; readonly ref?: string | undefined }
  | {
      readonly t: 'signal';
      readonly call: Call;
      readonly from: Session;
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
      /** This session ended the call itself (its own hangup, cancel or decline). */
      readonly self: boolean;
      /** The call was accepted before it ended. */
      readonly wasConnected: boolean;
      readonly ref?: string | undefined;
    }
  | { readonly t: 'presence'; readonly name: string; readonly status: 'online' | 'busy' | 'offline' }
  | {
      readonly t: 'users';
      readonly users: readonly UserEntryValue[];
      readonly total: number;
      readonly cursor?: string | undefined;
      readonly ref?: string | undefined;
    }
  | { readonly t: 'joined'; readonly room: string; readonly ref?: string | undefined }
  | { readonly t: 'pong'; readonly ref?: string | undefined }
  | {
      readonly t: 'error';
      readonly code: ErrorCode;
      readonly message?: string | undefined;
      readonly callId?: string | undefined;
      readonly ref?: string | undefined;
    }
  | { readonly t: 'reconnect'; readonly afterMs: number }
  /** Fresh STUN/TURN servers: the ones from login are about to expire. */
  | { readonly t: 'ice-servers'; readonly iceServers: readonly IceServerValue[] };
