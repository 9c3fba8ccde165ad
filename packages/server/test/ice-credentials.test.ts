// TURN usernames carry the person's name; names may hold spaces and any letter, a TURN
// username must not (see turnUserPart in ice.ts).
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { turnCredentials, turnUserPart } from '../src/ice.js';

describe('TURN credentials', () => {
  it('a guest name with spaces and parentheses becomes printable ASCII without spaces', () => {
    const { username, credential } = turnCredentials('s3cret', 'Ann Lee (guest)', 60, 1_000_000);
    expect(username).toBe('1060:Ann%20Lee%20%28guest%29');
    expect(credential).toBe(createHmac('sha1', 's3cret').update(username).digest('base64'));
  });

  it('plain names stay as they are', () => {
    expect(turnUserPart('alice.b_c-1')).toBe('alice.b_c-1');
  });

  it('any two different names stay different, and none has a space or a non-ASCII byte', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(turnUserPart(a)).toMatch(/^[\x21-\x7e]*$/);
        if (a !== b) expect(turnUserPart(a)).not.toBe(turnUserPart(b));
      }),
    );
  });
});
