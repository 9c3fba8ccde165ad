/**
 * Password hashing: argon2id (RFC 9106), stored as PHC strings (`$argon2id$v=19$m=...`), so
 * the parameters travel with each hash and can be raised later: a hash made with weaker
 * parameters than the current ones is replaced at the next successful login.
 *
 * Passwords are NFKC-normalized before hashing (NIST SP 800-63B 5.1.1.2), so the same
 * password typed on two keyboards that compose characters differently still matches. Their
 * length is checked in UTF-8 bytes before any hashing work, raw and normalized.
 */
import argon2 from 'argon2';

export interface Argon2Params {
  /** KiB */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
export const DEFAULT_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const PASSWORD_MAX_BYTES = 1024;
export const PASSWORD_MIN_CHARS = 8;

/** The normalized password, or null when it is too long to be worth hashing. */
export function preparePassword(password: string): string | null {
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) return null;
  const normalized = password.normalize('NFKC');
  // NFKC can expand a string (one ligature becomes several letters): check again.
  if (Buffer.byteLength(normalized, 'utf8') > PASSWORD_MAX_BYTES) return null;
  return normalized;
}

/** Why a new password is refused (for `users add` and `passwd`), or null when it is fine. */
export function passwordProblem(password: string): string | null {
  if (preparePassword(password) === null)
    return `a password may be at most ${PASSWORD_MAX_BYTES} bytes`;
  if ([...password.normalize('NFKC')].length < PASSWORD_MIN_CHARS) {
    return `a password needs at least ${PASSWORD_MIN_CHARS} characters`;
  }
  return null;
}

export async function hashPassword(
  password: string,
  params: Argon2Params = DEFAULT_ARGON2,
): Promise<string> {
  const prepared = preparePassword(password);
  if (prepared === null) throw new TypeError(`password longer than ${PASSWORD_MAX_BYTES} bytes`);
  return argon2.hash(prepared, { type: argon2.argon2id, ...params });
}

/** Constant-time comparison inside argon2; false for malformed hashes rather than a throw. */
export async function verifyPassword(hash: string, prepared: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, prepared);
  } catch {
    return false;
  }
}

/**
 * True when `hash` was made with weaker parameters than `params` (or is not argon2id). Only a
 * rise triggers a rehash: lowering the parameters for a small machine does not weaken hashes
 * that already exist.
 */
export function needsRehash(hash: string, params: Argon2Params): boolean {
  const match = /^\$argon2id\$v=(\d+)\$([a-z0-9=,]+)\$/.exec(hash);
  if (match === null) return true;
  const got = new Map(match[2]!.split(',').map((kv) => kv.split('=') as [string, string]));
  const m = Number(got.get('m'));
  const t = Number(got.get('t'));
  const p = Number(got.get('p'));
  if (![m, t, p].every(Number.isFinite)) return true;
  return (
    Number(match[1]) < 19 || m < params.memoryCost || t < params.timeCost || p < params.parallelism
  );
}
