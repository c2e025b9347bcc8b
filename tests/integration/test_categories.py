"""The category back-off against a real redis-server: the learned category counts are exact,
applied once, the same after a bulk load, and a thin anchor is offered its category's
companions, explained by the category."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import dump_state, run
from xsell.config.settings import Settings
from xsell.engine import Engine
from xsell.models.events import CatalogItem, OrderLine, PurchaseEvent
from xsell.models.ranking import RankRequest
from xsell.ops.loading import load_history
from xsell.store import Store

pytestmark = pytest.mark.integration

CATALOG = [
    CatalogItem("phone-1", category="phone", price=500.0),
    CatalogItem("phone-2", category="phone", price=600.0),
    CatalogItem("phone-new", category="phone", price=550.0),
    CatalogItem("case-1", category="case", price=20.0),
    CatalogItem("camera", category="camera", price=1142.0),
]


def order(n: int, items: list[str]) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", None, 1000.0 + n, tuple(OrderLine(i) for i in items))


ORDERS = [
    order(1, ["phone-1", "case-1"]),
    order(2, ["phone-1", "case-1", "nocat"]),
    order(3, ["phone-2", "case-1"]),
    order(4, ["phone-1", "phone-2"]),
    order(5, ["camera", "nocat"]),
]


def test_category_counts_are_learned_exactly_once(make_settings: Callable[..., Settings]) -> None:
    """Why: the back-off is only as good as its counts; a redelivered order must not count
    twice, and an item must not count as bought with its own category when it is the
    category's only item in the order."""

    async def go() -> None:
        store = await Store.open(make_settings())
        try:
            await store.apply(CATALOG)
            await store.apply(ORDERS)
            before = await dump_state(store)
            again = await store.apply(ORDERS)
            assert all(e.duplicate for e in again)
            assert await dump_state(store) == before
            c = store.client
            phone = store.keys.category("phone")
            assert await c.hget(phone.info, "N") == "4"
            assert dict(await c.zrange(phone.items, 0, -1, withscores=True)) == {
                "case-1": 3.0,
                "nocat": 1.0,
                "phone-1": 1.0,  # order 4: phone-2 is the phone bought with it
                "phone-2": 1.0,
            }
            case = store.keys.category("case")
            assert dict(await c.zrange(case.items, 0, -1, withscores=True)) == {
                "phone-1": 2.0,
                "phone-2": 1.0,
                "nocat": 1.0,
            }
            # items without a category teach nothing about categories
            assert not await c.exists(store.keys.category("nocat").info)
        finally:
            await store.close()

    run(go())


def test_bulk_load_learns_the_same_category_counts(
    make_settings: Callable[..., Settings],
) -> None:
    """Why: ``xsell backfill`` and ``xsell eval`` train by bulk load; without the categories
    there, the back-off would only ever see the live stream."""

    async def go() -> None:
        streamed = await Store.open(make_settings())
        bulk = await Store.open(make_settings())
        try:
            await streamed.apply(CATALOG)
            await streamed.apply(ORDERS)
            summary = await load_history(bulk, ORDERS, mode="bulk", catalog=CATALOG)
            assert summary.mode == "bulk"
            for cat in ("phone", "case", "camera"):
                s, b = streamed.keys.category(cat), bulk.keys.category(cat)
                for key_s, key_b in ((s.items, b.items), (s.info, b.info)):
                    kind = await streamed.client.type(key_s)
                    read = "zrange" if kind == "zset" else "hgetall"
                    args = (0, -1) if kind == "zset" else ()
                    got_s = await getattr(streamed.client, read)(key_s, *args)
                    got_b = await getattr(bulk.client, read)(key_b, *args)
                    assert got_s == got_b and got_s, (cat, key_s)
        finally:
            await streamed.close()
            await bulk.close()

    run(go())


def test_a_thin_anchor_is_offered_its_categorys_companions(
    make_settings: Callable[..., Settings],
) -> None:
    """Why: a phone with no orders of its own (new, or thin) should be offered what phones
    are bought with (a case), explained by the category, not a camera; with the back-off
    off it has no evidence and gets popular items only."""

    async def go() -> None:
        for backoff, expect in ((1.0, True), (0.0, False)):
            store = await Store.open(make_settings(category_backoff=backoff))
            try:
                await store.apply(CATALOG)
                await store.apply(ORDERS)
                engine = Engine(store, store.settings)
                req = RankRequest(["phone-new"], frozenset({"phone-new"}), 2000.0)
                (offers,) = await engine.rank([req])
                by_cat = [o for o in offers if o.because and o.because.category == "phone"]
                assert bool(by_cat) is expect, offers
                if expect:
                    assert offers[0].item_id == "case-1"
                    assert offers[0].kind == "cross_sell"
                    assert offers[0].because is not None
                    assert offers[0].because.confidence == pytest.approx(3 / 4)
                    assert "camera" not in [o.item_id for o in offers[:1]]
            finally:
                await store.close()

    run(go())
