/**
 * A small interpreter for the part of JSON Schema that our message schemas use, so the SDK can
 * validate every frame without TypeBox in its bundle and without generating code (it runs under
 * a Content-Security-Policy with no 'unsafe-eval'). The server keeps TypeBox's compiled checks.
 *
 * It follows TypeBox's rules where JSON Schema leaves room: arrays are not objects, numbers are
 * finite, string lengths count UTF-16 code units, and extra object properties are allowed. A
 * property test holds it to the same verdicts as TypeBox's `Value.Check` on the same schemas.
 */

/** The keywords `checkPlain` understands; `assertPlainSchema` refuses a schema with any other. */
export interface PlainSchema {
  readonly type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';
  readonly const?: string | number | boolean | null;
  readonly anyOf?: readonly PlainSchema[];
  readonly properties?: { readonly [key: string]: PlainSchema };
  readonly required?: readonly string[];
  readonly items?: PlainSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
}

const KEYWORDS = new Set([
  'type',
  'const',
  'anyOf',
  'properties',
  'required',
  'items',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
]);

/**
 * Throw a `TypeError` naming the first keyword `checkPlain` would not understand, so a schema
 * that grows a new keyword cannot be checked more loosely than the server checks it.
 */
export function assertPlainSchema(schema: unknown, path = '#'): asserts schema is PlainSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new TypeError(`${path}: a schema must be an object`);
  }
  for (const [key, sub] of Object.entries(schema)) {
    if (!KEYWORDS.has(key)) throw new TypeError(`${path}: unsupported keyword "${key}"`);
    if (key === 'anyOf')
      (sub as unknown[]).forEach((s, i) => assertPlainSchema(s, `${path}/anyOf/${i}`));
    if (key === 'items') assertPlainSchema(sub, `${path}/items`);
    if (key === 'properties') {
      for (const [name, s] of Object.entries(sub as object)) {
        assertPlainSchema(s, `${path}/properties/${name}`);
      }
    }
  }
}

const patterns = new Map<string, RegExp>();

function pattern(source: string): RegExp {
  let re = patterns.get(source);
  if (re === undefined) {
    re = new RegExp(source);
    patterns.set(source, re);
  }
  return re;
}

/** Whether `value` satisfies `schema`. Never throws. */
export function checkPlain(schema: PlainSchema, value: unknown): boolean {
  if (schema.const !== undefined && value !== schema.const) return false;
  if (schema.anyOf !== undefined && !schema.anyOf.some((s) => checkPlain(s, value))) return false;
  const type = schema.type;
  switch (type) {
    case undefined:
      return true;
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
    case 'integer':
      return (
        typeof value === 'number' &&
        (type === 'integer' ? Number.isInteger(value) : Number.isFinite(value)) &&
        (schema.minimum === undefined || value >= schema.minimum) &&
        (schema.maximum === undefined || value <= schema.maximum)
      );
    case 'string':
      return (
        typeof value === 'string' &&
        (schema.minLength === undefined || value.length >= schema.minLength) &&
        (schema.maxLength === undefined || value.length <= schema.maxLength) &&
        (schema.pattern === undefined || pattern(schema.pattern).test(value))
      );
    case 'array':
      return (
        Array.isArray(value) &&
        (schema.minItems === undefined || value.length >= schema.minItems) &&
        (schema.maxItems === undefined || value.length <= schema.maxItems) &&
        (schema.items === undefined || value.every((item) => checkPlain(schema.items!, item)))
      );
    case 'object':
      return checkObject(schema, value);
    default:
      return refuse(type);
  }
}

/** Every `type` is handled above (this does not compile otherwise); a stray one refuses. */
function refuse(_type: never): false {
  return false;
}

function checkObject(schema: PlainSchema, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const required = schema.required ?? [];
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    const item = record[key];
    if (item === undefined) {
      // Like TypeBox: a required key must be present; an optional one may be absent.
      if (required.includes(key) && !(key in record && checkPlain(sub, item))) return false;
    } else if (!checkPlain(sub, item)) {
      return false;
    }
  }
  return true;
}

/**
 * TypeBox schemas as plain JSON: the `description`s dropped (they are for docs/PROTOCOL.md) and
 * TypeBox's symbol-keyed markers left behind by JSON. Used by the generator and its tests.
 */
export function toPlainSchemas(schemas: { readonly [type: string]: object }): {
  [type: string]: PlainSchema;
} {
  return JSON.parse(
    JSON.stringify(schemas, (key, value: unknown) => (key === 'description' ? undefined : value)),
  ) as { [type: string]: PlainSchema };
}
