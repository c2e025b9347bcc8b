"""The connectors' Lua script (xsell/store/connect/store.py), a constant with its contract; the
store loads it once with the others (xsell/store/backend/client.py)."""

from __future__ import annotations

from xsell.store.backend.scripts import lua_script

CART_SWAP = lua_script(
    "connect_cart_swap",
    """
-- KEYS[1]  a platform cart's hash ({x:P:c:CART}): cart (JSON), prev (JSON), by (delivery id)
-- ARGV[1]  the cart's new version (JSON); ARGV[2] the delivery (webhook) id; ARGV[3] TTL s
-- returns  the version this delivery is compared with ('' = none): the stored one, which the
--          new one replaces; for a delivery seen last (a retry), the one it was compared with
--          the first time, so a retry gives the same difference and changes nothing
local by = redis.call('HGET', KEYS[1], 'by')
if by == ARGV[2] then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return redis.call('HGET', KEYS[1], 'prev') or ''
end
local old = redis.call('HGET', KEYS[1], 'cart') or ''
redis.call('HSET', KEYS[1], 'cart', ARGV[1], 'prev', old, 'by', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return old
""",
)
