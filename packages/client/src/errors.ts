/**
 * The SDK's errors. Server refusals keep the protocol's closed list of codes; the SDK adds a few
 * codes of its own for what only the client can see (the socket dropped, a request timed out, a
 * file transfer was cancelled). Tests and apps branch on `code`, never on message text.
 */
import { ErrorCodes, type ErrorCode } from '@callwire/protocol';

/**
 * Codes the SDK itself raises, beyond the server's error codes, with what each means.
 *
 * @example
 * ```ts
 * if (err instanceof CallwireError && err.code in ClientErrorCodes) console.warn('client-side:', err.code);
 * ```
 */
export const ClientErrorCodes = {
  closed: 'The client was closed; pending requests are rejected.',
  disconnected: 'The connection to the server dropped before the reply arrived.',
  connection_failed: 'The WebSocket could not be opened or closed before login finished.',
  timeout: 'The server did not reply in time.',
  protocol_error: 'The server sent a frame the protocol does not allow.',
  media_unavailable:
    'Camera, microphone or screen capture is not available (insecure context, no device, or permission denied).',
  webrtc_unavailable: 'This environment has no RTCPeerConnection.',
  transfer_cancelled: 'The file transfer was cancelled by either side.',
  transfer_declined: 'The other person declined the file.',
  transfer_too_large:
    'The file is larger than the other person accepts (their limit: `peerMaxBytes` of the transfer); it was refused without asking them.',
  transfer_failed: 'The file did not arrive intact (size or SHA-256 mismatch) or was refused.',
  call_ended: 'The call ended before the operation finished.',
  signed_out: 'This device was signed out from another device of the same account.',
} as const;

/**
 * Every code a {@link CallwireError} can carry: the server's error codes (docs/PROTOCOL.md)
 * and the SDK's own ({@link ClientErrorCodes}).
 *
 * @example
 * ```ts
 * function explain(code: CallwireErrorCode): string {
 *   return code === 'name_taken' ? 'That name is in use.' : `Something went wrong (${code}).`;
 * }
 * ```
 */
export type CallwireErrorCode = ErrorCode | keyof typeof ClientErrorCodes;

function describe(code: CallwireErrorCode): string {
  return code in ClientErrorCodes
    ? ClientErrorCodes[code as keyof typeof ClientErrorCodes]
    : ErrorCodes[code as ErrorCode];
}

/**
 * A coded failure: a server refusal (`name_taken`, `invalid_credentials`, `self_call`, ...) or
 * an SDK-side failure (`closed`, `timeout`, `transfer_cancelled`, ...). A call that is refused
 * by the other person is not an error: the call ends with a reason (`busy`, `declined`).
 *
 * @example
 * ```ts
 * try {
 *   await connect('wss://calls.example.com/', { name: 'alice' });
 * } catch (err) {
 *   if (err instanceof CallwireError && err.code === 'name_taken') showNameTaken();
 * }
 * ```
 */
export class CallwireError extends Error {
  override readonly name = 'CallwireError';
  readonly code: CallwireErrorCode;
  /** @internal */
  constructor(code: CallwireErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? describe(code), options);
    this.code = code;
  }
}

/**
 * Thrown synchronously when a method is called on an object in the wrong state, such as
 * `sendChat()` before the data channel is open or `accept()` on a call that already ended.
 * Its `name` is `InvalidStateError`, as the DOM's own.
 *
 * @example
 * ```ts
 * try {
 *   call.sendChat('hi');
 * } catch (err) {
 *   if (err instanceof InvalidStateError) console.warn('not connected yet');
 * }
 * ```
 */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}
