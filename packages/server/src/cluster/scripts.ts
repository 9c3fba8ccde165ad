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

/** Lua: the person's status from pstat:<key> (busy on any node is busy). */
const PERSON = `
local function person(pk)
  for _, s in ipairs(redis.call('HVALS', pk)) do
    if s == 'busy' then return 'busy' end
  end
  return 'online'
end`;

/** Lua: make key `k` live at least `ms` longer (a hash shared by several nodes' devices). */
const EXTEND = `
local function extend(k, ms)
  local t = redis.call('PTTL', k)
  if t < tonumber(ms) then redis.call('PEXPIRE', k, ms) end
end`;

/**
 * Lua: node `node`'s devices of account `key` are gone from devs:<key> (dk): drop its status
 * from pstat:<key> (pk); an account with no device left leaves the online list (offline
 * announced), else its status is worked out again and announced to every node (node '': the
 * node that announced it offline by itself hears the correction too). Returns 1 when the
 * account went offline.
 */
const FORGET_NODE = `
local function forget_node(dk, pk, online, status, key, display, node, channel)
  local prefix = node .. '|'
  local h = redis.call('HGETALL', dk)
  for j = 1, #h, 2 do
    if string.sub(h[j + 1], 1, #prefix) == prefix then redis.call('HDEL', dk, h[j]) end
  end
  redis.call('HDEL', pk, node)
  if redis.call('HLEN', dk) == 0 then
    redis.call('DEL', dk)
    redis.call('DEL', pk)
    redis.call('ZREMRANGEBYLEX', online, '[' .. key .. '\\n', '(' .. key .. '\\11')
    redis.call('HDEL', status, key)
    if channel ~= '' then
      redis.call('PUBLISH', channel, cjson.encode({node = node, name = display, key = key, status = 'offline'}))
    end
    return 1
  end
  local p = person(pk)
  redis.call('HSET', status, key, p)
  if channel ~= '' then
    redis.call('PUBLISH', channel, cjson.encode({node = '', name = display, key = key, status = p}))
  end
  return 0
end`;

/**
 * Password and jwt modes: claim a device of an account, one of at most `max` across the
 * cluster. KEYS devs:<key>, online, status, names:<node>, pstat:<key>; ARGV device id, value,
 * ttlMs, key, display, status, max, mode, node id. mode "new" (a login): the same device
 * signing in afresh takes its entry back wherever it was (that node loses it at its next
 * refresh); another device only while fewer than `max` are in. mode "again" (a resync): only
 * an entry that is still this node's or free. 1 = held, 0 = taken, -1 = too many devices.
 */
export const DEVICE_CLAIM = new LuaScript(`${PERSON}
${EXTEND}
local v = redis.call('HGET', KEYS[1], ARGV[1])
local full = (not v) and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[7])
if ARGV[8] == 'again' then
  if (v and v ~= ARGV[2]) or full then return 0 end
elseif full then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
extend(KEYS[1], ARGV[3])
if ARGV[6] == 'busy' or not redis.call('HGET', KEYS[5], ARGV[9]) then
  redis.call('HSET', KEYS[5], ARGV[9], ARGV[6])
end
extend(KEYS[5], ARGV[3])
redis.call('ZREMRANGEBYLEX', KEYS[2], '[' .. ARGV[4] .. '\\n', '(' .. ARGV[4] .. '\\11')
redis.call('ZADD', KEYS[2], 0, ARGV[4] .. '\\n' .. ARGV[5])
redis.call('HSET', KEYS[3], ARGV[4], person(KEYS[5]))
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
return 1`);

/**
 * A device of an account signs out (KEYS devs:<key>, online, status, names:<node>,
 * pstat:<key>; ARGV device id, value, key, channel, display, node id, last: '1' when this node
 * has no other device of the account). The account goes offline with its last device
 * anywhere; otherwise every node hears its status as a person (see FORGET_NODE).
 */
export const DEVICE_RELEASE = new LuaScript(`${PERSON}
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
local prefix = ARGV[6] .. '|'
local ours = false
for _, x in ipairs(redis.call('HVALS', KEYS[1])) do
  if string.sub(x, 1, #prefix) == prefix then ours = true end
end
if not ours then redis.call('HDEL', KEYS[4], ARGV[3]) end
if ARGV[7] == '1' then redis.call('HDEL', KEYS[5], ARGV[6]) end
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('DEL', KEYS[5])
  redis.call('ZREMRANGEBYLEX', KEYS[2], '[' .. ARGV[3] .. '\\n', '(' .. ARGV[3] .. '\\11')
  redis.call('HDEL', KEYS[3], ARGV[3])
  if ARGV[4] ~= '' then
    redis.call('PUBLISH', ARGV[4], cjson.encode({node = ARGV[6], name = ARGV[5], key = ARGV[3], status = 'offline'}))
  end
  return 1
end
local before = redis.call('HGET', KEYS[3], ARGV[3])
local p = person(KEYS[5])
redis.call('HSET', KEYS[3], ARGV[3], p)
if ARGV[4] ~= '' and (ARGV[7] == '1' or before ~= p) then
  redis.call('PUBLISH', ARGV[4], cjson.encode({node = '', name = ARGV[5], key = ARGV[3], status = p}))
end
return 0`);

/**
 * This node's status for an account it holds devices of (KEYS devs:<key>, status, pstat:<key>;
 * ARGV device id, value, key, node id, status, channel, display). The account's status is the
 * busiest across nodes; announced with this node's id when it is what this node announced
 * itself, else with node '' (a correction every node delivers, this one too).
 */
export const DEVICE_STATUS = new LuaScript(`${PERSON}
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
local p = person(KEYS[3])
redis.call('HSET', KEYS[2], ARGV[3], p)
if ARGV[6] ~= '' then
  local node = ARGV[4]
  if p ~= ARGV[5] then node = '' end
  redis.call('PUBLISH', ARGV[6], cjson.encode({node = node, name = ARGV[7], key = ARGV[3], status = p}))
end
return 1`);

/**
 * Refresh this node's devices (KEYS devs:<key>, pstat:<key> pairs; ARGV ttlMs, then device id
 * and expected value per pair). Per device: 1 = refreshed, 0 = gone, -1 = someone else's now.
 */
export const DEVICE_REFRESH = new LuaScript(`${EXTEND}
local out = {}
for i = 1, #KEYS, 2 do
  local n = (i + 1) / 2
  local v = redis.call('HGET', KEYS[i], ARGV[2 * n])
  if v == ARGV[2 * n + 1] then
    extend(KEYS[i], ARGV[1])
    extend(KEYS[i + 1], ARGV[1])
    out[n] = 1
  elseif v then
    out[n] = -1
  else
    out[n] = 0
  end
end
return out`);

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
 * node:<id>; ARGV id, name key prefix, presence channel ('' = none), mode, devs key prefix, pstat
 * key prefix (an account's devices of that node go, the account stays online while it has
 * others). mode "dead": only if
 * its heartbeat is gone and this caller is the one that takes it out of the node set (so one
 * survivor does the work); mode "leave": the node itself, shutting down. Returns how many names
 * went, or -1 when there was nothing to do.
 */
export const BURY = new LuaScript(`${PERSON}
${FORGET_NODE}
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
  local dk = ARGV[5] .. key
  local v = redis.call('GET', nk)
  if redis.call('EXISTS', dk) == 1 then
    gone = gone + forget_node(dk, ARGV[6] .. key, KEYS[3], KEYS[4], key, display, ARGV[1], ARGV[3])
  elseif (not v) or string.sub(v, 1, #prefix) == prefix then
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
 * KEYS name:<key>, names:<node>, parked, resume:<hash>, devs:<key>; ARGV our value, parked value,
 * graceMs, deadline (ms since epoch), key, parked member, session JSON, device id ('' = open
 * mode: the name itself is parked; else that device's entry in devs:<key>). 1 = parked.
 */
export const PARK = new LuaScript(`${EXTEND}
if ARGV[8] ~= '' then
  if redis.call('HGET', KEYS[5], ARGV[8]) ~= ARGV[1] then return 0 end
  redis.call('HSET', KEYS[5], ARGV[8], ARGV[2])
  extend(KEYS[5], ARGV[3])
  local mine = false
  for _, x in ipairs(redis.call('HVALS', KEYS[5])) do
    if x == ARGV[1] then mine = true end
  end
  if not mine then redis.call('HDEL', KEYS[2], ARGV[5]) end
else
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('HDEL', KEYS[2], ARGV[5])
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
redis.call('SET', KEYS[4], ARGV[7], 'PX', ARGV[3])
return 1`);

/**
 * Resume here a session parked by a drained node: take its state (once) and its name.
 * KEYS resume:<hash>, name:<key>, online, status, names:<node>, parked, devs:<key>, pstat:<key>;
 * ARGV key, name value prefix (`<node>|native|`), nameTtlMs, node id. A session that was a
 * device of an account (`dev` in its JSON) takes its device entry back. Returns the session
 * JSON, or nil.
 */
export const TAKE = new LuaScript(`${PERSON}
${EXTEND}
local x = redis.call('GET', KEYS[1])
if not x then return false end
local e = cjson.decode(x)
if e.key ~= ARGV[1] then return false end
if e.dev then
  local d = redis.call('HGET', KEYS[7], e.dev)
  if d and string.sub(d, 1, 7) ~= 'parked|' then return false end
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[6], ARGV[1] .. '\\n' .. e.name .. '\\n' .. e.dev)
  redis.call('HSET', KEYS[7], e.dev, ARGV[2] .. e.name)
  extend(KEYS[7], ARGV[3])
  redis.call('ZREMRANGEBYLEX', KEYS[3], '[' .. ARGV[1] .. '\\n', '(' .. ARGV[1] .. '\\11')
  redis.call('ZADD', KEYS[3], 0, ARGV[1] .. '\\n' .. e.name)
  if e.call or not redis.call('HGET', KEYS[8], ARGV[4]) then
    redis.call('HSET', KEYS[8], ARGV[4], e.call and 'busy' or 'online')
  end
  extend(KEYS[8], ARGV[3])
  redis.call('HSET', KEYS[4], ARGV[1], person(KEYS[8]))
  redis.call('HSET', KEYS[5], ARGV[1], e.name)
  return x
end
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
 * Parked sessions nobody resumed in time leave the online list (a parked device leaves its
 * account's devices; the account stays online while it has others). KEYS parked, online,
 * status; ARGV now (ms since epoch), name key prefix, presence channel ('' = none), devs key
 * prefix, pstat key prefix. Returns how many.
 */
export const EXPIRE_PARKED = new LuaScript(`${PERSON}
${FORGET_NODE}
local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, m in ipairs(ms) do
  local nl = string.find(m, '\\n', 1, true)
  local nl2 = nl and string.find(m, '\\n', nl + 1, true)
  if nl2 then
    local key, display, dev = string.sub(m, 1, nl - 1), string.sub(m, nl + 1, nl2 - 1), string.sub(m, nl2 + 1)
    local dk = ARGV[4] .. key
    local d = redis.call('HGET', dk, dev)
    if d and string.sub(d, 1, 7) == 'parked|' then
      redis.call('HDEL', dk, dev)
      -- ('parked:' is no node: only this device goes, not other parked ones.)
      forget_node(dk, ARGV[5] .. key, KEYS[2], KEYS[3], key, display, 'parked:', ARGV[3])
    end
  elseif nl then
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
