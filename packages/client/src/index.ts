/**
 * `@callwire/client`: the callwire browser SDK. This file is its only public surface.
 *
 * Importing it touches no DOM API, so it also loads in Node (pass `WebSocket` from 'ws'),
 * where the signaling works and WebRTC parts stay dormant.
 */
import type { EndReason as ProtocolEndReason } from '@callwire/protocol';
import { CallwireClient } from './client.js';
import { resolveOptions, type ConnectOptions } from './options.js';

/**
 * Open a connection to a callwire server and log in (native protocol v1). Resolves once the
 * login succeeded; rejects with a {@link CallwireError} whose `code` says why (`name_taken`,
 * `name_invalid`, `invalid_credentials`, `connection_failed`, `timeout`), and with a TypeError
 * for bad arguments.
 *
 * @example
 * ```ts
 * import { connect } from '@callwire/client';
 *
 * const client = await connect('wss://calls.example.com/', { name: 'alice' });
 * client.on('incoming', async (incoming) => {
 *   const call = await incoming.accept({ audio: true, video: true });
 *   call.on('remoteStream', (stream) => (remoteVideo.srcObject = stream));
 * });
 * ```
 */
export async function connect(url: string, options: ConnectOptions): Promise<CallwireClient> {
  const client = new CallwireClient(resolveOptions(url, options));
  await client.start();
  return client;
}

/**
 * Why a call ended: `hangup`, `declined`, `busy`, `no_answer`, `cancelled`, `unavailable`,
 * `disconnected` (a side lost its connection) or `failed` (media could not be established).
 *
 * @example
 * ```ts
 * call.on('ended', (reason: EndReason) => {
 *   if (reason === 'busy') toast(`${call.peer} is in another call`);
 * });
 * ```
 */
export type EndReason = ProtocolEndReason;

export { CallwireClient };
export type { ClientEvents, PresenceUpdate, UsersPage } from './client.js';
export type { ConnectOptions } from './options.js';
export type { ConnectionState } from './signaling.js';
export { jitteredBackoff, defaultReconnectPolicy } from './reconnect-policy.js';
export type { ReconnectPolicy, BackoffOptions } from './reconnect-policy.js';
export { Call } from './call.js';
export type {
  CallEvents,
  CallOptions,
  CallRole,
  CallState,
  ChatMessage,
  HoldState,
  RemoteMedia,
} from './call-types.js';
export { defaultDeviceLabel } from './device.js';
export type { DeviceIdentity, DeviceInfo } from './device.js';
export { IncomingCall } from './incoming-call.js';
export type { IncomingCallEvents, IncomingCallState } from './incoming-call.js';
export type { FileTransfer, IncomingFile } from './file-transfer.js';
export type { StatsSample } from './stats.js';
export { testIceServers } from './connectivity.js';
export type { ConnectionTestResult, LocalCandidate } from './connectivity.js';
export {
  connectivityVerdict,
  failureText,
  type ConnectivityProbe,
  type ConnectivityVerdict,
  type VerdictKind,
} from '@callwire/protocol';
export type { DeviceKeyInfo } from './device-key.js';
export type { VerificationState } from './verification.js';
export { CallwireError, InvalidStateError, ClientErrorCodes } from './errors.js';
export type { CallwireErrorCode } from './errors.js';
export type { Unsubscribe } from './emitter.js';
export type {
  WebSocketLike,
  WebSocketConstructorLike,
  MessageEventLike,
  CloseEventLike,
} from './socket.js';
