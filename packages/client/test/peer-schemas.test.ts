import { assertPlainSchema, toPlainSchemas } from '@callwire/protocol';
import { describe, expect, it } from 'vitest';
import { plainControlSchemas, plainFileSchemas } from '../src/peer-schemas.generated.js';
import { ControlMessages, FileMessages } from '../src/peer-schemas.js';

describe('peer message schemas', () => {
  it('the generated plain schemas are the TypeBox ones (run npm run gen:schemas if not)', () => {
    expect(plainControlSchemas).toEqual(toPlainSchemas(ControlMessages));
    expect(plainFileSchemas).toEqual(toPlainSchemas(FileMessages));
    for (const [type, schema] of Object.entries({ ...plainControlSchemas, ...plainFileSchemas })) {
      assertPlainSchema(schema, type);
    }
  });
});
