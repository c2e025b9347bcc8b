"""Self-tuning's Lua script (xsell/store/selftune.py), a constant with its contract; the
store loads it once with the others (xsell/store/client.py)."""

from __future__ import annotations

from xsell.store.lua import LuaScript

TUNE_RECORD = LuaScript(
    "tune_record",
    """
-- KEYS[1]  the tuning hash ({g}:tune): cases, h0 .. h(K-1), choice
-- ARGV[1]  fading factor per case; ARGV[2] new cases n; ARGV[3] K candidates;
-- ARGV[4]  the choice to store if none is ("" = keep); ARGV[5 .. 4+K] hits of each candidate
-- returns  {cases, choice, h0 .. h(K-1)} as strings, after the update
local f = tonumber(ARGV[1]) ^ tonumber(ARGV[2])
local k = tonumber(ARGV[3])
local out = {}
local cases = (tonumber(redis.call('HGET', KEYS[1], 'cases')) or 0) * f + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'cases', string.format('%.17g', cases))
local choice = redis.call('HGET', KEYS[1], 'choice')
if not choice and ARGV[4] ~= '' then
  choice = ARGV[4]
  redis.call('HSET', KEYS[1], 'choice', choice)
end
out[1] = string.format('%.17g', cases)
out[2] = choice or ''
for c = 0, k - 1 do
  local field = 'h' .. c
  local h = (tonumber(redis.call('HGET', KEYS[1], field)) or 0) * f + tonumber(ARGV[5 + c])
  redis.call('HSET', KEYS[1], field, string.format('%.17g', h))
  out[3 + c] = string.format('%.17g', h)
end
return out
""",
)

TUNING_SCRIPTS = (TUNE_RECORD,)
