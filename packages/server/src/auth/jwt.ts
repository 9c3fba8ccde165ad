/**
 * Tokens signed by the operator's own backend (`--auth jwt`). The algorithm is pinned by the
 * configured key, never read from the token: an HS256 secret accepts only HS256, an RSA public
 * key only RS256, a P-256 public key only ES256. So `alg: none` and key confusion (an HS256
 * token "signed" with the public key) fail, and keys offered in the token's own header (`jwk`,
 * `jku`, `x5c`, `x5u`) are refused outright. `exp` and `sub` are required; `sub` is the name.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import { normalizeName } from '@callwire/protocol';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

export interface VerifiedToken {
  readonly key: string;
  readonly display: string;
  readonly expiresAtMs: number;
}

/** Allowed clock skew between the operator's backend and this server. */
const CLOCK_TOLERANCE_S = 5;
const HEADER_KEYS = ['jwk', 'jku', 'x5c', 'x5u'] as const;

export interface JwtVerifierOptions {
  readonly secret?: string | undefined;
  readonly publicKeyFile?: string | undefined;
  readonly audience?: string | undefined;
  readonly issuer?: string | undefined;
}

/** The algorithm a key allows. RSA keys must be at least 2048 bits. */
export function algorithmFor(key: KeyObject): JwtAlgorithm {
  if (key.asymmetricKeyType === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new TypeError('RSA keys need at least 2048 bits');
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ES256';
  throw new TypeError('the key must be RSA (RS256) or EC P-256 (ES256)');
}

export class JwtVerifier {
  readonly algorithm: JwtAlgorithm;
  private readonly key: KeyObject | Uint8Array;

  constructor(private readonly options: JwtVerifierOptions) {
    if (options.secret !== undefined) {
      this.key = new TextEncoder().encode(options.secret);
      this.algorithm = 'HS256';
    } else if (options.publicKeyFile !== undefined) {
      const key = createPublicKey(readFileSync(options.publicKeyFile));
      this.algorithm = algorithmFor(key);
      this.key = key;
    } else {
      throw new TypeError('a JWT verifier needs a secret or a public key');
    }
  }

  /** The identity in a valid token, or null for any invalid one (never says why to clients). */
  async verify(token: string): Promise<VerifiedToken | null> {
    try {
      const header = decodeProtectedHeader(token);
      if (HEADER_KEYS.some((k) => k in header)) return null;
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [this.algorithm],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_S,
        ...(this.options.audience !== undefined ? { audience: this.options.audience } : {}),
        ...(this.options.issuer !== undefined ? { issuer: this.options.issuer } : {}),
      });
      const name = normalizeName(payload.sub ?? '');
      // The tolerance is for clocks that disagree about `nbf`/`iat`; an expired token is
      // refused the moment it expires, as its session is closed then too.
      if (!name.ok || typeof payload.exp !== 'number' || payload.exp * 1000 <= Date.now())
        return null;
      return { key: name.key, display: name.display, expiresAtMs: payload.exp * 1000 };
    } catch {
      return null;
    }
  }
}

export interface MintOptions {
  readonly name: string;
  readonly ttlSeconds: number;
  readonly secret?: string | undefined;
  readonly privateKeyFile?: string | undefined;
  readonly audience?: string | undefined;
  readonly issuer?: string | undefined;
}

/** A development token, as an operator's backend would issue it (`callwire token NAME`). */
export async function mintToken(o: MintOptions): Promise<string> {
  let key: KeyObject | Uint8Array;
  let alg: JwtAlgorithm;
  if (o.secret !== undefined) {
    key = new TextEncoder().encode(o.secret);
    alg = 'HS256';
  } else if (o.privateKeyFile !== undefined) {
    const k = createPrivateKey(readFileSync(o.privateKeyFile));
    alg = algorithmFor(createPublicKey(k));
    key = k;
  } else {
    throw new TypeError('minting a token needs --jwt-secret or --jwt-private-key');
  }
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(o.name)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + o.ttlSeconds);
  if (o.audience !== undefined) jwt = jwt.setAudience(o.audience);
  if (o.issuer !== undefined) jwt = jwt.setIssuer(o.issuer);
  return jwt.sign(key);
}

/**
 * A token offered with the WebSocket upgrade: `Authorization: Bearer <t>` (non-browser
 * clients) or `?token=<t>` (browsers cannot set headers on a WebSocket).
 */
export function upgradeToken(
  headers: Record<string, string | string[] | undefined>,
  url: string,
): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const token = new URLSearchParams(url.slice(q + 1)).get('token');
  return token === null || token === '' ? undefined : token;
}
