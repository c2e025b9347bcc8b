"""Every key family grows within a bound (docs/scaling.md's table): after views, carts,
purchases and a catalogue, each key either expires within its setting or belongs to a family
bounded by the catalogue (item zsets and hashes, popularity, meta, catalogue, positions); a
purchase history keeps its newest ``max_history_items``."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.models.events import CartEvent, CatalogItem, Event, OrderLine, PurchaseEvent
from xsell.store import Position, Store

pytestmark = pytest.mark.integration

# the families without a TTL: bounded by the catalogue (item and category keys; the inputs'
# partitions; the spend histogram: at most 160 buckets)
PERMANENT = (
    ":p",
    ":c",
    ":v",
    ":h",
    ":x",
    "{g}:pop",
    "{g}:meta",
    "{g}:cat",
    "{g}:pos",
    "{g}:spend",
)


def _workload() -> list[Event]:
    now = time.time()
    out: list[Event] = [CatalogItem(item_id=i, category="x", price=1.0) for i in "abcdefgh"]
    for n in range(12):
        user = f"u{n % 3}"
        items = [i for i in "abcdefgh"[n % 4 : n % 4 + 4]]
        out += [CartEvent(f"v{n}{i}", "view", user, i, now + j) for j, i in enumerate(items)]
        out += [CartEvent(f"c{n}{i}", "add_to_cart", user, i, now + j) for j, i in enumerate(items)]
        lines = tuple(OrderLine(i, price=2.0) for i in items)
        out.append(PurchaseEvent(f"p{n}", f"o{n}", user, now + 10 + n, lines))
    return out


def test_every_key_expires_within_its_setting_or_is_bounded_by_the_catalogue(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        dedup_horizon_seconds=600,
        history_ttl_days=30,
        report_retention_days=10,
        cart_ttl_seconds=900,
        views_ttl_seconds=1200,
    )
    limits = {
        ":{e:": 600,
        ":hist": 30 * 86400,
        ":seg": 30 * 86400,  # the segment counters live as long as the history
        ":cart": 900,
        ":view": 1200,
        ":att": 86400 * 2,  # the attribution window + a day
        ":atz": 86400 * 2,
        ":{r:": 10 * 86400,
        "{g}:m$": settings.learning.dedup_pending_seconds,  # guards: popularity's, pairs'
        "{g}:mp$": settings.learning.dedup_pending_seconds,
        "{k}:m$": settings.learning.dedup_window_seconds,  # category guards, committed
        "}:m$": settings.learning.dedup_window_seconds,  # a user's segment guards, committed
    }

    async def go(store: Store) -> None:
        events = _workload()
        await store.apply(events[:50], positions=[Position("t:0", i) for i in range(50)])
        await store.apply(events[50:85])  # no position: an API's or a test's apply
        # a purchase's cart is emptied: leave one cart standing
        await store.apply([CartEvent("last", "add_to_cart", "u9", "a", time.time())])
        seen: set[str] = set()
        co_views = 0
        async for key in store.client.scan_iter(match=f"{store.keys.ns}:*"):
            ttl = await store.client.ttl(key)
            family = next((f for f in limits if _matches(key, f)), None)
            if family is None:
                assert key.endswith(PERMANENT), key
                assert ttl == -1, key
                seen.add("permanent")
                co_views += key.endswith(":v")
                continue
            seen.add(family)
            assert 0 < ttl <= limits[family], (key, ttl)
        assert seen == {*limits, "permanent"}
        assert co_views > 0  # the co-view counts: no TTL, bounded per item

    run(_with_store(settings, go))


def test_a_purchase_history_keeps_its_newest_items(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_history_items=10)

    async def go(store: Store) -> None:
        orders = [
            PurchaseEvent(f"p{n}", f"o{n}", "u1", 1000.0 + n, (OrderLine(f"i{n:02d}"),))
            for n in range(15)
        ]
        await store.apply(orders[:12])
        await store.apply(orders[12:])
        history = await store.client.hgetall(store.keys.history("u1"))
        assert sorted(history) == [f"i{n:02d}" for n in range(5, 15)]

    run(_with_store(settings, go))


def _matches(key: str, family: str) -> bool:
    return key.endswith(family[:-1]) if family.endswith("$") else family in key


async def _with_store(settings: Settings, fn: Callable[[Store], object]) -> object:
    store = await Store.open(settings)
    try:
        return await fn(store)  # type: ignore[misc]
    finally:
        await store.close()
