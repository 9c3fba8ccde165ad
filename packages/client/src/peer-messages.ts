/**
 * The peer-to-peer protocol spoken over the call's data channels (the server never sees it).
 * The other browser is a stranger, so its messages are validated like the server's, with the
 * same decoder machinery and the same CSP-safe fallback.
 *
 * Two negotiated channels carry it (ids fixed on both sides, so neither waits for the other to
 * announce them): `control` for chat and media state, `files` for transfers. Files have their
 * own channel so a large transfer queued in the send buffer never delays a chat message.
 * On `files`, text frames are the JSON messages below and binary frames are chunks: a 4-byte
 * big-endian transfer number (`n` from the offer) followed by the payload.
 */
import { createDecoder } from '@callwire/protocol';
import { Type, type Static } from '@sinclair/typebox';

export const CHAT_MAX_CHARS = 16_000;
export const FILE_NAME_MAX_CHARS = 255;

const TransferId = Type.String({ minLength: 1, maxLength: 64 });

export const ControlMessages = {
  chat: Type.Object({
    type: Type.Literal('chat'),
    text: Type.String({ maxLength: CHAT_MAX_CHARS }),
    at: Type.Number(),
  }),
  media: Type.Object({
    type: Type.Literal('media'),
    audio: Type.Boolean(),
    video: Type.Boolean(),
    screen: Type.Boolean(),
  }),
};

export const FileMessages = {
  'file-offer': Type.Object({
    type: Type.Literal('file-offer'),
    id: TransferId,
    n: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    name: Type.String({ maxLength: FILE_NAME_MAX_CHARS }),
    mime: Type.String({ maxLength: 255 }),
    size: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  }),
  /** The sender has sent every chunk. */
  'file-end': Type.Object({ type: Type.Literal('file-end'), id: TransferId }),
  /** Either side gives up on a transfer. */
  'file-cancel': Type.Object({ type: Type.Literal('file-cancel'), id: TransferId }),
  /** The receiver's verdict after checking size and SHA-256. */
  'file-result': Type.Object({
    type: Type.Literal('file-result'),
    id: TransferId,
    ok: Type.Boolean(),
  }),
};

export type ControlMessage = {
  [K in keyof typeof ControlMessages]: Static<(typeof ControlMessages)[K]>;
}[keyof typeof ControlMessages];
export type FileMessage = {
  [K in keyof typeof FileMessages]: Static<(typeof FileMessages)[K]>;
}[keyof typeof FileMessages];
export type FileOffer = Static<(typeof FileMessages)['file-offer']>;

export const controlDecoder = createDecoder(ControlMessages, 'type');
export const fileDecoder = createDecoder(FileMessages, 'type');

/** Bytes of the chunk header (the transfer number). */
export const CHUNK_HEADER_BYTES = 4;
