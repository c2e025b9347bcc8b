"""The notification scheduler's Lua scripts, each a constant with its KEYS / ARGV / returns
contract, declared with :func:`xsell.store.backend.scripts.lua_script` (which registers it).
Shard scripts take the eight keys of :class:`xsell.store.notifications.keys.ShardKeys` (one slot),
user scripts the user's keys (the user's slot).

Crash safety: a claim moves the notification's due time to the end of a lease and records a
token; only the token's holder may prepare, defer or finish it. A worker that dies leaves the
lease to run out, and then another worker claims it again. The message is stored (prepared)
before it is published, so a worker that takes over a published-but-unfinished notification
publishes the very same message again (the same id, the same bytes), never a different one.
"""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script

_SHARD = """
local due, jobs, claims, prepared, carts, users, finished, stats =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local function unschedule(id)
  redis.call('ZREM', due, id)
  redis.call('HDEL', jobs, id)
  redis.call('HDEL', claims, id)
  redis.call('HDEL', prepared, id)
end
local function drop_from_user(user, id)
  local v = redis.call('HGET', users, user)
  if not v then return end
  local out = {}
  for x in string.gmatch(v, '%S+') do if x ~= id then out[#out + 1] = x end end
  if #out == 0 then redis.call('HDEL', users, user)
  else redis.call('HSET', users, user, table.concat(out, ' ')) end
end
local function add_to_user(user, id)
  local v = redis.call('HGET', users, user)
  if not v then redis.call('HSET', users, user, id) return end
  for x in string.gmatch(v, '%S+') do if x == id then return end end
  redis.call('HSET', users, user, v .. ' ' .. id)
end
-- the user's pending cart_abandoned: id ('' when none) and the activity's time
local function cart_of(user)
  local cur = redis.call('HGET', carts, user)
  if not cur then return nil, nil end
  local sep = string.find(cur, '|', 1, true)
  return string.sub(cur, 1, sep - 1), tonumber(string.sub(cur, sep + 1))
end
local function schedule(user, id, at, job, reason)
  redis.call('ZADD', due, at, id)
  redis.call('HSET', jobs, id, job)
  add_to_user(user, id)
  redis.call('HINCRBY', stats, 'scheduled:' .. reason, 1)
end
"""

CART = (
    _SHARD
    + """
-- Cart activity of a user: (re)schedules their cart_abandoned, or cancels it (emptied cart).
-- ARGV[1] user, ARGV[2] activity time (s), ARGV[3] 'activity' | 'empty', ARGV[4] id,
-- ARGV[5] due ms, ARGV[6] expiry ms, ARGV[7] now ms, ARGV[8] job JSON
-- returns {outcome, cancelled id or false}; outcome: 'scheduled', 'empty', 'stale' (expired
-- on arrival), 'older' (an earlier activity than the pending one's), 'same' (redelivered),
-- 'done' (this id was already sent or dropped)
local user, ts, op, id = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local cur, cur_ts = cart_of(user)
if cur_ts and cur_ts > ts then return {'older', false} end
if cur == id then return {'same', false} end
if redis.call('ZSCORE', finished, id) then return {'done', false} end
local cancelled = false
if cur then
  unschedule(cur)
  drop_from_user(user, cur)
  redis.call('HDEL', carts, user)
  cancelled = cur
end
if op == 'empty' then return {'empty', cancelled} end
if tonumber(ARGV[6]) <= tonumber(ARGV[7]) then
  redis.call('HINCRBY', stats, 'stale:cart_abandoned', 1)
  return {'stale', cancelled}
end
schedule(user, id, ARGV[5], ARGV[8], 'cart_abandoned')
redis.call('HSET', carts, user, id .. '|' .. ARGV[2])
return {'scheduled', cancelled}
"""
)

PURCHASE = (
    _SHARD
    + """
-- A purchase: cancels the user's cart_abandoned of earlier activity, schedules post_purchase,
-- unless the user has one pending that no worker holds: the order joins it (one pending
-- post_purchase per user; the sender offers for every order since its trigger). A joined
-- order's id is remembered as finished, so its redelivery is 'same'.
-- ARGV[1] user, ARGV[2] order time (s), ARGV[3] id, ARGV[4] due ms, ARGV[5] expiry ms,
-- ARGV[6] now ms, ARGV[7] job JSON
-- returns {outcome, cancelled id or false}; outcome 'scheduled', 'merged', 'stale', 'same'
local function pending_post_purchase(user)
  local v = redis.call('HGET', users, user)
  if not v then return nil end
  for x in string.gmatch(v, '%S+') do
    local job = redis.call('HGET', jobs, x)
    if job and redis.call('HEXISTS', claims, x) == 0
        and cjson.decode(job)['reason'] == 'post_purchase' then
      return x
    end
  end
  return nil
end
local user, ts, id = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local cancelled = false
local cur, cur_ts = cart_of(user)
if cur and cur_ts <= ts then
  unschedule(cur)
  drop_from_user(user, cur)
  redis.call('HDEL', carts, user)
  cancelled = cur
end
if redis.call('ZSCORE', finished, id) or redis.call('HEXISTS', jobs, id) == 1 then
  return {'same', cancelled}
end
if tonumber(ARGV[5]) <= tonumber(ARGV[6]) then
  redis.call('HINCRBY', stats, 'stale:post_purchase', 1)
  return {'stale', cancelled}
end
if pending_post_purchase(user) then
  redis.call('ZADD', finished, ARGV[6], id)
  redis.call('HINCRBY', stats, 'merged:post_purchase', 1)
  return {'merged', cancelled}
end
schedule(user, id, ARGV[4], ARGV[7], 'post_purchase')
return {'scheduled', cancelled}
"""
)

CLAIM = (
    _SHARD
    + """
-- Claim up to ARGV[3] due notifications: their due time moves to the lease's end.
-- ARGV[1] now ms, ARGV[2] lease ms, ARGV[3] limit, ARGV[4] claim token
-- returns {id, job JSON, prepared message or false, ...}
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGET', jobs, id)
  if job then
    redis.call('ZADD', due, now + tonumber(ARGV[2]), id)
    redis.call('HSET', claims, id, ARGV[4])
    out[#out + 1] = id
    out[#out + 1] = job
    out[#out + 1] = redis.call('HGET', prepared, id)
  else
    redis.call('ZREM', due, id)
  end
end
return out
"""
)

PREPARE = (
    _SHARD
    + """
-- Store the message about to be published, if the lease is still ours.
-- ARGV[1] id, ARGV[2] token, ARGV[3] message JSON.  returns 1, or 0 (lease lost)
if redis.call('HGET', claims, ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', prepared, ARGV[1], ARGV[3])
return 1
"""
)

DEFER = (
    _SHARD
    + """
-- Hold a claimed notification until a later time (quiet hours, a full cap).
-- ARGV[1] id, ARGV[2] token, ARGV[3] new due ms, ARGV[4] job JSON, ARGV[5] counter
-- returns 1, or 0 (lease lost)
if redis.call('HGET', claims, ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', due, ARGV[3], ARGV[1])
redis.call('HSET', jobs, ARGV[1], ARGV[4])
redis.call('HDEL', claims, ARGV[1])
redis.call('HINCRBY', stats, ARGV[5], 1)
return 1
"""
)

FINISH = (
    _SHARD
    + """
-- A claimed notification is done (sent, or dropped): off the schedule, remembered 30 days.
-- ARGV[1] id, ARGV[2] token, ARGV[3] user, ARGV[4] now ms, ARGV[5] retention ms,
-- ARGV[6] counter.  returns 1, or 0 (lease lost: another worker or a forget_user has it)
local id, user, now = ARGV[1], ARGV[3], tonumber(ARGV[4])
if redis.call('HGET', claims, id) ~= ARGV[2] then return 0 end
unschedule(id)
drop_from_user(user, id)
local cur = cart_of(user)
if cur == id then redis.call('HDEL', carts, user) end
redis.call('ZADD', finished, now, id)
redis.call('ZREMRANGEBYSCORE', finished, '-inf', now - tonumber(ARGV[5]))
redis.call('HINCRBY', stats, ARGV[6], 1)
return 1
"""
)

FORGET = (
    _SHARD
    + """
-- forget_user: cancel everything pending of the user.
-- ARGV[1] user.  returns {id, job JSON, ...} of what was cancelled
local user = ARGV[1]
local out = {}
local v = redis.call('HGET', users, user)
if v then
  for id in string.gmatch(v, '%S+') do
    local job = redis.call('HGET', jobs, id)
    if job then
      out[#out + 1] = id
      out[#out + 1] = job
      redis.call('HINCRBY', stats, 'suppressed:' .. cjson.decode(job)['reason'] .. ':forgotten', 1)
    end
    unschedule(id)
  end
end
redis.call('HDEL', users, user)
redis.call('HDEL', carts, user)
return out
"""
)

RECORD_SENT = """
-- A notification went out: the send (caps), its items (repeats), the decision (log).
-- KEYS[1] sends zset, KEYS[2] repeats hash, KEYS[3] decisions list
-- ARGV[1] 'channel|id', ARGV[2] now ms, ARGV[3] sends kept ms (the longest cap window),
-- ARGV[4] repeat window ms, ARGV[5] decision JSON, ARGV[6] decisions kept, ARGV[7] their
-- lifetime (s), ARGV[8 ..] the items.  returns 1, or 0 (already recorded: a redelivery)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local now = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local repeat_ms = tonumber(ARGV[4])
if #ARGV >= 8 and repeat_ms > 0 then
  local old = redis.call('HGETALL', KEYS[2])
  for i = 1, #old, 2 do
    if tonumber(old[i + 1]) <= now - repeat_ms then redis.call('HDEL', KEYS[2], old[i]) end
  end
  for i = 8, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], now) end
  redis.call('PEXPIRE', KEYS[2], repeat_ms)
end
redis.call('LPUSH', KEYS[3], ARGV[5])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[6]) - 1)
redis.call('EXPIRE', KEYS[3], ARGV[7])
return 1
"""

SHARD_PRELUDE = _SHARD  # the shard scripts' locals and helpers (replenish_lua.py's too)

NOTIFY_CART = lua_script("notify_cart", CART)
NOTIFY_PURCHASE = lua_script("notify_purchase", PURCHASE)
NOTIFY_CLAIM = lua_script("notify_claim", CLAIM)
NOTIFY_PREPARE = lua_script("notify_prepare", PREPARE)
NOTIFY_DEFER = lua_script("notify_defer", DEFER)
NOTIFY_FINISH = lua_script("notify_finish", FINISH)
NOTIFY_FORGET = lua_script("notify_forget", FORGET)
NOTIFY_RECORD_SENT = lua_script("notify_record_sent", RECORD_SENT)
