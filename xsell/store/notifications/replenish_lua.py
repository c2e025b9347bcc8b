"""The replenishment notification's scheduling script (the other scripts: lua.py; the
KEYS are a shard's eight, :class:`xsell.store.notifications.keys.ShardKeys`)."""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script
from xsell.store.notifications.lua import SHARD_PRELUDE

REPLENISH = (
    SHARD_PRELUDE
    + """
-- A known user's order with replenishment on: schedules their replenish notification and
-- moves the pending one no worker holds (one pending replenish per user, due after the
-- latest order). The moved one's id is remembered as finished, so a redelivery of its
-- order is 'same'; an order older than the pending one's changes nothing ('older').
-- ARGV[1] user, ARGV[2] order time (s), ARGV[3] id, ARGV[4] due ms, ARGV[5] expiry ms,
-- ARGV[6] now ms, ARGV[7] job JSON
-- returns {outcome, moved id or false}; outcome 'scheduled', 'stale', 'same', 'older'
local function pending_replenish(user)
  local v = redis.call('HGET', users, user)
  if not v then return nil, nil end
  for x in string.gmatch(v, '%S+') do
    local job = redis.call('HGET', jobs, x)
    if job and redis.call('HEXISTS', claims, x) == 0 then
      local j = cjson.decode(job)
      if j['reason'] == 'replenish' then return x, tonumber(j['ts']) end
    end
  end
  return nil, nil
end
local user, ts, id, now = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[6])
if redis.call('ZSCORE', finished, id) or redis.call('HEXISTS', jobs, id) == 1 then
  return {'same', false}
end
if tonumber(ARGV[5]) <= now then
  redis.call('HINCRBY', stats, 'stale:replenish', 1)
  return {'stale', false}
end
local cur, cur_ts = pending_replenish(user)
if cur and cur_ts > ts then
  redis.call('ZADD', finished, now, id)
  return {'older', false}
end
local moved = false
if cur then
  unschedule(cur)
  drop_from_user(user, cur)
  redis.call('ZADD', finished, now, cur)
  moved = cur
end
schedule(user, id, ARGV[4], ARGV[7], 'replenish')
return {'scheduled', moved}
"""
)

NOTIFY_REPLENISH = lua_script("notify_replenish", REPLENISH)
