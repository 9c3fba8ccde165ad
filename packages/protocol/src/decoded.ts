/**
 * The frame-decoding envelope shared by every decoder: parse, find the schema the discriminant
 * names (in a Map, so `__proto__` or `constructor` is simply unknown), check, and answer with a
 * coded result. How a schema is checked is the caller's: compiled TypeBox on the server
 * (codec.ts), the small interpreter in the SDK (plain-decoder.ts). This file imports no schema
 * library, so the SDK's bundle carries none.
 */
import type { ErrorCode } from './codes.js';

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

export interface Decoder<M> {
  /** Parse and validate one text frame. Never throws. */
  decode(text: string): Decoded<M>;
  /** Validate an already-parsed value. Never throws. */
  check(value: unknown): Decoded<M>;
}

export type Check = (value: unknown) => boolean;

/**
 * A decoder over per-type checks; `key` is the discriminant (`type`, `id` for one2one, `op` for
 * the server's node-to-node messages).
 */
export function decoderFromChecks<M>(
  checks: ReadonlyMap<string, Check>,
  key: string,
): Decoder<M> {
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
    return { ok: true, msg: value as M };
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
