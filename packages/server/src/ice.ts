/**
 * ICE servers handed to clients at login. TURN credentials follow coturn's REST API
 * (`use-auth-secret`): username `<unix expiry>:<name>`, password base64(HMAC-SHA1(secret,
 * username)), so coturn can check them without asking callwire.
 *
 * Credentials expire, calls do not: a call that has to restart ICE after the credentials ran
 * out would find TURN closed to it. So native sessions are sent a fresh set (`iceServers`)
 * once most of the lifetime has passed (see `iceRefreshAfterMs` and the gateway's sweep).
 */
import { createHmac } from 'node:crypto';
import type { IceServerValue } from '@callwire/protocol';
import type { Config } from './config.js';

/** Refresh when this share of the credentials' lifetime has passed. */
const REFRESH_AT_SHARE = 0.8;

export function turnCredentials(
  secret: string,
  name: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): { username: string; credential: string; expiresAtMs: number } {
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${turnUserPart(name)}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAtMs: expiry * 1000 };
}

/**
 * The name as it goes into a TURN username: printable ASCII without spaces. Names may hold
 * inner spaces (a guest is `Ann Lee (guest)`), and with a username like `1700000000:Ann Lee
 * (guest)` Chromium gathered no relay candidate at all against coturn 4.6 (checked; `alice` and
 * `Zoë` worked), so such a person's calls could never use the relay. Percent-encoding keeps
 * different names different (coturn's per-user quota stays per person) and leaves plain names
 * as they are.
 */
export function turnUserPart(name: string): string {
  // A lone surrogate would make encodeURIComponent throw (names are checked, but never crash).
  return encodeURIComponent(name.replace(/\p{Surrogate}/gu, '\uFFFD')).replace(
    /[!'()*~]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function iceServersFor(config: Config, name: string, nowMs = Date.now()): IceServerValue[] {
  const servers: IceServerValue[] = [];
  if (config.stunUrls.length > 0) servers.push({ urls: [...config.stunUrls] });
  if (config.turnSecret !== undefined && config.turnUrls.length > 0) {
    const { username, credential } = turnCredentials(config.turnSecret, name, config.turnTtlSeconds, nowMs);
    servers.push({ urls: [...config.turnUrls], username, credential });
  }
  return servers;
}

/**
 * How long after issuing credentials a session should get new ones, or undefined when nothing
 * expires (no TURN configured: STUN servers need no credentials). The expiry is a whole
 * second rounded down, so credentials can live up to a second less than the TTL: that second
 * comes off the refresh time too.
 */
export function iceRefreshAfterMs(config: Config): number | undefined {
  if (config.turnSecret === undefined || config.turnUrls.length === 0) return undefined;
  return Math.max(0, Math.floor(config.turnTtlSeconds * 1000 * REFRESH_AT_SHARE) - 1000);
}
