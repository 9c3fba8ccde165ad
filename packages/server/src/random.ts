/**
 * Random tokens for the per-login path (resume tokens, device ids), from a pool that
 * `crypto.randomFillSync` refills 4 KiB at a time: one call into OpenSSL per ~100 logins rather
 * than two per login (3% of a login's CPU in the bench profile). The bytes come from the same
 * generator as `crypto.randomBytes` and none is handed out twice, so a token is as strong as
 * before; Node pools `randomUUID` the same way.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

/** `bytes` fresh random bytes (at most 4,096), as base64url. */
export function randomToken(bytes: number): string {
  if (bytes > pool.length) throw new RangeError(`at most ${pool.length} random bytes at a time`);
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const token = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return token;
}
