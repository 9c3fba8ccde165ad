/**
 * The one validation path: every inbound frame is parsed, then checked against the schema its
 * discriminant names, before anything else looks at it. Validators are compiled once (TypeBox
 * TypeCompiler); where code generation is forbidden (a page whose Content-Security-Policy has
 * no 'unsafe-eval') they fall back to the interpreted checker, with the same results.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { decoderFromChecks, type Check, type Decoder } from './decoded.js';
import { ClientMessages, ServerMessages } from './messages.js';
import { One2OneClientMessages } from './one2one.js';
import { PeerjsClientMessages } from './peerjs.js';

export type { Decoded, Decoder } from './decoded.js';

function compile(schema: TSchema): Check {
  try {
    const checker = TypeCompiler.Compile(schema);
    return (value) => checker.Check(value);
  } catch {
    return (value) => Value.Check(schema, value);
  }
}

/**
 * Build a decoder for a family of messages keyed by `key` (`type` for native and PeerJS, `id`
 * for the one2one dialect, `op` for the server's node-to-node messages). Schemas are looked up in a
 * Map, so a type such as `__proto__` or `constructor` is simply unknown.
 */
export function createDecoder<S extends Record<string, TSchema>>(
  schemas: S,
  key: string,
): Decoder<{ [K in keyof S]: Static<S[K]> }[keyof S]> {
  const checks = new Map<string, Check>();
  for (const [type, schema] of Object.entries(schemas)) checks.set(type, compile(schema));
  return decoderFromChecks(checks, key);
}

export const clientDecoder = createDecoder(ClientMessages, 'type');
export const serverDecoder = createDecoder(ServerMessages, 'type');
export const one2oneDecoder = createDecoder(One2OneClientMessages, 'id');
export const peerjsDecoder = createDecoder(PeerjsClientMessages, 'type');
