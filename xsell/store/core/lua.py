"""The core's Lua scripts (co-occurrence, carts, purchase history, popularity, done markers),
each a constant with its KEYS / ARGV / returns contract, declared with
:func:`xsell.store.backend.scripts.lua_script` (which registers it for loading).
"""

from __future__ import annotations

from xsell.models.decay import RESCALE_AFTER_HALF_LIVES
from xsell.store.backend.scripts import lua_script

_PRELUDE = """
local RESCALE = @RESCALE@
local function fmt(x) return string.format('%.17g', x) end
-- forward-decay weight of an event at ts for a key whose landmark lives in hash h.
-- Moves the landmark (rescaling the given zsets) when the weight would pass 2^RESCALE.
local function decay_weight(h, zsets, ts, hl, base)
  if hl <= 0 then return base end
  local L = tonumber(redis.call('HGET', h, 'L'))
  if not L then
    L = ts
    redis.call('HSET', h, 'L', fmt(ts))
  end
  local e = (ts - L) / hl
  if e > RESCALE then
    local f = 2 ^ (-e)
    for _, z in ipairs(zsets) do
      local flat = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
      for i = 1, #flat, 2 do
        redis.call('ZADD', z, fmt(tonumber(flat[i + 1]) * f), flat[i])
      end
    end
    local n = tonumber(redis.call('HGET', h, 'N'))  -- the order total lives beside L
    if n then redis.call('HSET', h, 'N', fmt(n * f)) end
    redis.call('HSET', h, 'L', fmt(ts))
    e = 0
  end
  return base * 2 ^ e
end
-- zset z: score(member) += w for every member of list ms, with two calls per chunk instead of
-- one ZINCRBY per member (same double arithmetic as ZINCRBY, several times faster). The sums go
-- to ZADD as Lua numbers, which Redis converts with %.17g (exact), like fmt but cheaper.
-- returns: how many members were new to z.
local function add_weight(z, ms, w)
  local added = 0
  for from = 1, #ms, 500 do
    local upto = math.min(from + 499, #ms)
    local cur = redis.call('ZMSCORE', z, unpack(ms, from, upto))
    local args = {}
    local n = 0
    for i = from, upto do
      args[n + 1] = (tonumber(cur[i - from + 1]) or 0) + w
      args[n + 2] = ms[i]
      n = n + 2
    end
    added = added + redis.call('ZADD', z, unpack(args))
  end
  return added
end
-- Guard markers (xsell/store/core/guards.py): zset m, marker -> the time (ms) after which it
-- may be dropped. A marker is written pending (until = now + the pending lifetime) and
-- re-scored by COMMIT to now + the dedup window once its batch is committed, so the markers of
-- a batch that dies half-way survive until it is redelivered, however late.
-- true when marker was not on m before (and records it): one command.
local function first_time(m, marker, until_ms)
  return redis.call('ZADD', m, 'NX', until_ms, marker) == 1
end
""".replace("@RESCALE@", repr(RESCALE_AFTER_HALF_LIVES))
PRELUDE = _PRELUDE  # the helpers above, for the scripts of other core modules

APPLY_PAIRS = lua_script(
    "apply_pairs",
    _PRELUDE
    + """
-- KEYS[1] the call's guard zset: with ARGV[8] 'done', the namespace's pair guards (single Redis:
--   the call holds every target of the event, and is atomic); with 'window', the target
--   item's marker zset (Redis Cluster, where a call holds one target and its slot's keys).
-- KEYS[2] with 'done': the event's done key (set here, for ARGV[9] ms); with 'window': KEYS[1].
-- KEYS[3j .. 3j+2], for target item j = 1..T: the pair zset to increment, its sibling pair
--   zset (rescaled with it), the item hash (field L = landmark).
-- ARGV[1] marker (event id), ARGV[2] event ts (s), ARGV[3] half-life (s, 0 = no decay),
-- ARGV[4] base weight, ARGV[5] max neighbours kept (0 = all), ARGV[6] now (ms),
-- ARGV[7] the guard marker's pending until (ms), ARGV[8] kind 'done' | 'window',
-- ARGV[9] 'done': the done key's lifetime (ms, the dedup horizon); 'window': the guard zset's
--   lifetime (ms; its committed markers older than now are dropped here),
-- ARGV[10] mode: 'all' = each target pairs with every other partner;
--   'star' = partner 1 is the hub: the hub pairs with every partner, the others with the hub.
-- ARGV[11] T, ARGV[12 .. 11+T] target ids, ARGV[12+T ..] partner ids; T = 0: every partner
--   is a target too (ARGV[12 ..] once: an order's items, a cart's hub and partners).
-- Pruning: when a zset holds more than cap + cap/4 partners, the lightest are removed down to
--   cap (ties: lowest member first), so pruning is amortised and deterministic. Only a call
--   that adds a partner can push a zset over, so only such a call counts it (ZCARD).
-- returns: the number of targets applied now (0 when the marker was applied before).
local marker = ARGV[1]
local ts, hl, base = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cap, now, pending = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local kind, life, mode, T = ARGV[8], tonumber(ARGV[9]), ARGV[10], tonumber(ARGV[11])
if kind == 'done' then
  -- both always run: the done key absorbs a producer's duplicate and a late second worker,
  -- the guard a redelivery of a batch that died half-way after the done key expired
  local fresh = redis.call('SET', KEYS[2], '1', 'PX', life, 'NX')
  local first = first_time(KEYS[1], marker, pending)
  if not fresh or not first then return 0 end
else
  if not first_time(KEYS[1], marker, pending) then return 0 end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('PEXPIRE', KEYS[1], life)
end
local first = 12 + T
if T == 0 then T = #ARGV - 11 end
local hub = ARGV[first]
for j = 1, T do
  local zinc, zsib, h = KEYS[3 * j], KEYS[3 * j + 1], KEYS[3 * j + 2]
  local target = ARGV[11 + j]
  local w = decay_weight(h, {zinc, zsib}, ts, hl, base)
  local others = {hub}  -- star mode: a partner pairs with the hub only
  if mode == 'all' or target == hub then
    others = {}
    for p = first, #ARGV do
      if ARGV[p] ~= target then others[#others + 1] = ARGV[p] end
    end
  end
  local added = add_weight(zinc, others, w)
  if cap > 0 and added > 0 then
    local card = redis.call('ZCARD', zinc)
    if card > cap + math.floor(cap / 4) then
      redis.call('ZREMRANGEBYRANK', zinc, 0, card - cap - 1)
    end
  end
end
return T
""",
)

APPLY_POPULARITY = lua_script(
    "apply_popularity",
    _PRELUDE
    + """
-- KEYS[1] popularity zset, KEYS[2] meta hash (N = order total, L = landmark, T = latest event
--   ts, created = first write in ms), KEYS[3] the popularity guard zset (trimmed by COMMIT).
-- ARGV[1] marker, ARGV[2] ts (s), ARGV[3] half-life (s), ARGV[4] now (ms),
-- ARGV[5] the guard marker's pending until (ms), ARGV[6 ..] the order's distinct item ids.
-- returns: 1 when applied now, 0 when the marker was already applied.
if not first_time(KEYS[3], ARGV[1], tonumber(ARGV[5])) then return 0 end
redis.call('HSETNX', KEYS[2], 'created', ARGV[4])
local latest = tonumber(redis.call('HGET', KEYS[2], 'T'))
if not latest or tonumber(ARGV[2]) > latest then redis.call('HSET', KEYS[2], 'T', ARGV[2]) end
local w = (decay_weight(KEYS[2], {KEYS[1]}, tonumber(ARGV[2]), tonumber(ARGV[3]), 1))
local items = {}
for i = 6, #ARGV do items[#items + 1] = ARGV[i] end
add_weight(KEYS[1], items, w)
redis.call('HINCRBYFLOAT', KEYS[2], 'N', fmt(w))
return 1
""",
)

PURCHASE_USER = lua_script(
    "purchase_user",
    """
-- KEYS[1] the user's cart hash, KEYS[2] the user's purchase history hash (item -> last ts).
-- ARGV[1] ts (s), ARGV[2] the history's lifetime after this order (s), ARGV[3] the most items
-- a history keeps (the oldest purchases are dropped beyond it), ARGV[4 ..] the order's items.
-- Records the purchase in the history (keeping the latest ts per item) and empties the cart.
-- returns: the number of items whose history entry changed.
-- One HMGET and one HSET for all the order's items, not a HGET and HSET each.
local ts = tonumber(ARGV[1])
local changed = 0
local items = {}
for i = 4, #ARGV do items[#items + 1] = ARGV[i] end
local set = {}
for from = 1, #items, 500 do
  local upto = math.min(from + 499, #items)
  local old = redis.call('HMGET', KEYS[2], unpack(items, from, upto))
  for i = from, upto do
    local was = tonumber(old[i - from + 1])
    if was == nil or was < ts then
      set[#set + 1] = items[i]
      set[#set + 1] = ARGV[1]
      changed = changed + 1
    end
  end
end
for from = 1, #set, 1000 do
  redis.call('HSET', KEYS[2], unpack(set, from, math.min(from + 999, #set)))
end
local cap = tonumber(ARGV[3])
if redis.call('HLEN', KEYS[2]) > cap then
  local flat = redis.call('HGETALL', KEYS[2])
  local rows = {}
  for i = 1, #flat, 2 do rows[#rows + 1] = {tonumber(flat[i + 1]), flat[i]} end
  table.sort(rows, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  for i = 1, #rows - cap do redis.call('HDEL', KEYS[2], rows[i][2]) end
end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
redis.call('DEL', KEYS[1])
return changed
""",
)

READ_ITEM = lua_script(
    "read_item",
    """
-- KEYS[1] co-purchase zset, KEYS[2] co-add zset, KEYS[3] item hash (landmark L).
-- ARGV[1] how many top partners of each zset to return.
-- returns: {L or false, {partner, weight, ...} of KEYS[1], {partner, weight, ...} of KEYS[2]}
local k = tonumber(ARGV[1]) - 1
return {
  redis.call('HGET', KEYS[3], 'L'),
  redis.call('ZRANGE', KEYS[1], 0, k, 'REV', 'WITHSCORES'),
  redis.call('ZRANGE', KEYS[2], 0, k, 'REV', 'WITHSCORES'),
}
""",
)

READ_ITEMS = lua_script(
    "read_items",
    """
-- READ_ITEM for many anchors in one call (a single Redis; on a cluster the anchors' keys lie in
-- many slots, so the store sends one READ_ITEM each instead).
-- KEYS[3j-2 .. 3j] for anchor j: co-purchase zset, co-add zset, item hash (landmark L).
-- ARGV[1] how many top partners of each zset to return.
-- returns: one {L or false, {partner, weight, ...}, {partner, weight, ...}} per anchor.
local k = tonumber(ARGV[1]) - 1
local out = {}
for j = 1, #KEYS / 3 do
  out[j] = {
    redis.call('HGET', KEYS[3 * j], 'L'),
    redis.call('ZRANGE', KEYS[3 * j - 2], 0, k, 'REV', 'WITHSCORES'),
    redis.call('ZRANGE', KEYS[3 * j - 1], 0, k, 'REV', 'WITHSCORES'),
  }
end
return out
""",
)

MARK_DONE = lua_script(
    "mark_done",
    """
-- Done markers of events applied by a bulk load (xsell/store/core/bulk.py), many per call
-- (a single Redis: the keys lie in many slots; a cluster gets one SET per key instead).
-- KEYS[1 ..] the events' done keys. ARGV[1] marker lifetime (s).
-- returns: the number of markers set.
for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[1]) end
return #KEYS
""",
)

COMMIT = lua_script(
    "commit",
    """
-- The end of an apply (xsell/store/core/guards.py): its input positions move forward and its
-- guard markers in the {g} slot are kept only for the dedup window from now on.
-- KEYS[1] the positions hash (source -> last applied offset), KEYS[2 ..] guard zsets.
-- ARGV[1] now (ms), ARGV[2] committed markers' until (ms), ARGV[3] guard zsets' lifetime (ms),
-- ARGV[4] n, then n (source, offset) pairs; then for each guard zset KEYS[j], j >= 2: a
--   count c, then its c markers (re-scored only where present: ZADD XX).
-- Markers whose until has passed are dropped. returns: the number of positions moved.
local now, keep, life, n = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local moved = 0
for i = 5, 4 + 2 * n, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if not cur or tonumber(ARGV[i + 1]) > cur then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    moved = moved + 1
  end
end
local at = 5 + 2 * n
for j = 2, #KEYS do
  local c = tonumber(ARGV[at])
  for from = at + 1, at + c, 500 do
    local upto = math.min(from + 499, at + c)
    local args = {}
    for i = from, upto do
      args[#args + 1] = keep
      args[#args + 1] = ARGV[i]
    end
    redis.call('ZADD', KEYS[j], 'XX', unpack(args))
  end
  at = at + c + 1
  redis.call('ZREMRANGEBYSCORE', KEYS[j], '-inf', now)
  redis.call('PEXPIRE', KEYS[j], life)
end
return moved
""",
)

COMMIT_GUARD = lua_script(
    "commit_guard",
    """
-- The end of an apply for one guard zset outside the {g} slot that many keys share by day
-- (a report day's markers): its markers are kept only for the dedup window from now on, and the
-- key lives as long as its latest marker (so a day no longer written does not keep them).
-- KEYS[1] the guard zset. ARGV[1] now (ms), ARGV[2] committed markers' until (ms),
-- ARGV[3 ..] the markers (re-scored only where present: ZADD XX).
-- returns: the number of markers left.
local args = {}
for i = 3, #ARGV do
  args[#args + 1] = ARGV[2]
  args[#args + 1] = ARGV[i]
end
for from = 1, #args, 1000 do
  redis.call('ZADD', KEYS[1], 'XX', unpack(args, from, math.min(from + 999, #args)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 0 then return 0 end
redis.call('PEXPIREAT', KEYS[1], last[2])
return redis.call('ZCARD', KEYS[1])
""",
)
