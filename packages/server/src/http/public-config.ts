/**
 * `GET /api/config`: what a sign-in page needs to know before it asks anything of a person,
 * so it can show the right form at once (a password field, or a note that the operator's own
 * site signs people in). Only what any visitor may know: no secrets, no limits worth probing.
 */
import type { FastifyInstance } from 'fastify';
import type { AuthMode } from '../config.js';

export interface PublicConfig {
  readonly auth: AuthMode;
}

export function registerPublicConfig(app: FastifyInstance, config: { readonly auth: AuthMode }): void {
  const body: PublicConfig = { auth: config.auth };
  app.get('/api/config', async (_req, reply) => {
    // The answer changes only with a restart under other flags; a page never keeps a stale one.
    reply.header('cache-control', 'no-store');
    return body;
  });
}
