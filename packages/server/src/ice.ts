/**
 * ICE servers handed to clients at login. TURN credentials follow coturn's REST API
 * (`use-auth-secret`): username `<unix expiry>:<name>`, password base64(HMAC-SHA1(secret,
 * username)), so coturn can check them without asking callwire.
 */
import { createHmac } from 'node:crypto';
import type { IceServerValue } from '@callwire/protocol';
import type { Config } from './config.js';

export function turnCredentials(
  secret: string,
  name: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): { username: string; credential: string; expiresAtMs: number } {
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${name}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAtMs: expiry * 1000 };
}

export function iceServersFor(config: Config, name: string): IceServerValue[] {
  const servers: IceServerValue[] = [];
  if (config.stunUrls.length > 0) servers.push({ urls: [...config.stunUrls] });
  if (config.turnSecret !== undefined && config.turnUrls.length > 0) {
    const { username, credential } = turnCredentials(config.turnSecret, name, config.turnTtlSeconds);
    servers.push({ urls: [...config.turnUrls], username, credential });
  }
  return servers;
}
