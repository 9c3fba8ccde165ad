/**
 * The call's `control` data channel: text chat and the media-state announcement that lets the
 * peer show "muted" or "camera off" (a disabled or removed track is otherwise invisible on the
 * receiving side: it simply gets silence or a frozen frame). Ordered and reliable, so chat
 * arrives in the order it was typed and the last media state wins.
 */
import type { MediaState } from './call-media.js';
import type { VerifyMessage } from './verification.js';
import { InvalidStateError } from './errors.js';
import { CHAT_MAX_CHARS, controlDecoder, type ControlMessage } from './peer-messages.js';
import { assertNever } from './util.js';

export interface ControlHandlers {
  open: () => void;
  chat: (text: string, at: number) => void;
  media: (state: MediaState) => void;
  /** The safety-code nonce exchange (verification.ts). */
  verify: (msg: VerifyMessage) => void;
}

export class ControlLink {
  readonly #channel: RTCDataChannel;

  constructor(channel: RTCDataChannel, handlers: ControlHandlers) {
    this.#channel = channel;
    channel.addEventListener('open', () => handlers.open());
    channel.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (typeof event.data !== 'string') return;
      const decoded = controlDecoder.decode(event.data);
      if (!decoded.ok) return; // A malformed peer message is dropped; nothing else happens.
      const msg = decoded.msg;
      switch (msg.type) {
        case 'chat':
          handlers.chat(msg.text, msg.at);
          return;
        case 'media':
          handlers.media({ audio: msg.audio, video: msg.video, screen: msg.screen });
          return;
        case 'verify-commit':
          handlers.verify({ type: msg.type, commit: msg.commit });
          return;
        case 'verify-reveal':
          handlers.verify({ type: msg.type, nonce: msg.nonce });
          return;
        default:
          assertNever(msg);
      }
    });
  }

  get open(): boolean {
    return this.#channel.readyState === 'open';
  }

  sendChat(text: string, at: number): void {
    if (typeof text !== 'string') throw new TypeError('text must be a string');
    if (text.length > CHAT_MAX_CHARS)
      throw new RangeError(`chat messages are at most ${CHAT_MAX_CHARS} characters`);
    if (!this.open) throw new InvalidStateError('the chat channel is not open yet');
    this.#send({ type: 'chat', text, at });
  }

  /** Announce our media state; silently skipped until the channel opens (sent on open). */
  sendMedia(state: MediaState): void {
    if (this.open) this.#send({ type: 'media', ...state });
  }

  /** A verification message; dropped if the channel closed meanwhile (the call is ending). */
  sendVerify(msg: VerifyMessage): void {
    if (this.open) this.#send(msg);
  }

  #send(msg: ControlMessage): void {
    this.#channel.send(JSON.stringify(msg));
  }
}
