/**
 * The one validation path: every inbound frame is parsed, then checked against the schema its
 * discriminant names, before anything else looks at it. Validators are compiled once (TypeBox
 * TypeCompiler); where code generation is forbidden (a page whose Content-Security-Policy has
 * no 'unsafe-eval') they fall back to the interpreted checker, with the same results.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { ErrorCode } from './codes.js';
import { ClientMessages, ServerMessages } from './messages.js';
import { One2OneClientMessages } from './one2one.js';
import { PeerjsClientMessages } from './peerjs.js';

type Check = (value: unknown) => boolean;

export type Decoded<M> =
  | { readonly ok: true; readonly msg: M }
  | {
      readonly ok: false;
      readonly code: ErrorCode;
      readonly message: string;
      /** The `ref` of the offending message when it had a usable one, to echo on the error. */
      readonly ref?: string;
      /** The discriminant when it was a known type (for metrics and logs). */
      readonly type?: string;
    };

function compile(schema: TSchema): Check {
  try {
    const checker = TypeCompiler.Compile(schema);
    return (value) => checker.Check(value);
  } catch {
    return (value) => Value.Check(schema, value);
  }
}

export interface Decoder<M> {
  /** Parse and validate one text frame. Never throws. */
  decode(text: string): Decoded<M>;
  /** Validate an already-parsed value. Never throws. */
  check(value: unknown): Decoded<M>;
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
  type M = { [K in keyof S]: Static<S[K]> }[keyof S];
  const checks = new Map<string, Check>();
  for (const [type, schema] of Object.entries(schemas)) checks.set(type, compile(schema));

  const check = (value: unknown): Decoded<M> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, code: 'bad_json', message: 'A message must be a JSON object.' };
    }
    const record = value as Record<string, unknown>;
    const ref = typeof record.ref === 'string' && record.ref.length <= 64 ? record.ref : undefined;
    const type = record[key];
    if (typeof type !== 'string') {
      return withRef({ ok: false, code: 'bad_message', message: `Missing "${key}".` }, ref);
    }
    const validate = checks.get(type);
    if (validate === undefined) {
      return withRef({ ok: false, code: 'unknown_type', message: 'Unknown message type.' }, ref);
    }
    if (!validate(value)) {
      return withRef(
        { ok: false, code: 'bad_message', message: `Invalid "${type}" message.`, type },
        ref,
      );
    }
    return { ok: true, msg: value };
  };

  return {
    check,
    decode(text) {
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        return { ok: false, code: 'bad_json', message: 'The frame is not valid JSON.' };
      }
      return check(value);
    },
  };
}

function withRef<T extends object>(result: T, ref: string | undefined): T & { ref?: string } {
  return ref === undefined ? result : { ...result, ref };
}

export const clientDecoder = createDecoder(ClientMessages, 'type');
export const serverDecoder = createDecoder(ServerMessages, 'type');
export const one2oneDecoder = createDecoder(One2OneClientMessages, 'id');
export const peerjsDecoder = createDecoder(PeerjsClientMessages, 'type');
