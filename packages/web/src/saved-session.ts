/**
 * The signed-in session, kept in this browser so a reload does not sign a person out. On an
 * open server the name is all it takes; on a password server it is the short-lived session
 * token from the login reply (never the password), renewed while the page is open and
 * forgotten on sign-out or when the server no longer takes it (expired, password changed).
 */

export type SavedSession = { name: string; token?: string };

const KEY = 'callwire:session';
/** Renew this long before the token's expiry, and never more often than this. */
const RENEW_MARGIN_MS = 120_000;
const RENEW_MIN_MS = 15_000;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // Disabled by the user: every reload asks to sign in again.
  }
}

export function savedSession(): SavedSession | null {
  try {
    const parsed: unknown = JSON.parse(storage()?.getItem(KEY) ?? 'null');
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { name, token } = parsed as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') return null;
    if (token !== undefined && typeof token !== 'string') return null;
    return token === undefined ? { name } : { name, token };
  } catch {
    return null;
  }
}

export function saveSession(session: SavedSession): void {
  try {
    storage()?.setItem(KEY, JSON.stringify(session));
  } catch {
    /* quota or disabled storage: the session just does not outlive the page */
  }
}

export function forgetSession(): void {
  try {
    storage()?.removeItem(KEY);
  } catch {
    /* nothing kept */
  }
}

/** When a JWT's `exp` says it stops being valid (ms since epoch), or null if unreadable. */
export function tokenExpiryMs(token: string): number | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    const exp = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).exp : undefined;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * Keep the saved token fresh while the page is open (`POST /api/session`). Returns a stop
 * function. A refusal forgets nothing: the next sign-in with the token says what happened.
 */
export function keepSessionFresh(session: SavedSession & { token: string }): () => void {
  let current = session.token;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = () => {
    const expiry = tokenExpiryMs(current);
    if (expiry === null || stopped) return;
    const delay = Math.max(RENEW_MIN_MS, expiry - Date.now() - RENEW_MARGIN_MS);
    timer = setTimeout(() => void renew(), delay);
  };
  const renew = async () => {
    try {
      const response = await fetch('/api/session', { method: 'POST', headers: { authorization: `Bearer ${current}` } });
      if (!response.ok || stopped) return;
      const body: unknown = await response.json();
      const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).sessionToken : undefined;
      if (typeof token !== 'string') return;
      current = token;
      saveSession({ name: session.name, token });
      schedule();
    } catch {
      // Offline for now: try again a little later, while the old token may still be valid.
      if (!stopped) timer = setTimeout(() => void renew(), RENEW_MIN_MS * 4);
    }
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
