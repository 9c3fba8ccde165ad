/**
 * The store on Redis (`--store redis --redis URL`), as the tutorial keeps its users there.
 *
 * Keys (all under `callwire:`): `user:<key>` hash {name, hash, epoch, createdAt}; `users` a
 * sorted set of keys (listing); `users:rev` the revocation counter; `call:<id>` hash {json,
 * callerKey, calleeKey, path, missedPending} expiring after the retention time; `calls:<key>`
 * and `missed:<key>` sorted sets of `<zero-padded endedAt>:<id>` (score 0, ordered by member),
 * so a page is one ZRANGE BYLEX and a cursor is exact even when two calls end in the same ms.
 * Multi-key updates that must be atomic run as short Lua scripts.
 *
 * While Redis is unreachable nothing is queued: commands fail at once (`enableOfflineQueue:
 * false`) and ioredis keeps reconnecting in the background, so callwire recovers by itself.
 */
import { Redis, ReplyError } from 'ioredis';
import type { Logger } from 'pino';
import {
  StoreUnavailableError,
  type CallPath,
  type CallRecord,
  type HistoryCursor,
  type MissedRef,
  type Store,
  type UserRecord,
} from './store.js';

const P = 'callwire:';
const K = {
  user: (key: string) => `${P}user:${key}`,
  users: `${P}users`,
  rev: `${P}users:rev`,
  call: (id: string) => `${P}call:${id}`,
  calls: (key: string) => `${P}calls:${key}`,
  missed: (key: string) => `${P}missed:${key}`,
  restart: `${P}restart`,
};

const pad = (ms: number) => String(ms).padStart(16, '0');
const member = (endedAtMs: number, id: string) => `${pad(endedAtMs)}:${id}`;
const idOf = (m: string) => m.slice(17);

const ADD_USER = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'hash', ARGV[2], 'epoch', ARGV[3], 'createdAt', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[5])
return 1`;
const SET_PASSWORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'epoch', ARGV[2])
redis.call('INCR', KEYS[2])
return 1`;
const UPGRADE_HASH = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'hash', ARGV[2])
return 1`;
const REMOVE_USER = `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 1`;
const SET_PATH = `
local p = redis.call('HMGET', KEYS[1], 'callerKey', 'calleeKey', 'path')
if not p[1] then return 0 end
if p[1] ~= ARGV[1] and p[2] ~= ARGV[1] then return 0 end
if p[3] ~= 'relay' then redis.call('HSET', KEYS[1], 'path', ARGV[2]) end
return 1`;

export interface RedisStoreOptions {
  readonly url: string;
  readonly retentionMs: number;
  readonly log?: Logger | undefined;
  /** How long open() waits for the first connection. */
  readonly connectTimeoutMs?: number;
}

export class RedisStore implements Store {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private opened = false;
  private down = false;

  constructor(private readonly options: RedisStoreOptions) {
    this.redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      commandTimeout: 2000,
      // Keep trying for as long as the process lives: the store coming back is the recovery.
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    });
    this.redis.on('error', (err: Error) => {
      if (this.down) return;
      this.down = true;
      options.log?.warn({ err: err.message }, 'store unavailable (redis); retrying');
    });
    this.redis.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      options.log?.info('store reachable again (redis)');
    });
  }

  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    try {
      await this.redis.connect();
    } catch (err) {
      throw new StoreUnavailableError(`redis: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect(false);
  }

  async getUser(key: string): Promise<UserRecord | undefined> {
    const h = await this.do(() => this.redis.hgetall(K.user(key)));
    if (h.hash === undefined || h.name === undefined || h.epoch === undefined) return undefined;
    return { key, name: h.name, hash: h.hash, epoch: h.epoch, createdAtMs: Number(h.createdAt) };
  }

  async addUser(u: UserRecord): Promise<boolean> {
    const r = await this.do(() =>
      this.redis.eval(
        ADD_USER,
        2,
        K.user(u.key),
        K.users,
        u.name,
        u.hash,
        u.epoch,
        String(u.createdAtMs),
        u.key,
      ),
    );
    return r === 1;
  }

  async setPassword(key: string, hash: string, epoch: string): Promise<boolean> {
    return (
      (await this.do(() => this.redis.eval(SET_PASSWORD, 2, K.user(key), K.rev, hash, epoch))) === 1
    );
  }

  async upgradeHash(key: string, epoch: string, hash: string): Promise<boolean> {
    return (await this.do(() => this.redis.eval(UPGRADE_HASH, 1, K.user(key), epoch, hash))) === 1;
  }

  async removeUser(key: string): Promise<boolean> {
    return (
      (await this.do(() => this.redis.eval(REMOVE_USER, 3, K.user(key), K.users, K.rev, key))) === 1
    );
  }

  async listUsers(
    limit: number,
    afterKey?: string,
  ): Promise<Array<{ key: string; name: string; createdAtMs: number }>> {
    const keys = await this.do(() =>
      this.redis.zrangebylex(K.users, afterKey ? `(${afterKey}` : '-', '+', 'LIMIT', 0, limit),
    );
    const out: Array<{ key: string; name: string; createdAtMs: number }> = [];
    for (const key of keys) {
      const u = await this.getUser(key);
      if (u) out.push({ key, name: u.name, createdAtMs: u.createdAtMs });
    }
    return out;
  }

  async usersRevision(): Promise<number> {
    return Number((await this.do(() => this.redis.get(K.rev))) ?? 0);
  }

  async addCall(r: CallRecord): Promise<void> {
    const ttlSeconds = Math.max(
      1,
      Math.ceil((r.endedAtMs + this.options.retentionMs - Date.now()) / 1000),
    );
    const m = member(r.endedAtMs, r.id);
    const cutoff = `(${pad(Date.now() - this.options.retentionMs)}`;
    const { path, missedPending, ...rest } = r;
    const tx = this.redis
      .multi()
      .hset(K.call(r.id), {
        json: JSON.stringify(rest),
        callerKey: r.callerKey,
        calleeKey: r.calleeKey,
        path: path ?? '',
        missedPending: missedPending ? '1' : '0',
      })
      .expire(K.call(r.id), ttlSeconds);
    for (const key of [r.callerKey, r.calleeKey]) {
      tx.zadd(K.calls(key), 0, m).zremrangebylex(K.calls(key), '-', cutoff);
    }
    if (missedPending)
      tx.zadd(K.missed(r.calleeKey), 0, m).zremrangebylex(K.missed(r.calleeKey), '-', cutoff);
    await this.do(() => tx.exec());
  }

  async setCallPath(callId: string, partyKey: string, path: CallPath): Promise<boolean> {
    return (
      (await this.do(() => this.redis.eval(SET_PATH, 1, K.call(callId), partyKey, path))) === 1
    );
  }

  async callsFor(key: string, limit: number, before?: HistoryCursor): Promise<CallRecord[]> {
    const max = before ? `(${member(before.endedAtMs, before.id)}` : '+';
    const members = await this.do(() =>
      this.redis.zrevrangebylex(K.calls(key), max, '-', 'LIMIT', 0, limit),
    );
    return this.load(K.calls(key), members);
  }

  async pendingMissed(key: string, limit: number): Promise<CallRecord[]> {
    const members = await this.do(() =>
      this.redis.zrevrangebylex(K.missed(key), '+', '-', 'LIMIT', 0, limit),
    );
    return this.load(K.missed(key), members);
  }

  async markMissedSeen(key: string, calls: readonly MissedRef[]): Promise<void> {
    if (calls.length === 0) return;
    const tx = this.redis.multi();
    for (const c of calls) {
      tx.zrem(K.missed(key), member(c.endedAtMs, c.id));
      // Only the callee's own missed calls: the script checks the key.
      tx.eval(MARK_SEEN, 1, K.call(c.id), key);
    }
    await this.do(() => tx.exec());
  }

  /** Records expire by themselves (TTL) and indexes are trimmed on every write. */
  async pruneCalls(): Promise<number> {
    return 0;
  }

  private async load(index: string, members: string[]): Promise<CallRecord[]> {
    if (members.length === 0) return [];
    const tx = this.redis.multi();
    for (const m of members) tx.hmget(K.call(idOf(m)), 'json', 'path', 'missedPending');
    const results = (await this.do(() => tx.exec())) ?? [];
    const out: CallRecord[] = [];
    const gone: string[] = [];
    results.forEach(([err, value], i) => {
      const [json, path, pending] = (value ?? []) as Array<string | null>;
      if (err || !json) {
        gone.push(members[i]!);
        return;
      }
      const rest = JSON.parse(json) as Omit<CallRecord, 'path' | 'missedPending'>;
      out.push({ ...rest, path: path ? (path as CallPath) : null, missedPending: pending === '1' });
    });
    // Index entries whose record expired: drop them lazily.
    if (gone.length > 0)
      await this.do(() => this.redis.zrem(index, ...gone)).catch(() => undefined);
    return out;
  }

  async putRestartState(state: string, expiresAtMs: number): Promise<void> {
    const ttlMs = Math.max(1, expiresAtMs - Date.now());
    await this.do(() => this.redis.set(K.restart, state, 'PX', ttlMs));
  }

  async takeRestartState(): Promise<string | undefined> {
    // Redis expires it itself; read and delete in one transaction (GETDEL needs Redis 6.2).
    const replies = await this.do(() => this.redis.multi().get(K.restart).del(K.restart).exec());
    const value = replies?.[0]?.[1];
    return typeof value === 'string' ? value : undefined;
  }

  private async do<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      // A reply error is Redis refusing a well-formed command (a bug here), not an outage.
      if (err instanceof ReplyError) throw err;
      throw new StoreUnavailableError(`redis: ${(err as Error).message}`, { cause: err });
    }
  }
}

const MARK_SEEN = `
if redis.call('HGET', KEYS[1], 'calleeKey') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'missedPending', '0')
return 1`;
