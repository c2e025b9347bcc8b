"""The report's cannibalization (an accepted offer followed by a trigger item leaving the cart)
and bundle figures (impressions, full and partial attach, revenue, discount), through the
store's real apply path on a real redis-server, exactly once on redelivery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.feedback.report import report, table
from xsell.models.bundles import bundle_id
from xsell.models.events import CartEvent, OrderLine, PurchaseEvent
from xsell.store import Store

pytestmark = pytest.mark.integration


def offer(sid: str, user: str, triggers: list[str], items: list[str]) -> dict[str, Any]:
    return {
        "suggestion_id": sid,
        "user_id": user,
        "placement": "cart",
        "variant": "default",
        "trigger": {"type": "add_to_cart", "event_id": None, "item_ids": triggers},
        "items": [{"item_id": i} for i in items],
    }


def cart(eid: str, kind: str, user: str, item: str, ts: float) -> CartEvent:
    return CartEvent(eid, kind, user, item, ts)


def test_a_trigger_leaving_the_cart_after_an_acceptance_counts_once_per_acceptance(
    make_settings: Callable[..., Settings],
) -> None:
    async def go() -> None:
        store = await Store.open(make_settings())
        try:
            await store.attribution.record_offers(
                [offer("s1", "u1", ["a"], ["b", "c"]), offer("s2", "u2", ["x"], ["y"])],
                [1000.0, 1000.0],
            )
            swap = cart("r1", "remove_from_cart", "u1", "a", 1002.0)
            await store.apply(
                [
                    cart("a1", "add_to_cart", "u1", "b", 1001.0),  # accepts s1's b
                    swap,  # a leaves: b's acceptance was a swap
                    swap,  # redelivered in the batch
                    cart("a2", "add_to_cart", "u2", "y", 1001.0),  # accepts s2's y
                ]
            )
            bought = PurchaseEvent("p1", "o1", "u2", 1003.0, (OrderLine("y", price=5.0),))
            await store.apply([bought])
            await store.apply(
                [
                    swap,  # redelivered later: nothing more
                    cart("r2", "remove_from_cart", "u1", "a", 1004.0),  # b already counted
                    cart("r3", "remove_from_cart", "u2", "x", 1005.0),  # after a purchase
                    cart("r4", "remove_from_cart", "u1", "b", 1006.0),  # not a trigger
                ]
            )
            rep = await report(store)
            [row] = rep["rows"]
            assert (row["placement"], row["variant"]) == ("cart", "default")
            assert row["accepted"] == 2
            assert row["cannibalized"] == 1
            assert row["cannibalization_rate"] == 0.5
            assert "cannibalization_rate" in table(rep)
        finally:
            await store.close()

    run(go())


def test_orders_carrying_a_shown_bundle_count_full_and_partial_attach_once(
    make_settings: Callable[..., Settings],
) -> None:
    bid = bundle_id(["a", "b", "c"])
    answer = {"bundle_id": bid, "list_price": 30.0, "bundle_price": 27.0}

    def order(n: int, user: str, tagged: str, untagged: str = "") -> PurchaseEvent:
        lines = [OrderLine(i, price=9.0, bundle_id=bid) for i in tagged]
        lines += [OrderLine(i, price=10.0) for i in untagged]
        return PurchaseEvent(f"p{n}", f"o{n}", user, 1010.0 + n, tuple(lines))

    async def go() -> None:
        store = await Store.open(make_settings())
        try:
            await store.attribution.record_bundle(answer, "u3", "default", 1000.0)
            whole = order(1, "u3", "abc")
            await store.apply([whole, whole])
            await store.apply(
                [
                    whole,  # redelivered
                    order(2, "u3", "a", "bc"),  # the items, but one line carries the id
                    order(3, "u4", "abc"),  # never shown to u4: not counted
                    order(4, "u3", "", "abc"),  # carries no bundle id
                ]
            )
            rep = await report(store)
            assert rep["bundles"]["default"] == {
                "impressions": 1,
                "orders": 2,
                "full": 1,
                "partial": 1,
                "revenue": 36.0,
                "discount": 3.0,
                "full_attach_rate": 1.0,
                "attach_rate": 2.0,
                "revenue_share": round(36.0 / (27 + 29 + 27 + 30), 6),
            }
            assert rep["variants"]["default"]["orders"] == 4
            assert "bundles per variant" in table(rep)
        finally:
            await store.close()

    run(go())
