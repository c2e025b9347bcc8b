"""The followed-by script of a purchase (xsell/store/core/followed.py builds its calls), apart so
that the guards (xsell/store/core/guards.py) can name it without an import cycle."""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script

FOLLOW_USER = lua_script(
    "follow_user",
    """
-- KEYS[1] the user's followed-by window zset (item -> last purchase ts), KEYS[2] the user's
--   purchase history hash (item -> last ts; only read: PURCHASE_USER, sent after, writes it),
--   KEYS[3] the user's guard zset (marker -> until ms, shared with the segment counters),
--   KEYS[4] the user's follow-up memo hash (marker -> this script's answer, JSON).
-- ARGV[1] marker (the purchase), ARGV[2] now (ms), ARGV[3] the marker's pending until (ms),
-- ARGV[4] ts (s), ARGV[5] window (s), ARGV[6] most items the window keeps,
-- ARGV[7 ..] the order's distinct items.
-- Once per purchase: the first run reads the items of earlier orders within the window
-- (ts - window <= t < ts, most recent first) and which of the order's items the history holds
-- from before ts; then records the order's items (the latest ts per item: ZADD GT), drops what
-- left the window and the oldest beyond the cap, lets the window expire a window after this
-- order, and keeps its answer in the memo under the marker. A later run of the same purchase
-- (its batch died before the commit and is redelivered) finds the marker and returns the memo:
-- the window and history it would read now already hold the order. The apply's commit deletes
-- the memo entry (and re-scores the marker for the dedup window); a run that finds the marker
-- without a memo (a late second worker after the commit) returns an empty answer, whose
-- follow-up calls the commit's markers make no-ops.
-- returns: {earlier items, the order's items bought before (rebuys), each rebuy's gap since the
--   previous purchase (whole s; xsell/store/core/rebuy.py counts them)}
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])
local fresh = redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1]) == 1
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[3], last[2])
if not fresh then
  local memo = redis.call('HGET', KEYS[4], ARGV[1])
  if memo then return cjson.decode(memo) end
  return {{}, {}, {}}
end
local ts, window, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local start = string.format('%.17g', ts - window)
local earlier = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[4], start, 'BYSCORE', 'REV')
local items = {}
for i = 7, #ARGV do items[#items + 1] = ARGV[i] end
local rebuys, gaps = {}, {}
for from = 1, #items, 500 do
  local upto = math.min(from + 499, #items)
  local old = redis.call('HMGET', KEYS[2], unpack(items, from, upto))
  local args = {}
  for i = from, upto do
    local was = tonumber(old[i - from + 1])
    if was ~= nil and was < ts then
      rebuys[#rebuys + 1] = items[i]
      gaps[#gaps + 1] = math.floor(ts - was)
    end
    args[#args + 1] = ARGV[4]
    args[#args + 1] = items[i]
  end
  redis.call('ZADD', KEYS[1], 'GT', unpack(args))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. start)
local card = redis.call('ZCARD', KEYS[1])
if card > cap then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, card - cap - 1) end
redis.call('EXPIRE', KEYS[1], math.max(1, math.ceil(window)))
local answer = {earlier, rebuys, gaps}
redis.call('HSET', KEYS[4], ARGV[1], cjson.encode(answer))
redis.call('PEXPIREAT', KEYS[4], last[2])
return answer
""",
)
