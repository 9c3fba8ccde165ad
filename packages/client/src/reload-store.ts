/**
 * A resume token that outlives the page: kept in `sessionStorage` (this tab only, gone with the
 * tab), so a reload, or a browser that restarts the tab within the server's grace period, takes
 * its session back with its calls instead of signing in afresh. The page closes its socket with
 * 4000 (`resuming`) as it goes, so the server keeps the session and tells the peer
 * "reconnecting" rather than ending the call.
 */
const KEY = 'callwire.resume';

interface Kept {
  url: string;
  name: string;
  token: string;
  graceMs: number;
  /**
   * The API token of the last fresh login: a resumed login reply carries none, and the page
   * that takes the session back still needs one for the HTTP API (its devices, its calls).
   */
  sessionToken?: string;
  /** When the page last held the session (ms since the epoch). */
  at: number;
}

function store(): Storage | undefined {
  try {
    const s = (globalThis as { sessionStorage?: Storage }).sessionStorage;
    return s !== undefined && typeof s.getItem === 'function' ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The token kept for `url` and `name`, if it is still within its grace period. */
export function loadKept(
  url: string,
  name: string,
): { token: string; graceMs: number; sessionToken: string | undefined } | undefined {
  try {
    const text = store()?.getItem(KEY);
    if (text === null || text === undefined) return undefined;
    const kept = JSON.parse(text) as Partial<Kept>;
    if (
      kept.url !== url ||
      typeof kept.name !== 'string' ||
      kept.name.toLowerCase() !== name.toLowerCase() ||
      typeof kept.token !== 'string' ||
      typeof kept.graceMs !== 'number' ||
      typeof kept.at !== 'number' ||
      Date.now() > kept.at + kept.graceMs
    ) {
      return undefined;
    }
    const sessionToken = typeof kept.sessionToken === 'string' ? kept.sessionToken : undefined;
    return { token: kept.token, graceMs: kept.graceMs, sessionToken };
  } catch {
    return undefined;
  }
}

export function keep(
  url: string,
  name: string,
  token: string,
  graceMs: number,
  sessionToken: string | undefined,
): void {
  try {
    const kept: Kept = { url, name, token, graceMs, at: Date.now() };
    if (sessionToken !== undefined) kept.sessionToken = sessionToken;
    store()?.setItem(KEY, JSON.stringify(kept));
  } catch {
    // not kept: a reload signs in afresh, as before
  }
}

export function forgetKept(): void {
  try {
    store()?.removeItem(KEY);
  } catch {
    // nothing to forget
  }
}
