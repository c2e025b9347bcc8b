"""Views in the store against a real redis-server: recent views, exact co-view counts, the
windows, the partner bound, exactly-once, forget-user, and that a view is never a cart change,
a co-add or a purchase."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import dump_state, run
from xsell.config.settings import Settings
from xsell.models.events import CartEvent, ForgetUser
from xsell.store import Store

pytestmark = pytest.mark.integration


def view(n: int, user: str, item: str, ts: float) -> CartEvent:
    return CartEvent(f"v{n}", "view", user, item, ts)


async def _with_store(settings: Settings, fn: Callable[[Store], Any]) -> Any:
    store = await Store.open(settings)
    try:
        await store.flush_namespace()
        return await fn(store)
    finally:
        await store.close()


async def co_views(store: Store, item: str) -> dict[str, float]:
    return dict(await store.client.zrange(store.keys.item(item).view_pairs, 0, -1, withscores=True))


def test_co_view_counts_are_exact_both_ways_and_a_reload_pairs_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    events = [
        view(1, "u1", "a", 1000.0),
        view(2, "u1", "b", 1010.0),
        view(3, "u1", "c", 1020.0),
        view(4, "u1", "b", 1030.0),  # a reload of b within the window: no new evidence
        view(5, "u2", "b", 1000.0),
        view(6, "u2", "a", 1005.0),
    ]

    async def go(store: Store) -> None:
        effects = await store.apply(events[:3])
        effects += await store.apply(events[3:])  # the second batch: one merged pair call each
        assert not any(e.duplicate for e in effects)
        assert await co_views(store, "a") == {"b": 2.0, "c": 1.0}
        assert await co_views(store, "b") == {"a": 2.0, "c": 1.0}
        assert await co_views(store, "c") == {"a": 1.0, "b": 1.0}
        assert await store.views.recent(["u1", "u2", "nobody"], 10) == [
            ["b", "c", "a"],
            ["a", "b"],
            [],
        ]
        assert await store.views.partners(["a", "z"], 1) == {"a": [("b", 2.0)]}
        k = store.keys
        # never a cart, a co-add, a purchase or popularity
        assert await store.client.exists(k.cart("u1"), k.history("u1"), k.popularity) == 0
        assert await store.client.exists(*(k.item(i).cart_pairs for i in "abc")) == 0
        assert await store.client.exists(*(k.item(i).pairs for i in "abc")) == 0
        assert await store.client.exists(*k.ledger("u1")) == 0  # no attribution either
        before = await dump_state(store)
        again = await store.apply(events)  # redelivered: nothing changes
        assert all(e.duplicate for e in again)
        assert await dump_state(store) == before

    run(_with_store(settings, go))


def test_windows_in_views_and_seconds(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(co_view_window=2, co_view_window_seconds=100.0)
    events = [
        view(1, "u1", "a", 1000.0),
        view(2, "u1", "b", 1010.0),
        view(3, "u1", "c", 1020.0),
        view(4, "u1", "d", 1030.0),  # pairs with the 2 newest: c, b (not a)
        view(5, "u1", "e", 1200.0),  # 170 s after d: outside the window, pairs with none
        view(6, "u1", "f", 1150.0),  # late: pairs with the views in [1050, 1150]: none
    ]

    async def go(store: Store) -> None:
        await store.apply(events)
        assert await co_views(store, "d") == {"b": 1.0, "c": 1.0}
        assert await co_views(store, "a") == {"b": 1.0, "c": 1.0}
        assert await co_views(store, "e") == {}
        assert await co_views(store, "f") == {}

    run(_with_store(settings, go))


def test_partners_and_recent_views_are_bounded(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_neighbors=4, views_max_items=3, co_view_window=1)
    # 20 users each view "hub" then their own item: hub gains 20 partners, kept to 4..5
    events = [
        view(2 * n + m, f"u{n}", ["hub", f"x{n}"][m], 1000.0 + m) for n in range(20) for m in (0, 1)
    ]
    events += [view(100 + n, "u0", f"y{n}", 1002.0 + n) for n in range(6)]

    async def go(store: Store) -> None:
        await store.apply(events)
        partners = await co_views(store, "hub")
        assert 4 <= len(partners) <= 5 and set(partners.values()) == {1.0}
        assert await store.client.zcard(store.keys.views("u0")) == 3
        assert await store.views.recent(["u0"], 10) == [["y5", "y4", "y3"]]

    run(_with_store(settings, go))


def test_view_counts_do_not_decay_beside_decayed_co_adds(
    make_settings: Callable[..., Settings],
) -> None:
    """With a half-life, co-adds and co-views of one batch go to two batch calls."""
    settings = make_settings(half_life_days=1.0)
    day = 86400.0
    events = [
        CartEvent("c1", "add_to_cart", "u9", "p", 5 * day),
        CartEvent("c2", "add_to_cart", "u9", "q", 5 * day + 1),
        view(1, "u1", "a", 5 * day),
        view(2, "u1", "b", 5 * day + 1),
        view(3, "u2", "a", 9 * day),
        view(4, "u2", "b", 9 * day + 1),
    ]

    async def go(store: Store) -> None:
        await store.apply(events)
        assert await co_views(store, "a") == {"b": 2.0}
        co_add = await store.client.zscore(store.keys.item("p").cart_pairs, "q")
        assert co_add == pytest.approx(settings.learning.cart_weight)

    run(_with_store(settings, go))


def test_forget_user_deletes_the_recent_views_not_the_counts(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()

    async def go(store: Store) -> None:
        await store.apply([view(1, "u1", "a", 1000.0), view(2, "u1", "b", 1001.0)])
        assert await store.privacy.held_records("u1") == 1
        assert (await store.privacy.export("u1"))["viewed"] == {"a": 1000.0, "b": 1001.0}
        await store.apply([ForgetUser("f1", "u1", 2000.0)])
        assert await store.privacy.held_records("u1") == 0
        assert await store.views.recent(["u1"], 5) == [[]]
        assert await co_views(store, "a") == {"b": 1.0}  # no user in them

    run(_with_store(settings, go))
