"""A report day's counts of a round trip in one script call.

:data:`~xsell.store.attribution.lua.COUNT` writes one event's (or one suggestion's) counters
under its guard marker, and each call also trims the day's markers, checks and renews their
lifetime and renews the lifetimes of the counters: about nine commands for a suggestion that
adds two counters. :data:`COUNT_MANY` does the bookkeeping once for all the calls of a day:
one ZMSCORE and one ZADD for the markers, one trim, one lifetime check, the two EXPIREs. The
increments stay one HINCRBYFLOAT each, in order (Redis adds them in long double), except for a
counter of whole numbers (suggestions, offers, orders), whose sum goes in one HINCRBYFLOAT:
the same to the last bit either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xsell.store.attribution.lua import COUNT
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script

COUNT_MANY = lua_script(
    "count_many",
    """
-- KEYS[1..3] as COUNT: the day's counters hash, per-user revenue hash, guard zset.
-- ARGV[1] n calls, then per call: c, then its c COUNT arguments (marker, now (ms), until (ms),
--   the day's lifetime (s), n counters, (field, amount) pairs, revenue (field, amount) pairs).
-- Each call as COUNT would apply it after the ones before it: a marker on the guards counts
--   as there unless an earlier applied call's trim (now) has passed its until.
-- returns: one COUNT answer per call (1 applied now, 0 applied before).
local calls, markers = {}, {}
local at = 2
for i = 1, tonumber(ARGV[1]) do
  local c = tonumber(ARGV[at])
  calls[i] = {from = at + 1, to = at + c}
  markers[i] = ARGV[at + 1]
  at = at + 1 + c
end
local known = {}
for from = 1, #markers, 500 do
  local upto = math.min(from + 499, #markers)
  local got = redis.call('ZMSCORE', KEYS[3], unpack(markers, from, upto))
  for i = from, upto do known[i] = got[i - from + 1] and tonumber(got[i - from + 1]) end
end
local answers, added, seen = {}, {}, {}
local trimmed, keep, lifetime = nil, nil, nil
local rows = {}  -- revenue fields known to exist (a later HSETNX changes nothing)
local sums, fields = {}, {}  -- counter field -> its increments, in order
for i, call in ipairs(calls) do
  local f = call.from
  local marker, now, untl = ARGV[f], tonumber(ARGV[f + 1]), tonumber(ARGV[f + 2])
  local present = seen[marker] or (known[i] and not (trimmed and known[i] <= trimmed))
  if present then
    answers[i] = 0
  else
    answers[i] = 1
    seen[marker] = true
    added[#added + 1] = ARGV[f + 2]
    added[#added + 1] = marker
    if not trimmed or now > trimmed then trimmed = now end
    if not keep or untl - now > keep then keep = untl - now end
    lifetime = tonumber(ARGV[f + 3])
    local n = tonumber(ARGV[f + 4])
    for j = f + 5, f + 4 + 2 * n, 2 do
      local field = ARGV[j]
      if not sums[field] then
        sums[field] = {}
        fields[#fields + 1] = field
      end
      local list = sums[field]
      list[#list + 1] = ARGV[j + 1]
    end
    for j = f + 5 + 2 * n, call.to, 2 do
      if ARGV[j + 1] == '' then
        if not rows[ARGV[j]] then redis.call('HSETNX', KEYS[2], ARGV[j], '0') end
      else
        redis.call('HINCRBYFLOAT', KEYS[2], ARGV[j], ARGV[j + 1])
      end
      rows[ARGV[j]] = true
    end
  end
end
-- A counter whose value and increments are all whole numbers below 2^53 takes their sum in one
-- HINCRBYFLOAT: long double adds such numbers exactly, so the result is the same to the bit;
-- any other counter takes its increments one by one, in order.
local function whole(x) return x and x == math.floor(x) and math.abs(x) < 2 ^ 53 end
if #fields > 0 then
  local current = redis.call('HMGET', KEYS[1], unpack(fields))
  for i, field in ipairs(fields) do
    local list = sums[field]
    local total = (current[i] and tonumber(current[i])) or 0
    local exact = whole(total)
    for _, x in ipairs(list) do
      local v = tonumber(x)
      if not whole(v) then exact = false end
      if exact then
        total = total + v
        if not whole(total) then exact = false end
      end
    end
    if exact and #list > 1 then
      local sum = 0
      for _, x in ipairs(list) do sum = sum + tonumber(x) end
      redis.call('HINCRBYFLOAT', KEYS[1], field, string.format('%d', sum))
    else
      for _, x in ipairs(list) do redis.call('HINCRBYFLOAT', KEYS[1], field, x) end
    end
  end
end
if trimmed then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', trimmed)
  for from = 1, #added, 1000 do
    redis.call('ZADD', KEYS[3], 'NX', unpack(added, from, math.min(from + 999, #added)))
  end
  if redis.call('PTTL', KEYS[3]) < keep then redis.call('PEXPIRE', KEYS[3], keep) end
  for k = 1, 2 do redis.call('EXPIRE', KEYS[k], lifetime) end
end
return answers
""",
)


def merge_count_calls(calls: Sequence[Call]) -> Call:
    """One COUNT_MANY call for COUNT ``calls`` of one day, in order."""
    first = calls[0]
    args: list[Any] = [len(calls)]
    for call in calls:
        if call[0] is not COUNT or list(call[1]) != list(first[1]):
            raise ValueError("merge_count_calls takes COUNT calls of one day")
        args += [len(call[2]), *call[2]]
    return (COUNT_MANY, list(first[1]), args)
