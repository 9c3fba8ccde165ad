import { Type, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ClientMessages,
  One2OneClientMessages,
  ServerMessages,
  assertPlainSchema,
  checkPlain,
  plainServerDecoder,
  serverDecoder,
  toPlainSchemas,
  type PlainSchema,
} from '../src/index.js';
import { plainServerSchemas } from '../src/server-schemas.generated.js';

// Values shaped like what a schema accepts, with boundary lengths and numbers, absent keys and
// stray JSON mixed in, so both verdicts come up often.
function arbitraryFor(schema: PlainSchema, depth = 0): fc.Arbitrary<unknown> {
  const stray = fc.jsonValue({ maxDepth: 2 });
  const good = shaped(schema, depth);
  return fc.oneof(
    { weight: depth === 0 ? 6 : 30, arbitrary: good },
    { weight: 1, arbitrary: stray },
  );
}

function lengths(min = 0, max = 40): fc.Arbitrary<number> {
  return fc.constantFrom(...[min - 1, min, min + 1, max - 1, max, max + 1].filter((n) => n >= 0));
}

function shaped(schema: PlainSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constantFrom(schema.const, 'other', 0, null);
  if (schema.anyOf !== undefined)
    return fc.oneof(...schema.anyOf.map((s) => arbitraryFor(s, depth + 1)));
  switch (schema.type) {
    case 'string':
      if (schema.pattern !== undefined) {
        return fc.oneof(fc.stringMatching(new RegExp(schema.pattern)), fc.string());
      }
      return fc.oneof(
        fc.string({ maxLength: 8 }),
        lengths(schema.minLength, Math.min(schema.maxLength ?? 40, 70_000)).map((n) =>
          'x'.repeat(n),
        ),
      );
    case 'number':
    case 'integer':
      return fc.oneof(
        fc.integer({ min: (schema.minimum ?? -100) - 1, max: (schema.maximum ?? 100) + 1 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constant(0.5),
      );
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(schema.items ? arbitraryFor(schema.items, depth + 1) : stray(), {
        maxLength: depth > 2 ? 1 : 3,
      });
    case 'object': {
      const props = Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([k, s]) => [k, arbitraryFor(s, depth + 1)]),
      );
      return fc.oneof(
        fc.record(props, { requiredKeys: [...(schema.required ?? [])] as never[] }),
        fc.record(props, { requiredKeys: [] }),
      );
    }
    default:
      return stray();
  }
}

function stray(): fc.Arbitrary<unknown> {
  return fc.jsonValue({ maxDepth: 2 });
}

const families: Record<string, Record<string, TSchema>> = {
  ServerMessages,
  ClientMessages,
  One2OneClientMessages,
  sample: {
    hex: Type.Object({ digest: Type.String({ pattern: '^[0-9a-f]{4}$' }), n: Type.Number() }),
  },
};

describe('plain schemas', () => {
  it('the generated server schemas are the TypeBox ones, and only use checked keywords', () => {
    expect(plainServerSchemas).toEqual(toPlainSchemas(ServerMessages));
    for (const [type, schema] of Object.entries(plainServerSchemas))
      assertPlainSchema(schema, type);
  });

  it('refuses a schema with a keyword it does not check', () => {
    expect(() => assertPlainSchema({ type: 'string', format: 'email' })).toThrow(TypeError);
    expect(() =>
      assertPlainSchema({ type: 'object', properties: { a: { exclusiveMinimum: 1 } } }),
    ).toThrow(/exclusiveMinimum/);
  });

  for (const [family, schemas] of Object.entries(families)) {
    it(`gives TypeBox's verdicts for ${family}`, () => {
      let accepted = 0;
      let refused = 0;
      for (const [type, schema] of Object.entries(schemas)) {
        const plain = toPlainSchemas({ [type]: schema })[type]!;
        fc.assert(
          fc.property(arbitraryFor(plain), (value) => {
            const verdict = checkPlain(plain, value);
            expect(verdict).toBe(Value.Check(schema, value));
            if (verdict) accepted += 1;
            else refused += 1;
          }),
          { numRuns: 150 },
        );
      }
      // Both verdicts must come up often, or the comparison says little.
      expect(Math.min(accepted, refused)).toBeGreaterThan(Object.keys(schemas).length * 5);
    });
  }

  it('the plain server decoder answers like the TypeBox one', () => {
    const frames = [
      '{"type":"login","success":true,"name":"alice","protocol":1}',
      '{"type":"login","success":"yes"}',
      '{"type":"error","code":"busy","message":"x","ref":"r1"}',
      '{"type":"error","code":"nope","message":"x","ref":"r1"}',
      '{"type":"__proto__"}',
      '[1]',
      'not json',
      '{"ref":"r2"}',
    ];
    for (const frame of frames) {
      expect(plainServerDecoder.decode(frame)).toEqual(serverDecoder.decode(frame));
    }
  });
});
