/**
 * What the server tells any visitor about itself (`GET /api/config`): how people sign in, and
 * who may meet by link (`rooms`: guests, accounts only, or nobody). The
 * sign-in screen asks before it shows a form, so it can ask for a password at once, or say
 * that another site signs people in. An older server without the endpoint, or one that cannot
 * be reached, leaves the mode unknown: the form then learns it from a refused login.
 */

export type AuthMode = 'open' | 'password' | 'jwt';
export type RoomsMode = 'guests' | 'accounts' | 'off';

/**
 * `reachable: false`: the request failed (offline, or the server is down). `rooms` is absent
 * when the server did not say (an older one): links then work as they did, for accounts.
 */
export type ServerConfig = { auth: AuthMode | 'unknown'; rooms?: RoomsMode; reachable?: false };

const UNKNOWN: ServerConfig = { auth: 'unknown' };
const UNREACHABLE: ServerConfig = { auth: 'unknown', reachable: false };

export async function fetchServerConfig(): Promise<ServerConfig> {
  try {
    const response = await fetch('/api/config', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) return UNKNOWN;
    const body: unknown = await response.json();
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const { auth, rooms } = fields;
    if (auth !== 'open' && auth !== 'password' && auth !== 'jwt') return UNKNOWN;
    return rooms === 'guests' || rooms === 'accounts' || rooms === 'off' ? { auth, rooms } : { auth };
  } catch {
    return UNREACHABLE;
  }
}
