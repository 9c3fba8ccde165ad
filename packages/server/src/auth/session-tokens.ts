/**
 * Short-lived API tokens issued in the native login reply (`sessionToken`), for the HTTP API
 * (`GET /api/calls`). HS256 with a 256-bit secret that callwire creates in the data directory
 * on first use (mode 0600) and keeps, so tokens survive a restart. The audience and issuer are
 * fixed, so no other JWT (an operator's login token, say) is ever taken for one of these.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import { normalizeName } from '@callwire/protocol';

const ISSUER = 'callwire';
const AUDIENCE = 'callwire:api';
const SECRET_FILE = 'session-secret';

export interface SessionClaims {
  readonly key: string;
  readonly display: string;
  /** The account epoch the token was issued under (password mode). */
  readonly epoch: string | undefined;
  /** The device it was issued to (a device signed out elsewhere loses its tokens). */
  readonly device?: string | undefined;
}

/** Read the secret, or create it (racing processes: the first writer wins, `wx`). */
export function loadOrCreateSecret(dataDir: string): Uint8Array {
  const file = join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const text = readFileSync(file, 'utf8').trim();
  if (text.length < 43) throw new Error(`${file} is too short to be a 256-bit secret`);
  return new TextEncoder().encode(text);
}

export class SessionTokens {
  private secret: Uint8Array | undefined;
  /** `key \n device` -> when it was signed out (seconds): tokens issued until then are void. */
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly dataDir: string,
    private readonly ttlSeconds: number,
  ) {}

  /** A token for `claims`, expiring after the TTL or at `notAfterMs`, whichever is first. */
  async issue(claims: SessionClaims, notAfterMs?: number): Promise<string> {
    const nowS = Math.floor(Date.now() / 1000);
    let exp = nowS + this.ttlSeconds;
    if (notAfterMs !== undefined) exp = Math.min(exp, Math.floor(notAfterMs / 1000));
    const extra: Record<string, string> = {};
    if (claims.epoch !== undefined) extra.ep = claims.epoch;
    if (claims.device !== undefined) extra.dv = claims.device;
    return new SignJWT(extra)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(claims.display)
      .setIssuedAt(nowS)
      .setExpirationTime(exp)
      .sign(this.key());
  }

  async verify(token: string): Promise<SessionClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key(), {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      });
      const name = normalizeName(payload.sub ?? '');
      if (!name.ok) return null;
      const device = typeof payload.dv === 'string' ? payload.dv : undefined;
      if (device !== undefined) {
        const until = this.revoked.get(`${name.key}\n${device}`);
        if (until !== undefined && (payload.iat ?? 0) <= until) return null;
      }
      return {
        key: name.key,
        display: name.display,
        epoch: typeof payload.ep === 'string' ? payload.ep : undefined,
        device,
      };
    } catch {
      return null;
    }
  }

  /**
   * A device was signed out: every token issued to it so far stops working (on this server;
   * they expire within the TTL anyway, which bounds what is kept here).
   */
  revokeDevice(key: string, device: string): void {
    const nowS = Math.floor(Date.now() / 1000);
    for (const [k, at] of this.revoked) if (at < nowS - this.ttlSeconds) this.revoked.delete(k);
    this.revoked.set(`${key}\n${device}`, nowS);
  }

  private key(): Uint8Array {
    this.secret ??= loadOrCreateSecret(this.dataDir);
    return this.secret;
  }
}
