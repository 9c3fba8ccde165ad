// Names that look alike are one identity: invisible characters and mixed-script look-alikes
// are refused, and identity is keyed on the UTS #39 confusable skeleton.
import fc from 'fast-check';
import confusables from 'unicode-confusables';
import { describe, expect, it } from 'vitest';
import { nameSkeleton, normalizeName } from '../src/index.js';

/** UTS #39 skeleton computed here from the data directly, as the standard defines it. */
const skeleton = (s: string) =>
  confusables.rectifyConfusion(s.normalize('NFKC').toLowerCase().normalize('NFD')).normalize('NFD');

describe('look-alike names', () => {
  it.each([
    ['alice\u034F', 'combining grapheme joiner'],
    ['alice\uFE00', 'variation selector 1'],
    ['alice\u180B', 'Mongolian free variation selector'],
    ['alice\u17B4', 'Khmer inherent vowel'],
    ['alice\u3164', 'Hangul filler'],
    ['ali\u200Bce', 'zero width space'],
    ['ali\u00ADce', 'soft hyphen'],
    ['\u0430lice', 'Cyrillic a in a Latin name'],
    ['al\u03B9ce', 'Greek iota in a Latin name'],
    ['Ivan \u0418\u0432\u0430\u043D', 'Latin and Cyrillic words'],
    ['\u{10300}\u{10301}', 'a script not recommended for identifiers (Old Italic)'],
  ])('refuses %j (%s)', (raw) => {
    expect(normalizeName(raw).ok).toBe(false);
  });

  it.each([
    ['al\u0131ce', 'alice'], // Latin dotless i
    ['\u0441\u043E\u0441\u043E', 'coco'], // all Cyrillic
    ['b0b', 'bob'],
    ['ALICE', 'alice'],
    ['\uFF41lice', 'alice'], // full-width a, folded by NFKC
  ])('gives %j the identity of %j', (raw, other) => {
    const a = normalizeName(raw);
    const b = normalizeName(other);
    expect(a.ok && b.ok && a.key === b.key).toBe(true);
  });

  it.each(['山田太郎', 'Tarō 山田', '山田たろう', '홍길동', 'Ελλάδα', 'José', 'ömer-çelik'])(
    'still accepts %j (one script, or an allowed combination)',
    (raw) => {
      expect(normalizeName(raw).ok).toBe(true);
    },
  );

  it('never gives two names with the same skeleton different identities', () => {
    // Letters from scripts that share many look-alikes, digits, and the case variants.
    const alphabet = [
      ...'aceiolmnprsxyAIOl01 rn.-_',
      ...'аеіорсхуАІО',
      ...'αικνορυΑΙΟ',
      'ı',
      'ǀ',
      'ӏ',
    ];
    const name = fc
      .array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 6 })
      .map((cs) => cs.join(''));
    fc.assert(
      fc.property(name, name, (x, y) => {
        const a = normalizeName(x);
        const b = normalizeName(y);
        if (!a.ok || !b.ok) return;
        if (skeleton(a.display) === skeleton(b.display)) expect(a.key).toBe(b.key);
      }),
      { numRuns: 20_000 },
    );
  });

  it('keeps the skeleton of an accepted name stable under its own key', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (raw) => {
        const n = normalizeName(raw);
        if (n.ok) expect(nameSkeleton(n.key).toLowerCase()).toBe(n.key);
      }),
      { numRuns: 2000 },
    );
  });
});
