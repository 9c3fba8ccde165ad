/**
 * What the server tells a session, before a dialect turns it into its own wire format: the
 * call engine's events (calls/events.ts) and the session's own (login, presence, lists).
 * Dialects (dialects/) translate them at the edge, each with an exhaustive switch.
 */
import type {
  ErrorCode,
  UserEntryValue,
  IceServerValue,
  MissedCallValue,
  ResumedCallValue,
  DeviceEntryValue,
} from '@callwire/protocol';
import type { CallOutEvent } from './calls/model.js';

export type { SignalKind } from './calls/call.js';

export type OutEvent =
  | CallOutEvent
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
      /** The device this session is (clients that announced one). */
      readonly device?: { readonly id: string; readonly label: string } | undefined;
      readonly ref?: string | undefined;
    }
  /** The account's devices signed in now (to devices that announced themselves). */
  | { readonly t: 'devices'; readonly devices: readonly DeviceEntryValue[] }
  | {
      readonly t: 'login-fail';
      readonly code: ErrorCode;
      readonly message: string;
      readonly retryAfterMs?: number | undefined;
      readonly ref?: string | undefined;
    }
  | { readonly t: 'presence'; readonly name: string; readonly status: 'online' | 'busy' | 'offline' }
  /** The presence changes of one tick (hub.ts), to a client that asked for batches. */
  | {
      readonly t: 'presences';
      /** Every change of the tick: one array shared by all its recipients (dialects cache by it). */
      readonly users: readonly { readonly name: string; readonly status: 'online' | 'busy' | 'offline' }[];
      /** The positions in `users` this recipient hears, in order; absent: all of them. */
      readonly only?: readonly number[];
    }
  | {
      readonly t: 'users';
      readonly users: readonly UserEntryValue[];
      readonly total: number;
      readonly cursor?: string | undefined;
      readonly ref?: string | undefined;
    }
  | { readonly t: 'pong'; readonly ref?: string | undefined }
  | { readonly t: 'reconnect'; readonly afterMs: number }
  /** Fresh STUN/TURN servers: the ones from login are about to expire. */
  | { readonly t: 'ice-servers'; readonly iceServers: readonly IceServerValue[] };
