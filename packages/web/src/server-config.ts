/**
 * What the server tells any visitor about itself (`GET /api/config`): how people sign in. The
 * sign-in screen asks before it shows a form, so it can ask for a password at once, or say
 * that another site signs people in. An older server without the endpoint, or one that cannot
 * be reached, leaves the mode unknown: the form then learns it from a refused login.
 */

export type AuthMode = 'open' | 'password' | 'jwt';

/** `reachable: false`: the request failed (offline, or the server is down). */
export type ServerConfig = { auth: AuthMode | 'unknown'; reachable?: false };

const UNKNOWN: ServerConfig = { auth: 'unknown' };
const UNREACHABLE: ServerConfig = { auth: 'unknown', reachable: false };

export async function fetchServerConfig(): Promise<ServerConfig> {
  try {
    const response = await fetch('/api/config', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) return UNKNOWN;
    const body: unknown = await response.json();
    const auth = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).auth : undefined;
    return auth === 'open' || auth === 'password' || auth === 'jwt' ? { auth } : UNKNOWN;
  } catch {
    return UNREACHABLE;
  }
}
