// Tokens from the pooled generator (random.ts): the right size, never the same twice, also
// across the pool's refills.
import { describe, expect, it } from 'vitest';
import { randomToken } from '../src/random.js';

describe('randomToken', () => {
  it('gives tokens of the asked size that never repeat, across many pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const size = i % 3 === 0 ? 9 : 32;
      const token = randomToken(size);
      expect(Buffer.from(token, 'base64url')).toHaveLength(size);
      seen.add(token);
    }
    expect(seen.size).toBe(5_000);
    // Bytes spread over the whole range: a pool that was never filled would give zeros.
    const bytes = Buffer.concat([...seen].slice(0, 500).map((t) => Buffer.from(t, 'base64url')));
    expect(new Set(bytes).size).toBe(256);
  });

  it('refuses more bytes than the pool holds', () => {
    expect(() => randomToken(4_097)).toThrow(RangeError);
  });
});
