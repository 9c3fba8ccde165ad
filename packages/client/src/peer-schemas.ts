/**
 * The peer-to-peer messages as TypeBox schemas: the source of their TypeScript types and of the
 * plain JSON Schemas the SDK checks them with (peer-schemas.generated.ts, written by
 * `npm run gen:schemas`). Nothing imports this file at run time, so TypeBox stays out of apps.
 */
import { Type, type Static } from '@sinclair/typebox';
import { CHAT_MAX_CHARS, FILE_NAME_MAX_CHARS } from './peer-limits.js';

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
  /** Verified calls: the hash commitment to this side's nonce, sent first (verification.ts). */
  'verify-commit': Type.Object({
    type: Type.Literal('verify-commit'),
    commit: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  }),
  /** The nonce itself, sent only once the peer's commitment has arrived. */
  'verify-reveal': Type.Object({
    type: Type.Literal('verify-reveal'),
    nonce: Type.String({ pattern: '^[0-9a-f]{64}$' }),
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
  /** The receiver takes the file: only now does the sender stream its chunks. */
  'file-accept': Type.Object({ type: Type.Literal('file-accept'), id: TransferId }),
  /**
   * The receiver does not take it: the person said no (`declined`), or it is above the size the
   * receiver accepts (`too_large`, with that size), refused without asking.
   */
  'file-decline': Type.Object({
    type: Type.Literal('file-decline'),
    id: TransferId,
    reason: Type.Union([Type.Literal('declined'), Type.Literal('too_large')]),
    maxBytes: Type.Optional(Type.Integer({ minimum: 0 })),
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
