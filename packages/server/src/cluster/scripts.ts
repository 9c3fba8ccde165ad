/**
 * The cluster's multi-key updates, as Lua scripts so each runs atomically in Redis: a name is
 * claimed together with its place in the online list, released only by its holder, and a dead
 * node's names are cleaned up by exactly one survivor.
 *
 * They are sent with EVAL every time rather than EVALSHA: a script Redis does not know yet
 * (first use, or after a restart) would otherwise need a second round trip, and a status
 * change taking that detour could overtake a later one. Redis caches the compiled script.
 *
 * Members of `online` for name key k lie in ['k\n', 'k\11') (see keys.ts).
 */
import type { Redis } from 'ioredis';

export class LuaScript {
  constructor(private readonly source: string) {}

  run(
    redis: Redis,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    return redis.eval(this.source, keys.length, ...keys, ...args);
  }
}

const ADD_TO_LIST = `
redis.call('ZREMRANGEBYLEX', KEYS[2], '[' .. ARGV[3] .. '\\n', '(' .. ARGV[3] .. '\\11')
redis.call('ZADD', KEYS[2], 0, ARGV[3] .. '\\n' .. ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])`;

/**
 * KEYS name:<key>, online, status, names:<node>; ARGV value, ttlMs, key, display, status, mode.
 * mode "new": only a free name (a login). mode "again": also one this node already holds (a
 * resync after Redis came back or after this node was presumed dead). 1 = held, 0 = taken.
 */
export const CLAIM = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v and (ARGV[6] ~= 'again' or v ~= ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
${ADD_TO_LIST}
return 1`);

/** KEYS name:<key>, online, status, names:<node>; ARGV value, key, channel, presence JSON. */
export const RELEASE = new LuaScript(`
redis.call('HDEL', KEYS[4], ARGV[2])
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREMRANGEBYLEX', KEYS[2], '[' .. ARGV[2] .. '\\n', '(' .. ARGV[2] .. '\\11')
redis.call('HDEL', KEYS[3], ARGV[2])
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return 1`);

/** KEYS name:<key>, status; ARGV value, key, status, channel, presence JSON. */
export const SET_STATUS = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], ARGV[5]) end
return 1`);

/**
 * KEYS the name keys of this node (a chunk); ARGV ttlMs, then the expected value of each key.
 * Per key: 1 = refreshed, 0 = gone, -1 = someone else holds it now.
 */
export const REFRESH = new LuaScript(`
local out = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v == ARGV[i + 1] then
    redis.call('PEXPIRE', k, ARGV[1])
    out[i] = 1
  elseif v then
    out[i] = -1
  else
    out[i] = 0
  end
end
return out`);

/**
 * Remove a node and every name it still holds. KEYS nodes, names:<id>, online, status,
 * node:<id>; ARGV id, name key prefix, presence channel ('' = none), mode. mode "dead": only if
 * its heartbeat is gone and this caller is the one that takes it out of the node set (so one
 * survivor does the work); mode "leave": the node itself, shutting down. Returns how many names
 * went, or -1 when there was nothing to do.
 */
export const BURY = new LuaScript(`
if ARGV[4] == 'dead' then
  if redis.call('EXISTS', KEYS[5]) == 1 then return -1 end
  if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return -1 end
else
  redis.call('SREM', KEYS[1], ARGV[1])
end
local h = redis.call('HGETALL', KEYS[2])
local prefix = ARGV[1] .. '|'
local gone = 0
for i = 1, #h, 2 do
  local key, display = h[i], h[i + 1]
  local nk = ARGV[2] .. key
  local v = redis.call('GET', nk)
  if (not v) or string.sub(v, 1, #prefix) == prefix then
    if v then redis.call('DEL', nk) end
    redis.call('ZREMRANGEBYLEX', KEYS[3], '[' .. key .. '\\n', '(' .. key .. '\\11')
    redis.call('HDEL', KEYS[4], key)
    if ARGV[3] ~= '' then
      redis.call('PUBLISH', ARGV[3], cjson.encode({node = ARGV[1], name = display, key = key, status = 'offline'}))
    end
    gone = gone + 1
  end
end
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[5])
return gone`);

/**
 * One page of the online list. KEYS online, status; ARGV min (ZRANGEBYLEX), count.
 * Returns [total, member1, status1, member2, status2, ...].
 */
export const PAGE = new LuaScript(`
local total = redis.call('ZCARD', KEYS[1])
local ms = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {total}
for _, m in ipairs(ms) do
  local nl = string.find(m, '\\n', 1, true)
  local key = nl and string.sub(m, 1, nl - 1) or m
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', KEYS[2], key) or 'online'
end
return out`);

/**
 * Drain: park a session for resuming on another node. Its name stays taken (as `parked|...`)
 * and listed for the grace period; the session's state waits under `resume:<token hash>`.
 * KEYS name:<key>, names:<node>, parked, resume:<hash>; ARGV our value, parked value, graceMs,
 * deadline (ms since epoch), key, parked member, session JSON. 1 = parked.
 */
export const PARK = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
redis.call('SET', KEYS[4], ARGV[7], 'PX', ARGV[3])
return 1`);

/**
 * Resume here a session parked by a drained node: take its state (once) and its name.
 * KEYS resume:<hash>, name:<key>, online, status, names:<node>, parked; ARGV key, name value
 * prefix (`<node>|native|`), nameTtlMs. Returns the session JSON, or nil.
 */
export const TAKE = new LuaScript(`
local x = redis.call('GET', KEYS[1])
if not x then return false end
local e = cjson.decode(x)
if e.key ~= ARGV[1] then return false end
local v = redis.call('GET', KEYS[2])
if v and string.sub(v, 1, 7) ~= 'parked|' then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[6], ARGV[1] .. '\\n' .. e.name)
redis.call('SET', KEYS[2], ARGV[2] .. e.name, 'PX', ARGV[3])
redis.call('ZREMRANGEBYLEX', KEYS[3], '[' .. ARGV[1] .. '\\n', '(' .. ARGV[1] .. '\\11')
redis.call('ZADD', KEYS[3], 0, ARGV[1] .. '\\n' .. e.name)
redis.call('HSET', KEYS[4], ARGV[1], e.call and 'busy' or 'online')
redis.call('HSET', KEYS[5], ARGV[1], e.name)
return x`);

/**
 * Parked sessions nobody resumed in time leave the online list. KEYS parked, online, status;
 * ARGV now (ms since epoch), name key prefix, presence channel ('' = none). Returns how many.
 */
export const EXPIRE_PARKED = new LuaScript(`
local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, m in ipairs(ms) do
  local nl = string.find(m, '\\n', 1, true)
  if nl then
    local key, display = string.sub(m, 1, nl - 1), string.sub(m, nl + 1)
    local nk = ARGV[2] .. key
    local v = redis.call('GET', nk)
    if (not v) or string.sub(v, 1, 7) == 'parked|' then
      if v then redis.call('DEL', nk) end
      redis.call('ZREMRANGEBYLEX', KEYS[2], '[' .. key .. '\\n', '(' .. key .. '\\11')
      redis.call('HDEL', KEYS[3], key)
      if ARGV[3] ~= '' then
        redis.call('PUBLISH', ARGV[3], cjson.encode({node = 'parked', name = display, key = key, status = 'offline'}))
      end
    end
  end
  redis.call('ZREM', KEYS[1], m)
end
return #ms`);

/**
 * Meet by link: be the room's first (KEYS room:<name>; ARGV our value, ttlMs, value to replace
 * or ''). Returns 'mine' when the room is now this node's, else the current holder's value.
 */
export const ROOM_CLAIM = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[3] and v ~= ARGV[1] then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'mine'`);

/** Give a room back if it is still ours. KEYS room:<name>; ARGV our value. */
export const ROOM_RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/**
 * PeerJS: claim an id (KEYS peerjs:<id>; ARGV our value `<node>|<digest>`, ttlMs). A free id,
 * or one held with the same token digest (a reconnect, maybe through another node), becomes
 * ours: returns '' or the value it replaced. Another token's id: returns 0.
 */
export const PEERJS_CLAIM = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local digest = string.match(ARGV[1], '|(.*)$')
  if string.match(v, '|(.*)$') ~= digest then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return v or ''`);
