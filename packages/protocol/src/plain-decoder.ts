/**
 * Decoders that check frames with the small interpreter in plain-schema.ts instead of TypeBox:
 * what the SDK uses, so an app that bundles it carries neither TypeBox nor generated code. The
 * schemas are the server's own, emitted as plain JSON Schema by `npm run gen:schemas`.
 */
import { decoderFromChecks, type Check, type Decoder } from './decoded.js';
import type { ServerMessage } from './messages.js';
import { checkPlain, type PlainSchema } from './plain-schema.js';
import { plainServerSchemas } from './server-schemas.generated.js';

/**
 * Build a decoder over plain JSON Schemas (`type` for native messages, `id` for one2one). `M`
 * is the union the schemas describe; a test holds the schemas to the types' TypeBox source.
 */
export function createPlainDecoder<M>(
  schemas: { readonly [type: string]: PlainSchema },
  key: 'type' | 'id',
): Decoder<M> {
  const checks = new Map<string, Check>();
  for (const [type, schema] of Object.entries(schemas)) {
    checks.set(type, (value) => checkPlain(schema, value));
  }
  return decoderFromChecks<M>(checks, key);
}

/** Server -> client frames, with the same verdicts as the TypeBox `serverDecoder`. */
export const plainServerDecoder: Decoder<ServerMessage> = createPlainDecoder<ServerMessage>(
  plainServerSchemas,
  'type',
);
