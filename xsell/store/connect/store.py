"""The connectors' room: what a shop platform's webhooks do not carry and xsell must remember
between two of them (docs/integrations.md).

========================================  ======  ==========================================
key                                       type    what
========================================  ======  ==========================================
NS:{x:PLATFORM:c:CART}                    hash    a cart's last version, the one before it,
                                                  the delivery that stored it (TTL)
NS:{x:PLATFORM:p:PRODUCT}                 string  the item ids a product was published as
                                                  (JSON list), so a deletion retires them all
========================================  ======  ==========================================

Carts expire after ``XSELL_CONNECT_CART_TTL_SECONDS``; product entries are one per product of
the catalogue and go when the product is deleted.
"""

from __future__ import annotations

import json
from typing import Any

from xsell.store.backend.client import Runner
from xsell.store.connect.lua import CART_SWAP
from xsell.store.core.keys import Keys, escape

Cart = dict[str, float]  # item id -> quantity


class ConnectStore:
    """Carts and products as the platforms last sent them (module doc)."""

    def __init__(self, runner: Runner, keys: Keys) -> None:
        self._runner = runner
        self._ns = keys.ns

    def _key(self, platform: str, kind: str, ident: str) -> str:
        return f"{self._ns}:{{x:{escape(platform)}:{kind}:{escape(ident)}}}"

    async def swap_cart(
        self, platform: str, cart_id: str, cart: Cart, delivery: str, ttl_seconds: int
    ) -> Cart:
        """Store ``cart`` as ``cart_id``'s last version; the version it replaces (empty when
        none). The same ``delivery`` again (a retried webhook) gets the same answer."""
        new = json.dumps(cart, separators=(",", ":"), sort_keys=True)
        key = self._key(platform, "c", cart_id)
        (old,) = await self._runner.run([(CART_SWAP, [key], [new, delivery, ttl_seconds])])
        return _cart(old)

    async def product_items(self, platform: str, product_id: str) -> list[str]:
        """The item ids ``product_id`` was last published as (empty: never seen)."""
        (raw,) = await self._runner.run([("GET", self._key(platform, "p", product_id))])
        items = json.loads(raw) if raw else []
        return [str(i) for i in items] if isinstance(items, list) else []

    async def set_product_items(self, platform: str, product_id: str, items: list[str]) -> None:
        """Remember the item ids of ``product_id``; none: forget the product."""
        key = self._key(platform, "p", product_id)
        if items:
            await self._runner.run([("SET", key, json.dumps(items))])
        else:
            await self._runner.run([("DEL", key)])


def _cart(raw: Any) -> Cart:
    if not raw:
        return {}
    value = json.loads(raw)
    return {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else {}
