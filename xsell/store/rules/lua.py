"""The merchant rules' Lua scripts (xsell/store/rules/store.py): a change and its version bump
are one atomic step, so a process that sees the new version reads the new rules."""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script

RULES_WRITE = lua_script(
    "rules_write",
    """
-- KEYS[1]  the rules hash ({s:rules}:all: rule id -> JSON); KEYS[2] their version
-- ARGV[1]  rule id; ARGV[2] its JSON; ARGV[3] the most rules; ARGV[4] "add" or "put"
-- returns  {status, version}: status 1 written, 0 no such rule (put), -1 full (add)
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
local version = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[4] == 'put' and not exists then
  return {0, version}
end
if ARGV[4] == 'add' and not exists and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return {-1, version}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, redis.call('INCR', KEYS[2])}
""",
)

RULES_DELETE = lua_script(
    "rules_delete",
    """
-- KEYS[1]  the rules hash; KEYS[2] their version
-- ARGV[1]  rule id
-- returns  {deleted 1 or 0, version}
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return {0, tonumber(redis.call('GET', KEYS[2]) or '0')}
end
return {1, redis.call('INCR', KEYS[2])}
""",
)

RULES_READ = lua_script(
    "rules_read",
    """
-- KEYS[1]  the rules hash; KEYS[2] their version
-- returns  {version, id, JSON, id, JSON, ...}: the rules as of that version
local out = {tonumber(redis.call('GET', KEYS[2]) or '0')}
for _, v in ipairs(redis.call('HGETALL', KEYS[1])) do
  out[#out + 1] = v
end
return out
""",
)
