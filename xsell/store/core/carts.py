"""The cart scripts: one event (CART_UPDATE), and a shopper's cart events of a micro-batch in
one call (CART_UPDATES).

:data:`~xsell.store.core.lua.CART_UPDATE` reads the whole cart, writes the item and renews the
lifetime: three commands per add-to-cart. A shopper's adds come in runs (the bench's cart mix
holds about twenty per batch), so :data:`CART_UPDATES` reads the cart once, applies the runs'
events in order on a copy, answers each event as CART_UPDATE would, and writes what changed
with one HSET, one HDEL and one EXPIRE.
"""

from __future__ import annotations

from collections.abc import Sequence

from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script

# A cart's rule for the item dropped when it is full, shared by CART_UPDATE and CART_UPDATES.
CART_LUA = """
-- the oldest item of a flat list item, ts, item, ts ... (ties: the lowest item id)
local function oldest(flat)
  local item, at = nil, nil
  for i = 1, #flat, 2 do
    local t = tonumber(flat[i + 1])
    if at == nil or t < at or (t == at and flat[i] < item) then item, at = flat[i], t end
  end
  return item
end
"""

CART_UPDATE = lua_script(
    "cart_update",
    CART_LUA
    + """
-- KEYS[1] the user's cart hash (item -> "ts|event_id").
-- ARGV[1] 'add' | 'remove', ARGV[2] item id, ARGV[3] ts (s), ARGV[4] event id,
-- ARGV[5] cart TTL (s), ARGV[6] most items a cart keeps (the oldest are dropped beyond it, so
--   one shopper adding thousands of items cannot make every add slower).
-- returns: {pair, cart}: pair = 1 when this add makes new co-add pairs (the item was not in the
--   cart, or was added by this very event: a redelivery), else 0; cart = flat list
--   item, ts, item, ts ... of the cart *before* this event, without this item.
local cart, item, op, eid = KEYS[1], ARGV[2], ARGV[1], ARGV[4]
local flat = redis.call('HGETALL', cart)
local before = {}
local prior = nil
for i = 1, #flat, 2 do
  local sep = string.find(flat[i + 1], '|', 1, true)
  local ts = string.sub(flat[i + 1], 1, sep - 1)
  if flat[i] == item then
    prior = string.sub(flat[i + 1], sep + 1)
  else
    before[#before + 1] = flat[i]
    before[#before + 1] = ts
  end
end
local pair = 0
if op == 'add' then
  if prior == nil or prior == eid then pair = 1 end
  if prior == nil then
    redis.call('HSET', cart, item, ARGV[3] .. '|' .. eid)
    if #before / 2 + 1 > tonumber(ARGV[6]) then redis.call('HDEL', cart, oldest(before)) end
  end
  redis.call('EXPIRE', cart, tonumber(ARGV[5]))
else
  redis.call('HDEL', cart, item)
end
return {pair, before}
""",
)

CART_UPDATES = lua_script(
    "cart_updates",
    CART_LUA
    + """
-- KEYS[1] the user's cart hash (item -> "ts|event_id").
-- ARGV[1] cart TTL (s), ARGV[2] most items a cart keeps, then per event, in order, 4 values:
--   'add' | 'remove', item id, ts (s), event id.
-- Each event as CART_UPDATE would apply it after the ones before it.
-- returns: one {pair, cart before} per event, as CART_UPDATE's.
local cart = KEYS[1]
local ttl, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local flat = redis.call('HGETALL', cart)
local held = {}
for i = 1, #flat, 2 do held[flat[i]] = flat[i + 1] end
local dirty, touched, added = {}, {}, false
local function touch(item)
  if not dirty[item] then
    dirty[item] = true
    touched[#touched + 1] = item
  end
end
local out = {}
for a = 3, #ARGV, 4 do
  local op, item, ts, eid = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local before, prior = {}, nil
  for it, v in pairs(held) do
    local sep = string.find(v, '|', 1, true)
    if it == item then
      prior = string.sub(v, sep + 1)
    else
      before[#before + 1] = it
      before[#before + 1] = string.sub(v, 1, sep - 1)
    end
  end
  local pair = 0
  if op == 'add' then
    if prior == nil or prior == eid then pair = 1 end
    if prior == nil then
      held[item] = ts .. '|' .. eid
      touch(item)
      if #before / 2 + 1 > cap then
        local gone = oldest(before)
        held[gone] = nil
        touch(gone)
      end
    end
    added = true
  elseif held[item] ~= nil then
    held[item] = nil
    touch(item)
  end
  out[#out + 1] = {pair, before}
end
local set, gone = {}, {}
for _, it in ipairs(touched) do
  if held[it] then
    set[#set + 1] = it
    set[#set + 1] = held[it]
  else
    gone[#gone + 1] = it
  end
end
for from = 1, #gone, 500 do
  redis.call('HDEL', cart, unpack(gone, from, math.min(from + 499, #gone)))
end
for from = 1, #set, 1000 do
  redis.call('HSET', cart, unpack(set, from, math.min(from + 999, #set)))
end
if added then redis.call('EXPIRE', cart, ttl) end
return out
""",
)


def merge_cart_calls(calls: Sequence[Call]) -> Call:
    """One CART_UPDATES call for CART_UPDATE ``calls`` of one cart, in order
    (ARGV of CART_UPDATE: op, item, ts, event id, TTL, cap: xsell/store/core/calls.py)."""
    first = calls[0]
    args: list[object] = [first[2][4], first[2][5]]
    for call in calls:
        if call[0] is not CART_UPDATE or call[1] != first[1]:
            raise ValueError("merge_cart_calls takes CART_UPDATE calls of one cart")
        args += call[2][:4]
    return (CART_UPDATES, list(first[1]), args)
