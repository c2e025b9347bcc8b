"""The connectors' store room (xsell/store/connect/) and the privacy export on a real Redis:
a cart's versions swap atomically, a retried delivery gets the answer of its first try, the
cart key expires within XSELL_CONNECT_CART_TTL_SECONDS, a product's items are remembered and
forgotten, and a data request's export holds the user's cart and purchases."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.models.events import CartEvent, OrderLine, PurchaseEvent
from xsell.store import Store

pytestmark = pytest.mark.integration


def test_cart_versions_swap_and_a_retry_gets_its_first_answer(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(connect_cart_ttl_seconds=120)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            room = store.connect
            assert await room.swap_cart("shopify", "tok", {"a": 1.0}, "w1", 120) == {}
            assert await room.swap_cart("shopify", "tok", {"b": 2.0}, "w2", 120) == {"a": 1.0}
            # w2 delivered again (its 200 was lost): the same previous version, nothing moved
            assert await room.swap_cart("shopify", "tok", {"b": 2.0}, "w2", 120) == {"a": 1.0}
            assert await room.swap_cart("shopify", "tok", {}, "w3", 120) == {"b": 2.0}
            assert await room.swap_cart("woocommerce", "tok", {}, "w1", 120) == {}  # apart
            keys = [k async for k in store.client.scan_iter(match=f"{store.keys.ns}:{{x:*")]
            assert keys, "no connector key written"
            for key in keys:
                assert 0 < await store.client.ttl(key) <= 120, key
        finally:
            await store.close()

    run(go())


def test_product_items_are_remembered_and_forgotten(
    make_settings: Callable[..., Settings],
) -> None:
    async def go() -> None:
        store = await Store.open(make_settings())
        try:
            room = store.connect
            assert await room.product_items("shopify", "p{1}") == []
            await room.set_product_items("shopify", "p{1}", ["TS-M", "TS-S"])
            assert await room.product_items("shopify", "p{1}") == ["TS-M", "TS-S"]
            await room.set_product_items("shopify", "p{1}", [])
            assert await room.product_items("shopify", "p{1}") == []
        finally:
            await store.close()

    run(go())


def test_the_export_holds_the_users_cart_and_purchases(
    make_settings: Callable[..., Settings],
) -> None:
    async def go() -> None:
        store = await Store.open(make_settings())
        try:
            empty = await store.privacy.export("u1")
            assert empty == {
                "user_id": "u1",
                "cart": {},
                "purchases": {},
                "viewed": {},
                "suggestions": {},
                "segment": {},
            }
            now = time.time()
            await store.apply([PurchaseEvent("p1", "o1", "u1", now - 60, (OrderLine("b"),))])
            await store.apply([CartEvent("c1", "add_to_cart", "u1", "a", now)])
            held = await store.privacy.export("u1")
            assert held["cart"] == {"a": pytest.approx(now)}
            assert held["purchases"] == {"b": pytest.approx(now - 60)}
            assert held["segment"]["o"] == "1"  # one order counted
            assert await store.privacy.held_records("u1") >= 2
        finally:
            await store.close()

    run(go())
