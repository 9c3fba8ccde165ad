/**
 * The PeerJS dialect's HTTP side, at the PeerJS server's layout under the mount path:
 * `GET <path><key>/id` gives a fresh id (a peer created without one asks for it), and
 * `GET <path><key>/peers` lists the connected ids, only with --peerjs-discovery on (401
 * otherwise, as the PeerJS server answers when discovery is off).
 */
import type { FastifyInstance } from 'fastify';
import type { PeerjsConfig } from '../config.js';
import type { PeerjsRelay } from '../dialects/peerjs-relay.js';

export function registerPeerjsApi(
  app: FastifyInstance,
  config: PeerjsConfig,
  relay: PeerjsRelay,
): void {
  const base = `${config.path}${config.key}`;
  // PeerJS pages are often served from another origin than their signaling server; these two
  // answers carry no credentials and no cookies, so any page may read them.
  const cors = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
  app.get(`${base}/id`, async (_req, reply) =>
    reply.headers(cors).type('text/html; charset=utf-8').send(relay.freshId()),
  );
  app.get(`${base}/peers`, async (_req, reply) => {
    if (!config.discovery) return reply.headers(cors).code(401).send();
    return reply.headers(cors).send(await relay.ids());
  });
}
