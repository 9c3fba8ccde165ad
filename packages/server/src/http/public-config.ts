/**
 * `GET /api/config`: what a sign-in page needs to know before it asks anything of a person,
 * so it can show the right form at once (a password field, or a note that the operator's own
 * site signs people in). Only what any visitor may know: no secrets, no limits worth probing.
 */
import type { FastifyInstance } from 'fastify';
import type { AuthMode, RoomsMode } from '../config.js';

export interface PublicConfig {
  readonly auth: AuthMode;
  /** Who may meet by link: the room page asks for a name, asks to sign in, or says links are off. */
  readonly rooms: RoomsMode;
}

export function registerPublicConfig(
  app: FastifyInstance,
  config: { readonly auth: AuthMode; readonly rooms: RoomsMode },
): void {
  const body: PublicConfig = { auth: config.auth, rooms: config.rooms };
  app.get('/api/config', async (_req, reply) => {
    // The answer changes only with a restart under other flags; a page never keeps a stale one.
    reply.header('cache-control', 'no-store');
    return body;
  });
}
