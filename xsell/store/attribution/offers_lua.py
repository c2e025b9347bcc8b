"""Lua scripts that record published offers in a user's ledger (its layout: lua.py).

RECORD_OFFERS_MANY is what the worker and the notification sender run: one call per user per
batch with all that user's messages, in order. RECORD_OFFERS, one message per call, is its
definition: the many-message script leaves the ledger and answers exactly as RECORD_OFFERS
applied message by message would (tests/integration/test_offers_lua.py holds the two equal on
random histories), in about 8 Redis commands instead of about 25 per message of 3 offers.
"""

from __future__ import annotations

from xsell.store.attribution.lua import LEDGER_LUA
from xsell.store.backend.scripts import lua_script

RECORD_OFFERS = lua_script(
    "record_offers",
    LEDGER_LUA
    + """
-- KEYS[1] the user's ledger hash, KEYS[2] its ages zset.
-- ARGV[1] suggestion id, ARGV[2] trigger ts (s), ARGV[3] placement, ARGV[4] variant,
-- ARGV[5] window (s), ARGV[6] the ledger's most entries (XSELL_ATTRIBUTION_LEDGER_MAX_ENTRIES),
-- ARGV[7] the JSON list of the suggestion's trigger items ('' = none: nothing to keep),
-- ARGV[8] the user's segment when offered, 'LIFECYCLE,SPEND' ('' = unknown; SPEND may be ''),
-- ARGV[9 ..] pairs: an offered item id, the id of the rule that placed it ('' = none).
-- An item's offer ('o') moves to this suggestion unless a later one holds it; a redelivered
-- suggestion changes nothing (HSETNX keeps the flags it earned).
-- returns: the user's pseudonym.
local sid, ts, placement, variant = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local window = tonumber(ARGV[5])
prune(ts, window, tonumber(ARGV[6]))
local meta = ts .. '|' .. placement .. '|' .. variant
if redis.call('HSETNX', att, 's' .. SEP .. sid, meta) == 1 then
  redis.call('ZADD', atz, ts, 's' .. SEP .. sid)
end
if ARGV[7] ~= '' and #ARGV > 8 and redis.call('HSETNX', att, 't' .. SEP .. sid, ARGV[7]) == 1 then
  redis.call('ZADD', atz, ts, 't' .. SEP .. sid)
end
for i = 9, #ARGV, 2 do
  local item = ARGV[i]
  local x = 'x' .. SEP .. sid .. SEP .. item
  if redis.call('HSETNX', att, x, offered(meta, ARGV[i + 1], ARGV[8])) == 1 then
    redis.call('ZADD', atz, ts, x)
  end
  local o = 'o' .. SEP .. item
  local current = redis.call('HGET', att, o)
  local newer = true
  if current and current ~= sid then
    local held = redis.call('HGET', att, 'x' .. SEP .. current .. SEP .. item)
    if held and tonumber(split(held)[1]) > ts then newer = false end
  end
  if newer then put(o, sid, ts) end
end
local pid = pseudonym(sid)
expire(window)
return pid
""",
)

RECORD_OFFERS_MANY = lua_script(
    "record_offers_many",
    LEDGER_LUA
    + """
-- KEYS[1] the user's ledger hash, KEYS[2] its ages zset.
-- ARGV[1] window (s), ARGV[2] the ledger's most entries (XSELL_ATTRIBUTION_LEDGER_MAX_ENTRIES),
-- then each message in delivery order: suggestion id, trigger ts (s), placement, variant, its
-- trigger items as RECORD_OFFERS's ARGV[7], its segment as ARGV[8], the number n of offered
-- items, n pairs: item id, the id of the rule that placed it ('' = none).
-- The ledger ends, and the answer is, as RECORD_OFFERS message by message. The fields the
-- messages name are read at once (HMGET) into `known` and written at once (HSET, ZADD). A
-- message's prune runs for real (after writing what is pending) only when it could remove
-- something: when the lowest age is below its window's edge or the entries exceed the cap;
-- `low` (never above the zset's lowest score) and `count` (its size: the hash and the zset
-- hold the same fields, but 'pid') tell without reading the zset.
-- returns: the user's pseudonym.
local window, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local messages = {}
local a = 3
while a <= #ARGV do
  local n = tonumber(ARGV[a + 6])
  local items, rules = {}, {}
  for j = 1, n do
    items[j] = ARGV[a + 5 + 2 * j]
    rules[j] = ARGV[a + 6 + 2 * j]
  end
  messages[#messages + 1] = {
    sid = ARGV[a], ts = tonumber(ARGV[a + 1]), placement = ARGV[a + 2], variant = ARGV[a + 3],
    triggers = ARGV[a + 4], seg = ARGV[a + 5], items = items, rules = rules}
  a = a + 7 + 2 * n
end
local known = {}  -- field -> its value in the hash (false: absent), with the pending writes
local pending, values, ages = {}, {}, {}
local function read(fields)
  for i = 1, #fields, 500 do
    local part = {unpack(fields, i, math.min(i + 499, #fields))}
    local got = redis.call('HMGET', att, unpack(part))
    for j = 1, #part do known[part[j]] = got[j] end
  end
end
local function get(field)
  if known[field] == nil then read({field}) end
  return known[field]
end
local count = redis.call('ZCARD', atz)
local low = math.huge
local function lowest()
  local first = redis.call('ZRANGE', atz, 0, 0, 'WITHSCORES')
  low = first[2] and tonumber(first[2]) or math.huge
end
lowest()
local function write(field, value, ts)
  if values[field] == nil then pending[#pending + 1] = field end
  values[field] = value
  if ts then
    if not known[field] then count = count + 1 end
    ages[field] = ts
    if ts < low then low = ts end
  end
  known[field] = value
end
local function flush()
  local hash, zset = {}, {}
  for _, field in ipairs(pending) do
    hash[#hash + 1] = field
    hash[#hash + 1] = values[field]
    if ages[field] then
      zset[#zset + 1] = ages[field]
      zset[#zset + 1] = field
    end
  end
  for i = 1, #hash, 1000 do
    redis.call('HSET', att, unpack(hash, i, math.min(i + 999, #hash)))
  end
  for i = 1, #zset, 1000 do
    redis.call('ZADD', atz, unpack(zset, i, math.min(i + 999, #zset)))
  end
  pending, values, ages = {}, {}, {}
end
-- what the messages name, then the holders of the items' current offers
local fields, named = {'pid'}, {pid = true}
local function name(field)
  if not named[field] then
    named[field] = true
    fields[#fields + 1] = field
  end
end
for _, m in ipairs(messages) do
  name('s' .. SEP .. m.sid)
  if m.triggers ~= '' and #m.items > 0 then name('t' .. SEP .. m.sid) end
  for _, item in ipairs(m.items) do
    name('x' .. SEP .. m.sid .. SEP .. item)
    name('o' .. SEP .. item)
  end
end
read(fields)
local holders = {}
for _, m in ipairs(messages) do
  for _, item in ipairs(m.items) do
    local current = known['o' .. SEP .. item]
    if current then
      local x = 'x' .. SEP .. current .. SEP .. item
      if not named[x] then
        named[x] = true
        holders[#holders + 1] = x
      end
    end
  end
end
if #holders > 0 then read(holders) end
local pid = nil
for _, m in ipairs(messages) do
  local sid, ts = m.sid, m.ts
  if low < tonumber(tostring(ts - window)) or count > cap then
    flush()
    for _, field in ipairs(prune(ts, window, cap)) do
      if known[field] ~= nil then known[field] = false end
    end
    count = redis.call('ZCARD', atz)
    lowest()
  end
  local meta = ts .. '|' .. m.placement .. '|' .. m.variant
  if not get('s' .. SEP .. sid) then write('s' .. SEP .. sid, meta, ts) end
  if m.triggers ~= '' and #m.items > 0 and not get('t' .. SEP .. sid) then
    write('t' .. SEP .. sid, m.triggers, ts)
  end
  for j, item in ipairs(m.items) do
    local x = 'x' .. SEP .. sid .. SEP .. item
    if not get(x) then write(x, offered(meta, m.rules[j], m.seg), ts) end
    local o = 'o' .. SEP .. item
    local current = get(o)
    local newer = true
    if current and current ~= sid then
      local held = get('x' .. SEP .. current .. SEP .. item)
      if held and tonumber(split(held)[1]) > ts then newer = false end
    end
    if newer then write(o, sid, ts) end
  end
  if not pid then
    pid = get('pid')
    if not pid then
      pid = redis.sha1hex(att .. SEP .. sid)
      write('pid', pid, nil)
    end
  end
end
flush()
expire(window)
return pid
""",
)
