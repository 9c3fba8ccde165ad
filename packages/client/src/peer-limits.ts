/** Limits of the peer-to-peer messages (peer-schemas.ts), apart so code can use them without the schemas. */
export const CHAT_MAX_CHARS = 16_000;
export const FILE_NAME_MAX_CHARS = 255;
