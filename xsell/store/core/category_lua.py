"""The category back-off's Lua scripts (models/categories.py), each with its KEYS / ARGV /
returns contract. Every category key lives in the slot ``{k}``, so one call holds all the
categories of an order or of a ranking batch, on a single Redis and on a cluster alike.
"""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script
from xsell.store.core.lua import PRELUDE

APPLY_CATEGORIES = lua_script(
    "apply_categories",
    PRELUDE
    + """
-- KEYS[1] the category guard zset (trimmed by the commit); for category j = 1..C: KEYS[2j]
--   its item zset (item -> weight of orders holding the category and the item), KEYS[2j+1]
--   its hash (L = landmark, N = decayed orders holding it).
-- ARGV[1] marker, ARGV[2] ts (s), ARGV[3] half-life (s, 0 = none), ARGV[4] now (ms),
-- ARGV[5] the guard marker's pending until (ms; xsell/store/core/guards.py),
-- ARGV[6] items kept per category (0 = all), ARGV[7] C;
--   then per category: m, the m items bought with it.
-- Pruning as APPLY_PAIRS: beyond cap + cap/4 items, the lightest go down to cap.
-- returns: C when applied now, 0 when the marker was applied before.
if not first_time(KEYS[1], ARGV[1], tonumber(ARGV[5])) then return 0 end
local ts, hl, cap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[6])
local C = tonumber(ARGV[7])
local pos = 8
for j = 1, C do
  local z, h = KEYS[2 * j], KEYS[2 * j + 1]
  local m = tonumber(ARGV[pos])
  pos = pos + 1
  local w = decay_weight(h, {z}, ts, hl, 1)
  redis.call('HINCRBYFLOAT', h, 'N', fmt(w))
  if m > 0 then
    local with = {}
    for i = pos, pos + m - 1 do with[#with + 1] = ARGV[i] end
    add_weight(z, with, w)
    if cap > 0 then
      local card = redis.call('ZCARD', z)
      if card > cap + math.floor(cap / 4) then
        redis.call('ZREMRANGEBYRANK', z, 0, card - cap - 1)
      end
    end
  end
  pos = pos + m
end
return C
""",
)

READ_CATEGORIES = lua_script(
    "read_categories",
    """
-- KEYS[2j-1], KEYS[2j] for category j: its item zset, its hash.
-- ARGV[1] how many of its items to return.
-- returns: per category {L or false, N or false, {item, weight, ...} heaviest first}
local k = tonumber(ARGV[1]) - 1
local out = {}
for j = 1, #KEYS / 2 do
  local h = redis.call('HMGET', KEYS[2 * j], 'L', 'N')
  local top = redis.call('ZRANGE', KEYS[2 * j - 1], 0, k, 'REV', 'WITHSCORES')
  out[j] = {h[1], h[2], top}
end
return out
""",
)
