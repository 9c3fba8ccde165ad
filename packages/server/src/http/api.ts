/**
 * The HTTP API: `GET /api/calls`, the signed-in user's call history, newest first, paged with
 * `?limit=&before=`. Authenticated with the short-lived `sessionToken` from the native login
 * reply as a bearer token; in password mode the token is also checked against the account, so
 * a removed account or a changed password ends access at once, not when the token expires.
 *
 * `POST /api/session` (password mode) trades a valid token for a fresh one, so a page that
 * stays open keeps a token it can sign in with again after a reload.
 */
import type { EndReason } from '@callwire/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SessionClaims, SessionTokens } from '../auth/session-tokens.js';
import { cleanLabel, type Devices } from '../devices.js';
import type { AuthMode } from '../config.js';
import {
  isStoreUnavailable,
  type CallRecord,
  type HistoryCursor,
  type Store,
} from '../stores/store.js';

export interface ApiDeps {
  readonly mode: AuthMode;
  readonly store: Store;
  readonly tokens: SessionTokens;
  readonly devices: Devices;
}

export interface CallView {
  readonly id: string;
  readonly peer: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly startedAt: string;
  readonly answeredAt: string | null;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly reason: EndReason;
  readonly missed: boolean;
  readonly path: 'direct' | 'relay' | null;
  readonly video: boolean;
  readonly room?: string;
}

const LIMIT_DEFAULT = 20;
const LIMIT_MAX = 100;
const CURSOR = /^(\d{1,16})_([A-Za-z0-9-]{1,64})$/;

const iso = (ms: number) => new Date(ms).toISOString();

/** One record as `viewerKey` sees it. */
export function viewOf(r: CallRecord, viewerKey: string): CallView {
  const outgoing = r.callerKey === viewerKey;
  return {
    id: r.id,
    peer: outgoing ? r.calleeName : r.callerName,
    direction: outgoing ? 'outgoing' : 'incoming',
    startedAt: iso(r.startedAtMs),
    answeredAt: r.answeredAtMs === null ? null : iso(r.answeredAtMs),
    endedAt: iso(r.endedAtMs),
    durationMs: r.answeredAtMs === null ? 0 : r.endedAtMs - r.answeredAtMs,
    reason: outgoing ? r.callerReason : r.calleeReason,
    missed: !outgoing && r.missed,
    path: r.path,
    video: r.video,
    ...(r.room !== null ? { room: r.room } : {}),
  };
}

export const cursorOf = (r: Pick<CallRecord, 'endedAtMs' | 'id'>) => `${r.endedAtMs}_${r.id}`;

function parseCursor(text: string): HistoryCursor | null {
  const m = CURSOR.exec(text);
  return m ? { endedAtMs: Number(m[1]), id: m[2]! } : null;
}

function bearer(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

const unauthorized = (reply: FastifyReply) =>
  reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="callwire"')
    .send({ error: 'unauthorized' });

export function registerApi(app: FastifyInstance, deps: ApiDeps): void {
  app.post('/api/session', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // Only accounts renew: a jwt session must end with the operator's token, not outlive it.
    if (deps.mode !== 'password') return unauthorized(reply);
    const token = bearer(req.headers.authorization);
    const claims = token === undefined ? null : await deps.tokens.verify(token);
    if (claims === null) return unauthorized(reply);
    try {
      const user = await deps.store.getUser(claims.key);
      if (user === undefined || user.epoch !== claims.epoch) return unauthorized(reply);
      const sessionToken = await deps.tokens.issue({
        key: user.key,
        display: user.name,
        epoch: user.epoch,
        device: claims.device,
      });
      return { sessionToken };
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      return reply.code(503).send({ error: 'service_unavailable' });
    }
  });

  app.get('/api/calls', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // In open mode names are not identities: no history is handed out, whatever the token.
    if (deps.mode === 'open') return unauthorized(reply);
    const token = bearer(req.headers.authorization);
    const claims = token === undefined ? null : await deps.tokens.verify(token);
    if (claims === null) return unauthorized(reply);

    const query = req.query as Record<string, unknown>;
    const limitText = typeof query.limit === 'string' ? query.limit : undefined;
    const limit = limitText === undefined ? LIMIT_DEFAULT : Number(limitText);
    const before = typeof query.before === 'string' ? parseCursor(query.before) : undefined;
    if (
      !Number.isInteger(limit) ||
      limit < 1 ||
      limit > LIMIT_MAX ||
      before === null ||
      Array.isArray(query.limit)
    ) {
      return reply.code(400).send({ error: 'bad_request' });
    }

    try {
      if (deps.mode === 'password') {
        const user = await deps.store.getUser(claims.key);
        if (user === undefined || user.epoch !== claims.epoch) return unauthorized(reply);
      }
      // One more than asked tells whether there is a next page.
      const records = await deps.store.callsFor(claims.key, limit + 1, before);
      const page = records.slice(0, limit);
      const last = page[page.length - 1];
      return {
        calls: page.map((r) => viewOf(r, claims.key)),
        ...(records.length > limit && last !== undefined ? { next: cursorOf(last) } : {}),
      };
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      return reply.code(503).send({ error: 'service_unavailable' });
    }
  });

  registerDevices(app, deps);
}

/**
 * The bearer's claims, or null after answering 401: open mode has no identities, and in
 * password mode a removed account or a changed password ends access at once.
 */
async function authorize(
  deps: ApiDeps,
  authorization: string | undefined,
  reply: FastifyReply,
): Promise<SessionClaims | null> {
  reply.header('cache-control', 'no-store');
  const token = deps.mode === 'open' ? undefined : bearer(authorization);
  const claims = token === undefined ? null : await deps.tokens.verify(token);
  if (claims === null) {
    await unauthorized(reply);
    return null;
  }
  if (deps.mode === 'password') {
    const user = await deps.store.getUser(claims.key);
    if (user === undefined || user.epoch !== claims.epoch) {
      await unauthorized(reply);
      return null;
    }
  }
  return claims;
}

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `GET /api/devices`: the account's devices signed in now; `PATCH /api/devices/:id` with
 * `{label}` renames one; `DELETE /api/devices/:id` signs one out (its calls end, its tokens stop
 * working). Any device of the account may manage any other; no other account sees them (404).
 */
function registerDevices(app: FastifyInstance, deps: ApiDeps): void {
  const withStore = async <T>(
    reply: FastifyReply,
    run: () => Promise<T>,
  ): Promise<T | FastifyReply> => {
    try {
      return await run();
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      return reply.code(503).send({ error: 'service_unavailable' });
    }
  };
  const deviceParam = (params: unknown): string | undefined => {
    const id = (params as Record<string, unknown>).id;
    return typeof id === 'string' && DEVICE_ID.test(id) ? id : undefined;
  };

  app.get('/api/devices', (req, reply) =>
    withStore(reply, async () => {
      const claims = await authorize(deps, req.headers.authorization, reply);
      if (claims === null) return reply;
      return { devices: await deps.devices.listAll(claims.key, claims.device) };
    }),
  );

  app.patch('/api/devices/:id', (req, reply) =>
    withStore(reply, async () => {
      const claims = await authorize(deps, req.headers.authorization, reply);
      if (claims === null) return reply;
      const id = deviceParam(req.params);
      const body = req.body as Record<string, unknown> | null | undefined;
      const label = typeof body === 'object' && body !== null ? body.label : undefined;
      if (id === undefined || typeof label !== 'string' || label.length > 256) {
        return reply.code(400).send({ error: 'bad_request' });
      }
      if (!(await deps.devices.renameAny(claims.key, id, label))) {
        return reply.code(404).send({ error: 'no_such_device' });
      }
      // (A device on another node is renamed there a moment later: its new label is shown.)
      const devices = await deps.devices.listAll(claims.key, claims.device);
      return {
        devices: devices.map((d) => (d.id === id ? { ...d, label: cleanLabel(label)! } : d)),
      };
    }),
  );

  app.delete('/api/devices/:id', (req, reply) =>
    withStore(reply, async () => {
      const claims = await authorize(deps, req.headers.authorization, reply);
      if (claims === null) return reply;
      const id = deviceParam(req.params);
      if (id === undefined) return reply.code(400).send({ error: 'bad_request' });
      if (!(await deps.devices.signOutAny(claims.key, id))) {
        return reply.code(404).send({ error: 'no_such_device' });
      }
      return reply.code(204).send();
    }),
  );
}
