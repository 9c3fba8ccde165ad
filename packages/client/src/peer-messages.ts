/**
 * The peer-to-peer protocol spoken over the call's data channels (the server never sees it).
 * The other browser is a stranger, so its messages are validated like the server's, with the
 * same decoder envelope and the plain-schema checker (no TypeBox, no generated code).
 *
 * Two negotiated channels carry it (ids fixed on both sides, so neither waits for the other to
 * announce them): `control` for chat and media state, `files` for transfers. Files have their
 * own channel so a large transfer queued in the send buffer never delays a chat message.
 * On `files`, text frames are the JSON messages below and binary frames are chunks: a 4-byte
 * big-endian transfer number (`n` from the offer) followed by the payload.
 */
import { createPlainDecoder } from '@callwire/protocol';
import { CHAT_MAX_CHARS, FILE_NAME_MAX_CHARS } from './peer-limits.js';
import type { ControlMessage, FileMessage, FileOffer } from './peer-schemas.js';
import { plainControlSchemas, plainFileSchemas } from './peer-schemas.generated.js';

export {
  CHAT_MAX_CHARS,
  FILE_NAME_MAX_CHARS,
  type ControlMessage,
  type FileMessage,
  type FileOffer,
};

export const controlDecoder = createPlainDecoder<ControlMessage>(plainControlSchemas, 'type');
export const fileDecoder = createPlainDecoder<FileMessage>(plainFileSchemas, 'type');

/** Bytes of the chunk header (the transfer number). */
export const CHUNK_HEADER_BYTES = 4;
