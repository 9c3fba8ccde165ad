import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientDecoder, normalizeName, one2oneDecoder } from '../src/index.js';

describe('normalizeName', () => {
  it.each([
    ['alice', 'ALICE'],
    ['Alice Smith', 'alice smith'],
    ['ｂｏｂ', 'bob'], // full-width folds under NFKC
    ['José', 'JOSÉ'],
    ['__proto__', '__PROTO__'],
    ['user.name-1_2', 'User.Name-1_2'],
    ['Ωμέγα', 'ωμέγα'],
  ])('accepts %j as the same user as %j', (a, b) => {
    const x = normalizeName(a);
    const y = normalizeName(b);
    expect(x.ok && y.ok && x.key === y.key).toBe(true);
  });

  it.each(['', ' alice', 'alice ', 'a  b', 'a@b', '<img src=x>', 'x'.repeat(33), '\u0000', '👍', 'a\nb'])(
    'refuses %j',
    (raw) => {
      expect(normalizeName(raw).ok).toBe(false);
    },
  );

  it('is idempotent and case-insensitive for every accepted name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (raw) => {
        const n = normalizeName(raw);
        if (!n.ok) return;
        const again = normalizeName(n.display);
        expect(again.ok && again.key).toBe(n.key);
        const upper = normalizeName(n.display.toUpperCase());
        if (upper.ok) expect(upper.key).toBe(n.key);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decoders', () => {
  it('accept the tutorial messages as its client sends them', () => {
    for (const m of [
      { type: 'login', name: 'UserA' },
      { type: 'offer', offer: { type: 'offer', sdp: 'v=0' }, name: 'UserB' },
      { type: 'answer', answer: { type: 'answer', sdp: 'v=0' }, name: 'UserA' },
      { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 }, name: 'UserB' },
      { type: 'leave', name: 'UserB' },
      { type: 'leave' },
    ]) {
      expect(clientDecoder.check(m).ok, JSON.stringify(m)).toBe(true);
    }
  });

  it('give each kind of bad frame its code and echo a usable ref', () => {
    const code = (text: string) => {
      const d = clientDecoder.decode(text);
      return d.ok ? 'ok' : d.code;
    };
    expect(code('{')).toBe('bad_json');
    expect(code('null')).toBe('bad_json');
    expect(code('[]')).toBe('bad_json');
    expect(code('42')).toBe('bad_json');
    expect(code('{}')).toBe('bad_message');
    expect(code('{"type":"__proto__"}')).toBe('unknown_type');
    expect(code('{"type":"constructor"}')).toBe('unknown_type');
    expect(code('{"type":"login","name":5}')).toBe('bad_message');
    const d = clientDecoder.decode('{"type":"call","ref":"r1"}');
    expect(!d.ok && d.ref).toBe('r1');
    expect(one2oneDecoder.decode('{"id":"register","name":"a"}').ok).toBe(true);
    expect(one2oneDecoder.decode('{"type":"register"}').ok).toBe(false);
  });

  it('never throw, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        clientDecoder.decode(text);
        one2oneDecoder.decode(text);
      }),
      { numRuns: 5000 },
    );
  });
});
