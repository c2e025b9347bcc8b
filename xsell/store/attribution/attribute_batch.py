"""A user's attributed events of a micro-batch in one script call.

:data:`~xsell.store.attribution.lua.ATTRIBUTE` looks up an event's memo, the items' latest
offers and the pseudonym, writes the memo and the flags and renews the ledger's lifetime: about
eight commands per add-to-cart. A shopper's events come in runs, so :data:`ATTRIBUTE_MANY`
reads what the run needs with two HMGETs, applies its events in order on a copy (each answer is
the one ATTRIBUTE would give after the events before it) and writes with one HSET, one ZADD and
the two EXPIREs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xsell.store.attribution.lua import ATTRIBUTE, LEDGER_LUA
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script

ATTRIBUTE_MANY = lua_script(
    "attribute_many",
    LEDGER_LUA
    + """
-- KEYS[1] the user's ledger hash, KEYS[2] its ages zset.
-- ARGV[1] n events, then per event: c, then its c arguments as ATTRIBUTE takes them (event id,
--   ts, window, 'add' | 'buy' | 'remove', triples: item id, explicit suggestion id or '',
--   revenue).
-- returns: one ATTRIBUTE answer per event, in order.
local events = {}
local at = 2
for e = 1, tonumber(ARGV[1]) do
  local c = tonumber(ARGV[at])
  events[e] = {from = at + 1, to = at + c}
  at = at + 1 + c
end
local cache = {}  -- field -> value, false when absent
local function prefetch(fields)
  local need, seen = {}, {}
  for _, f in ipairs(fields) do
    if cache[f] == nil and not seen[f] then
      seen[f] = true
      need[#need + 1] = f
    end
  end
  for from = 1, #need, 500 do
    local upto = math.min(from + 499, #need)
    local got = redis.call('HMGET', att, unpack(need, from, upto))
    for i = from, upto do cache[need[i]] = got[i - from + 1] end
  end
end
local function get(f)
  if cache[f] == nil then cache[f] = redis.call('HGET', att, f) end
  return cache[f]
end
local written, order = {}, {}
local function set(f, v)
  cache[f] = v
  if not written[f] then
    written[f] = true
    order[#order + 1] = f
  end
end
-- what the run reads: memos, the items' latest offers, the pseudonym; then those offers
local wanted = {'pid', 'pe'}
for _, ev in ipairs(events) do
  wanted[#wanted + 1] = 'e' .. SEP .. ARGV[ev.from]
  local prefix = ARGV[ev.from + 3] == 'remove' and 'k' or 'o'
  for i = ev.from + 4, ev.to, 3 do wanted[#wanted + 1] = prefix .. SEP .. ARGV[i] end
end
prefetch(wanted)
wanted = {}
for _, ev in ipairs(events) do
  for i = ev.from + 4, ev.to, 3 do
    local item, explicit = ARGV[i], ARGV[i + 1]
    if explicit ~= '' then wanted[#wanted + 1] = 'x' .. SEP .. explicit .. SEP .. item end
    local latest = cache['o' .. SEP .. item]
    if latest then wanted[#wanted + 1] = 'x' .. SEP .. latest .. SEP .. item end
  end
end
prefetch(wanted)

local answers, ages, window = {}, {}, nil
local function age(f, at)
  ages[#ages + 1] = at
  ages[#ages + 1] = f
end
for e, ev in ipairs(events) do
  local eid, ts = ARGV[ev.from], tonumber(ARGV[ev.from + 1])
  local w, kind = tonumber(ARGV[ev.from + 2]), ARGV[ev.from + 3]
  local memo = get('e' .. SEP .. eid)
  if memo then
    answers[e] = memo
  else
    local deltas = {}
    for i = ev.from + 4, ev.to, 3 do
      line(get, set, age, ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ts, w, kind, deltas)
    end
    if kind == 'buy' then purchased(get, set) end
    if kind == 'remove' and #deltas == 0 then
      answers[e] = cjson.encode({deltas = deltas})
    else
      local pid = get('pid')
      if not pid then
        pid = redis.sha1hex(att .. SEP .. eid)
        set('pid', pid)
      end
      local out = cjson.encode({pid = pid, deltas = deltas})
      set('e' .. SEP .. eid, out)
      ages[#ages + 1] = ts
      ages[#ages + 1] = 'e' .. SEP .. eid
      window = w
      answers[e] = out
    end
  end
end
local flat = {}
for _, f in ipairs(order) do
  flat[#flat + 1] = f
  flat[#flat + 1] = cache[f]
end
for from = 1, #flat, 1000 do
  redis.call('HSET', att, unpack(flat, from, math.min(from + 999, #flat)))
end
for from = 1, #ages, 1000 do
  redis.call('ZADD', atz, unpack(ages, from, math.min(from + 999, #ages)))
end
if window then
  redis.call('EXPIRE', att, math.ceil(window) + 86400)
  redis.call('EXPIRE', atz, math.ceil(window) + 86400)
end
return answers
""",
)


def merge_attribute_calls(calls: Sequence[Call]) -> Call:
    """One ATTRIBUTE_MANY call for ATTRIBUTE ``calls`` of one user's ledger, in order."""
    first = calls[0]
    args: list[Any] = [len(calls)]
    for call in calls:
        if call[0] is not ATTRIBUTE or list(call[1]) != list(first[1]):
            raise ValueError("merge_attribute_calls takes ATTRIBUTE calls of one ledger")
        args += [len(call[2]), *call[2]]
    return (ATTRIBUTE_MANY, list(first[1]), args)
