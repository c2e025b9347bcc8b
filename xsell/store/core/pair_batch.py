"""Co-occurrence pairs of a whole micro-batch in one script call (a single Redis).

:data:`~xsell.store.core.lua.APPLY_PAIRS` applies one event: for every target item it reads the
item's landmark, the partners' weights, writes them back and counts the zset, four commands per
target. An add-to-cart pairs the item with up to ``co_add_window`` cart items and a purchase
pairs every two of its items, so one event cost 40-90 commands, and the events of a batch touch
the same items again and again (a shopper's cart, the popular items).

:data:`APPLY_PAIRS_BATCH` applies every event of a round trip in one call, in event order, with
the same arithmetic as event by event: each weight is added in the same order, pruning happens
after the same event, the landmark moves at the same event. What changes is the I/O: each
zset's partners are read once (ZMSCORE), written once (ZADD), counted only when the batch adds
a partner it did not hold (ZCARD), and the markers are checked with one ZMSCORE and written
with one ZADD. A target costs about 3 commands per batch instead of 4 per event.

On Redis Cluster a script's keys must share a slot, so the per-target calls of
:meth:`xsell.store.core.calls.CallBuilder.pair_calls` stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script
from xsell.store.core.lua import APPLY_PAIRS, PRELUDE

APPLY_PAIRS_BATCH = lua_script(
    "apply_pairs_batch",
    PRELUDE
    + """
-- KEYS[1] the namespace's pair guards zset; then for each event, in order: its done key, then
--   3 keys per target (the incremented pair zset, its sibling, the item hash: APPLY_PAIRS).
-- ARGV[1] E events, ARGV[2] the guard markers' pending until (ms), ARGV[3] half-life (s, 0 =
--   no decay), ARGV[4] max neighbours kept (0 = all), ARGV[5] the done keys' lifetime (ms);
--   then per event: marker, ts (s), base weight, mode ('all' | 'star'), T, P, T target ids,
--   P partner ids (partner 1 is the hub of 'star').
-- Each event is applied as APPLY_PAIRS 'done' would (same order of additions, pruning after
--   the same event), when its done key is new and its marker is not on the guards.
-- returns: the number of events applied now.
local ARGV, KEYS = ARGV, KEYS
local guard = KEYS[1]
local E, pending = tonumber(ARGV[1]), tonumber(ARGV[2])
local hl, cap, life = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local limit = cap + math.floor(cap / 4)
local events = {}
local a, k = 6, 2
for e = 1, E do
  local T, P = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  events[e] = {marker = ARGV[a], ts = tonumber(ARGV[a + 1]), base = tonumber(ARGV[a + 2]),
               star = ARGV[a + 3] ~= 'all', T = T, t0 = a + 6, P = P, p0 = a + 6 + T,
               done = KEYS[k], k0 = k + 1}
  a = a + 6 + T + P
  k = k + 1 + 3 * T
end

-- markers: one read, one write
local markers = {}
for e = 1, E do markers[e] = events[e].marker end
local known = {}
for from = 1, E, 500 do
  local upto = math.min(from + 499, E)
  local got = redis.call('ZMSCORE', guard, unpack(markers, from, upto))
  for i = from, upto do known[i] = got[i - from + 1] end
end
local seen, fresh, written = {}, {}, {}
for e = 1, E do
  local ev = events[e]
  local new_done = redis.call('SET', ev.done, '1', 'PX', life, 'NX')
  local first = (not known[e]) and not seen[ev.marker]
  if first then
    seen[ev.marker] = true
    written[#written + 1] = pending
    written[#written + 1] = ev.marker
  end
  fresh[e] = (new_done and first) and true or false
end
for from = 1, #written, 1000 do
  redis.call('ZADD', guard, 'NX', unpack(written, from, math.min(from + 999, #written)))
end

-- A target's partners in an event: star mode pairs a partner with the hub (partner 1) only;
-- otherwise the target pairs with every partner but itself. from .. to over ARGV, skip = the
-- target's own id.
local function span(ev, target)
  local hub = ARGV[ev.p0]
  if ev.star and target ~= hub then return ev.p0, ev.p0 end
  return ev.p0, ev.p0 + ev.P - 1
end

-- the partners each target zset of a fresh event takes, read once per zset
local wanted, wanted_n, order = {}, {}, {}
for e = 1, E do
  local ev = events[e]
  if fresh[e] then
    for j = 1, ev.T do
      local z = KEYS[ev.k0 + 3 * (j - 1)]
      local target = ARGV[ev.t0 + j - 1]
      local set = wanted[z]
      if not set then
        set = {}
        wanted[z], wanted_n[z] = set, {}
        order[#order + 1] = z
      end
      local list = wanted_n[z]
      local from, to = span(ev, target)
      for p = from, to do
        local m = ARGV[p]
        if m ~= target and not set[m] then
          set[m] = true
          list[#list + 1] = m
        end
      end
    end
  end
end

-- each zset's weights as Redis holds them plus this batch's additions
local score, dirty, dirty_list, card, unflushed = {}, {}, {}, {}, {}
local function load(z)
  local sc = {}
  score[z] = sc
  local ms = wanted_n[z] or {}
  for from = 1, #ms, 500 do
    local upto = math.min(from + 499, #ms)
    local got = redis.call('ZMSCORE', z, unpack(ms, from, upto))
    for i = from, upto do
      local v = got[i - from + 1]
      if v then sc[ms[i]] = tonumber(v) end
    end
  end
end
local function flush(z)
  local list, sc = dirty_list[z], score[z]
  if list and #list > 0 then
    for from = 1, #list, 500 do
      local args, n = {}, 0
      for i = from, math.min(from + 499, #list) do
        args[n + 1] = sc[list[i]]
        args[n + 2] = list[i]
        n = n + 2
      end
      redis.call('ZADD', z, unpack(args))
    end
  end
  dirty[z], dirty_list[z], unflushed[z] = {}, {}, 0
end
for _, z in ipairs(order) do
  load(z)
  dirty[z], dirty_list[z], unflushed[z] = {}, {}, 0
end

-- landmarks: read once per item; a move rescales its zsets as APPLY_PAIRS does
local landmark = {}
local function weight(h, z, zsib, ts, base)
  if hl <= 0 then return base end
  local L = landmark[h]
  if L == nil then
    L = tonumber(redis.call('HGET', h, 'L'))
    if not L then
      L = ts
      redis.call('HSET', h, 'L', fmt(ts))
    end
    landmark[h] = L
  end
  if (ts - L) / hl > RESCALE then
    local zsets = {z, zsib}
    for _, x in ipairs(zsets) do if score[x] then flush(x) end end
    local w = decay_weight(h, zsets, ts, hl, base)  -- rescales, moves L to ts
    landmark[h] = ts
    for _, x in ipairs(zsets) do
      if score[x] then
        load(x)
        card[x] = nil
      end
    end
    return w
  end
  return base * 2 ^ ((ts - L) / hl)
end

local applied = 0
for e = 1, E do
  local ev = events[e]
  if fresh[e] then
    applied = applied + 1
    for j = 1, ev.T do
      local kz = ev.k0 + 3 * (j - 1)
      local z = KEYS[kz]
      local target = ARGV[ev.t0 + j - 1]
      local w = weight(KEYS[kz + 2], z, KEYS[kz + 1], ev.ts, ev.base)
      local s, d, dl = score[z], dirty[z], dirty_list[z]
      local added = 0
      local from, to = span(ev, target)
      for p = from, to do
        local m = ARGV[p]
        if m ~= target then
          local cur = s[m]
          if cur == nil then
            added = added + 1
            s[m] = w
          else
            s[m] = cur + w
          end
          if not d[m] then
            d[m] = true
            dl[#dl + 1] = m
          end
        end
      end
      if cap > 0 and added > 0 then
        if card[z] == nil then
          card[z] = redis.call('ZCARD', z) + unflushed[z]
        end
        card[z] = card[z] + added
        unflushed[z] = unflushed[z] + added
        if card[z] > limit then
          flush(z)
          -- the lightest go (ties: lowest member first), as ZREMRANGEBYRANK 0 .. would
          local gone = redis.call('ZPOPMIN', z, card[z] - cap)
          for i = 1, #gone, 2 do s[gone[i]] = nil end
          card[z] = cap
        end
      end
    end
  end
end
for _, z in ipairs(order) do flush(z) end
return applied
""",
)

# APPLY_PAIRS 'done' arguments: marker, ts, half-life, base, cap, now, pending, kind, life,
# mode, then [0] or [T, targets...], then the partners (xsell/store/core/calls.py)
_HEAD = 10


def merge_pair_calls(calls: Sequence[Call]) -> Call:
    """One :data:`APPLY_PAIRS_BATCH` call for single-Redis APPLY_PAIRS ``calls`` (kind
    'done'), in order; they share the batch's now, so the first gives the shared arguments."""
    first = calls[0][2]
    keys: list[Any] = [calls[0][1][0]]
    args: list[Any] = [len(calls), first[6], first[2], first[4], first[8]]
    for call in calls:
        call_keys, call_args = call[1], call[2]
        if call[0] is not APPLY_PAIRS or call_args[7] != "done":
            raise ValueError("merge_pair_calls takes single-Redis APPLY_PAIRS calls")
        listed = int(call_args[_HEAD])
        if listed == 0:
            targets = partners = list(call_args[_HEAD + 1 :])
        else:
            targets = list(call_args[_HEAD + 1 : _HEAD + 1 + listed])
            partners = list(call_args[_HEAD + 1 + listed :])
        keys += call_keys[1:]
        args += [call_args[0], call_args[1], call_args[3], call_args[9], len(targets)]
        args += [len(partners), *targets, *partners]
    return (APPLY_PAIRS_BATCH, keys, args)
