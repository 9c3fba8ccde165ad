/**
 * Which web pages may open a WebSocket to this server. Browsers always send `Origin`; a page
 * on another site must not be able to use a visitor's browser to reach a callwire that only
 * listens on their machine or LAN. Non-browser clients send no Origin and are not affected.
 *
 * Default: the server's own origin, plus pages on localhost while auth is open (the tutorial's
 * pages are served by a separate static server on localhost). `--origins` replaces this.
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.js';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isOriginAllowed(req: IncomingMessage, config: Config): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (config.origins.length > 0) return config.origins.includes(origin);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.host === req.headers.host) return true;
  return config.auth === 'open' && LOCAL_HOSTS.has(url.hostname);
}
