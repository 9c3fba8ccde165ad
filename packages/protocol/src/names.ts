/**
 * User names. A name is what people type to call each other, so two spellings that look the
 * same must be the same user: we normalize with NFKC (full-width letters, ligatures and
 * compatibility forms fold to their plain form) and compare case-insensitively. The allowed
 * alphabet keeps names printable and unambiguous in a UI: letters (with their combining marks,
 * which many scripts need), digits, ".", "_", "-" and single inner spaces.
 */

export const NAME_MAX_CHARS = 32;

// One "word" is a letter or digit followed by any marks; punctuation is limited to . _ -
const NAME_RE = /^[\p{L}\p{Nd}._-][\p{L}\p{M}\p{Nd}._-]*(?: [\p{L}\p{M}\p{Nd}._-]+)*$/u;

export type NameResult =
  | { readonly ok: true; readonly display: string; readonly key: string }
  | { readonly ok: false };

/**
 * Normalize a user-supplied name. `display` is what others see (NFKC, original case);
 * `key` is what identity compares (NFKC of the lower-cased display).
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
  if (!NAME_RE.test(display)) return { ok: false };
  return { ok: true, display, key: nameKey(display) };
}

/** The identity key of an already-normalized display name. */
export function nameKey(display: string): string {
  return display.toLowerCase().normalize('NFKC');
}
