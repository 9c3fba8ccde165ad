/**
 * Everything the app tells a person about a call outcome or a failure, in one place. Inputs are
 * the SDK's end reasons and error codes; unknown values still get a sensible sentence.
 */
import { failureText, type Call, type ConnectivityVerdict } from '@callwire/client';
import { assertNever } from './assert-never.js';
import { formatDuration } from './dom.js';

/** Why a call ended, as the SDK reports it. */
export type EndReason = NonNullable<Call['endReason']>;

export type Perspective = 'caller' | 'callee';

export type Tone = 'info' | 'warn' | 'error';

export type Notice = { text: string; tone: Tone };

export function endNotice(
  reason: EndReason,
  peer: string,
  as: Perspective,
  connectedMs: number,
  endedByMe: boolean,
  connectivity: ConnectivityVerdict | null = null,
): Notice {
  switch (reason) {
    case 'hangup':
      return {
        text: connectedMs > 0 ? `Call with ${peer} ended (${formatDuration(connectedMs)}).` : `Call with ${peer} ended.`,
        tone: 'info',
      };
    case 'declined':
      return as === 'caller'
        ? { text: `${peer} declined the call.`, tone: 'warn' }
        : { text: `You declined the call from ${peer}.`, tone: 'info' };
    case 'busy':
      return { text: `${peer} is in another call. Try again later.`, tone: 'warn' };
    case 'no_answer':
      return as === 'caller'
        ? { text: `${peer} didn't answer.`, tone: 'warn' }
        : { text: `Missed call from ${peer}.`, tone: 'warn' };
    case 'cancelled':
      if (as === 'caller' || endedByMe) return { text: 'Call cancelled.', tone: 'info' };
      return { text: `Missed call from ${peer}.`, tone: 'warn' };
    case 'unavailable':
      return { text: `${peer} is not available right now (offline or unknown).`, tone: 'warn' };
    case 'disconnected':
      return { text: `The call dropped: the connection to ${peer} was lost.`, tone: 'error' };
    case 'failed':
      // What this side's network let through says whose network blocked the call.
      if (connectivity !== null)
        return { text: `The call with ${peer} could not be connected. ${failureText(connectivity)}`, tone: 'error' };
      return {
        text: `The call with ${peer} could not be connected (the network between you blocked it).`,
        tone: 'error',
      };
    case 'answered_elsewhere':
      return { text: `Call from ${peer} answered on another of your devices.`, tone: 'info' };
    case 'declined_elsewhere':
      return { text: `Call from ${peer} declined on another of your devices.`, tone: 'info' };
    case 'moved':
      return { text: `Call with ${peer} moved to another of your devices.`, tone: 'info' };
    default:
      return assertNever(reason);
  }
}

/**
 * An incoming call that stopped ringing here because another of my devices took it or turned it
 * down; null for every other reason (those are missed calls).
 */
export function elsewhereNotice(reason: EndReason, peer: string): Notice | null {
  if (reason === 'answered_elsewhere') return { text: `Answered on another device: the call from ${peer}.`, tone: 'info' };
  if (reason === 'declined_elsewhere') return { text: `Declined on another device: the call from ${peer}.`, tone: 'info' };
  return null;
}

const CODE_TEXT: Record<string, string> = {
  name_invalid: 'That name cannot be used. Use 1-32 letters, digits, spaces, ".", "_" or "-".',
  name_taken: 'Somebody is already signed in with that name. Pick another one.',
  invalid_credentials: 'Wrong name or password.',
  self_call: "You can't call yourself.",
  rate_limited: 'Too many attempts in a short time. Wait a moment and try again.',
  room_full: 'This meeting already has two people in it.',
  service_unavailable: 'The server is having trouble right now. Try again shortly.',
  temporarily_unavailable: 'That person cannot be reached right now. Try again shortly.',
  internal_error: 'The server could not handle that. Try again.',
  not_logged_in: 'You are not signed in any more. Sign in again.',
  invalid_state: 'That is not possible in the current state of the call.',
  not_in_call: 'That call is already over.',
  call_ended: 'That call is already over.',
  transfer_cancelled: 'The transfer was cancelled.',
  transfer_failed: 'The file did not arrive intact.',
  webrtc_unavailable: 'This browser cannot make calls (no WebRTC).',
  closed: 'You are signed out.',
  disconnected: 'The connection to the server dropped. Try again in a moment.',
  connection_failed: 'Cannot reach the server. Check your connection and try again.',
  timeout: 'The server did not answer in time. Try again.',
  too_many_devices: 'You are signed in on too many devices. Sign one out (Devices) and try again.',
  signed_out: 'This device was signed out from another of your devices.',
};

/** Camera and microphone failures (DOMException names from getUserMedia). */
const MEDIA_TEXT: Record<string, string> = {
  NotAllowedError: 'Camera or microphone access was blocked. Allow it in the browser and try again.',
  SecurityError: 'Camera or microphone access was blocked. Allow it in the browser and try again.',
  NotFoundError: 'No camera or microphone was found.',
  OverconstrainedError: 'No camera or microphone was found that can be used.',
  NotReadableError: 'The camera or microphone is in use by another app.',
  AbortError: 'The camera or microphone could not be started.',
};

export function errorText(err: unknown): string {
  const code = errorCode(err);
  if (code === 'media_unavailable') {
    // The SDK keeps the browser's own error as `cause`; its name says what went wrong.
    const cause = err instanceof Error ? err.cause : undefined;
    const name = cause instanceof Error ? cause.name : '';
    if (!window.isSecureContext || !navigator.mediaDevices) {
      return 'Camera and microphone cannot be used on this page: it is not a secure context (https or localhost).';
    }
    return MEDIA_TEXT[name] ?? 'The camera or microphone could not be started.';
  }
  if (code && CODE_TEXT[code]) return CODE_TEXT[code];
  if (err instanceof DOMException && MEDIA_TEXT[err.name]) return MEDIA_TEXT[err.name] ?? '';
  if (code) return `Something went wrong (${code}).`;
  return 'Something went wrong. Check your connection and try again.';
}

export function errorCode(err: unknown): string | null {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    if (typeof code === 'string') return code;
  }
  return null;
}
