/**
 * Public types of a call, kept apart from the Call class so the event map, options and states
 * read as one page of documentation.
 */
import type { EndReason } from '@callwire/protocol';
import type { IncomingFile } from './file-transfer.js';
import type { StatsSample } from './stats.js';
import type { VerificationState } from './verification.js';

/**
 * Where a call is: `waiting` (a meeting room with one person in it), `ringing` (the callee is
 * being rung), `connecting` (accepted; media is being set up), `connected` (media flows and the
 * data channels are open, so chat and files can be sent),
 * `ended` (see `endReason`). `stateChanged` fires once per transition.
 *
 * @example
 * ```ts
 * call.on('stateChanged', (state: CallState) => (statusLine.textContent = state));
 * ```
 */
export type CallState = 'waiting' | 'ringing' | 'connecting' | 'connected' | 'ended';

/**
 * `caller` placed the call (or joined a room first); `callee` accepted it.
 *
 * @example
 * ```ts
 * if (call.role === 'caller') console.log('you called', call.peer);
 * ```
 */
export type CallRole = 'caller' | 'callee';

/**
 * What to send in a call. Defaults: microphone and camera. Pass `localStream` to use tracks
 * the app captured itself (the SDK then never stops them).
 *
 * @example
 * ```ts
 * await client.call('bob', { audio: true, video: false }); // a voice call
 * ```
 */
export interface CallOptions {
  audio?: boolean;
  video?: boolean;
  localStream?: MediaStream;
}

/**
 * What a side says it sends: microphone on, video on (camera or screen), screen shared.
 * Mute and camera-off reach the other side through this (the `peerMediaChanged` event).
 *
 * @example
 * ```ts
 * call.on('peerMediaChanged', (m: RemoteMedia) => (mutedIcon.hidden = m.audio));
 * ```
 */
export interface RemoteMedia {
  audio: boolean;
  video: boolean;
  screen: boolean;
}

/**
 * A chat message received from the peer (own messages are not echoed back as events).
 *
 * @example
 * ```ts
 * call.on('chat', (m: ChatMessage) => log(`${m.from}: ${m.text}`));
 * ```
 */
export interface ChatMessage {
  text: string;
  /** The peer's name. */
  from: string;
  /** The sender's clock, ms since the epoch. */
  at: number;
}

/**
 * Events of a {@link Call}.
 *
 * @example
 * ```ts
 * call.on('remoteStream', (stream) => (remoteVideo.srcObject = stream));
 * call.on('ended', (reason) => console.log('call ended:', reason));
 * ```
 */
export interface CallEvents {
  stateChanged: (state: CallState, previous: CallState) => void;
  /** The set of remote tracks changed; a new MediaStream object each time. */
  remoteStream: (stream: MediaStream) => void;
  ended: (reason: EndReason) => void;
  chat: (message: ChatMessage) => void;
  peerMediaChanged: (remoteMedia: RemoteMedia) => void;
  fileOffered: (incoming: IncomingFile) => void;
  stats: (sample: StatsSample) => void;
  /** The peer's signaling connection dropped; media goes on while the server waits for it. */
  peerReconnecting: () => void;
  /** The peer's signaling connection is back (it resumed its session). */
  peerReconnected: () => void;
  /** The local tracks changed (camera on/off, device switch, screen share); a new MediaStream. */
  localStreamChanged: (stream: MediaStream | null) => void;
  /** This side or the peer put the call on hold or took it off hold. */
  holdChanged: (hold: HoldState) => void;
  /**
   * `call.verification` changed, or `call.safetyCode` became known (the state is passed; a
   * restarted peer connection goes back to `pending` and is checked again).
   */
  verificationChanged: (state: VerificationState) => void;
}

/**
 * Who holds the call: this side (`local`, see `call.hold()`) and the peer (`remote`). While
 * either holds, no audio or video flows in either direction; chat and files go on.
 *
 * @example
 * ```ts
 * call.on('holdChanged', ({ local, remote }: HoldState) => {
 *   banner.textContent = remote ? `${call.peer} put you on hold` : local ? 'On hold' : '';
 * });
 * ```
 */
export interface HoldState {
  local: boolean;
  remote: boolean;
}

/** Media captured (or handed in) before a call is placed or accepted. */
export interface PreparedMedia {
  stream: MediaStream | null;
  owned: boolean;
  intent: { audio: boolean; video: boolean };
}
