"""Self-tuning's Lua script (xsell/store/tuning/store.py), a constant with its contract; the
store loads it once with the others (xsell/store/backend/client.py)."""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script

TUNE_RECORD = lua_script(
    "tune_record",
    """
-- KEYS[1]  the tuning hash ({g}:tune): cases, the counters of xsell.models.tuning.counter_fields,
--          choice
-- ARGV[1]  fading factor per case; ARGV[2] new cases n; ARGV[3] the choice to store if none
--          is ("" = none); ARGV[4], ARGV[5], ...: counter name, increment, name, increment ...
-- returns  {cases, choice, value of each named counter in ARGV order} as strings, after
--          every stored value was multiplied by factor^n and the increments were added
local f = tonumber(ARGV[1]) ^ tonumber(ARGV[2])
local function bump(field, add)
  local v = (tonumber(redis.call('HGET', KEYS[1], field)) or 0) * f + add
  local text = string.format('%.17g', v)
  redis.call('HSET', KEYS[1], field, text)
  return text
end
local out = {bump('cases', tonumber(ARGV[2]))}
local choice = redis.call('HGET', KEYS[1], 'choice')
if not choice and ARGV[3] ~= '' then
  choice = ARGV[3]
  redis.call('HSET', KEYS[1], 'choice', choice)
end
out[2] = choice or ''
for i = 4, #ARGV, 2 do
  out[#out + 1] = bump(ARGV[i], tonumber(ARGV[i + 1]))
end
return out
""",
)
