"""Followed-by on a real Redis (xsell/store/core/followed.py): a purchase counts after the
user's earlier orders within the window, first purchases apart from rebuys, exactly once,
bounded per item and per user, and forgotten with the user."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.models.events import ForgetUser, OrderLine, PurchaseEvent
from xsell.store import Position, Store

pytestmark = pytest.mark.integration

DAY = 86400.0
T0 = 1_700_000_000.0


def _order(n: int, user: str | None, ts: float, *items: str) -> PurchaseEvent:
    return PurchaseEvent(f"p{n}", f"o{n}", user, ts, tuple(OrderLine(i) for i in items))


async def _zset(store: Store, key: str) -> dict[str, float]:
    return dict(await store.client.zrange(key, 0, -1, withscores=True))


async def _with_store(settings: Settings, fn: Callable[[Store], object]) -> None:
    store = await Store.open(settings)
    try:
        await store.flush_namespace()
        await fn(store)  # type: ignore[misc]
    finally:
        await store.close()


def test_a_purchase_counts_after_earlier_orders_within_the_window(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(followed_window_days=30)

    async def go(store: Store) -> None:
        k = store.keys
        await store.apply(
            [
                _order(1, "u1", T0, "cam", "bag"),
                _order(2, "u1", T0 + 5 * DAY, "card"),  # within 30 days of order 1
                _order(3, "u1", T0 + 40 * DAY, "tripod"),  # 35 days after order 2: outside
                _order(4, "u2", T0, "cam"),
                _order(5, "u2", T0 + 1 * DAY, "card", "cam"),  # cam again: a rebuy
                _order(6, None, T0 + 2 * DAY, "card"),  # a guest: no window
            ]
        )
        assert await _zset(store, k.item("cam").followed) == {"card": 2.0}
        assert await _zset(store, k.item("bag").followed) == {"card": 1.0}
        assert await _zset(store, k.item("card").followed) == {}
        # the tripod came 35 days after the card and 40 after the camera: no follow-up
        assert "tripod" not in await _zset(store, k.item("cam").followed)
        assert await _zset(store, k.item("cam").rebuys) == {}  # cam -> cam is not counted
        # u2's window: the latest purchase of each item
        assert await _zset(store, k.recent("u2")) == {"cam": T0 + DAY, "card": T0 + DAY}
        ttl = await store.client.ttl(k.recent("u2"))
        assert 29 * DAY < ttl <= 30 * DAY

    run(_with_store(settings, go))


def test_rebuys_count_apart_and_a_redelivery_counts_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(followed_window_days=30)

    async def go(store: Store) -> None:
        k = store.keys
        orders = [
            _order(1, "u1", T0, "coffee"),
            _order(2, "u1", T0 + DAY, "filter"),
            _order(3, "u1", T0 + 2 * DAY, "coffee", "mug"),  # coffee bought before: a rebuy
        ]
        at = [Position("orders:0", n) for n in range(3)]
        await store.apply(orders, positions=at)
        await store.apply(orders, positions=at)  # redelivered
        await store.apply([_order(3, "u1", T0 + 2 * DAY, "coffee", "mug")])  # duplicate send
        assert await _zset(store, k.item("coffee").followed) == {"filter": 1.0, "mug": 1.0}
        assert await _zset(store, k.item("filter").followed) == {"mug": 1.0}
        assert await _zset(store, k.item("filter").rebuys) == {"coffee": 1.0}
        assert await _zset(store, k.item("coffee").rebuys) == {}

    run(_with_store(settings, go))


def test_partners_and_windows_are_bounded(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(followed_window_days=30, max_neighbors=4, max_recent_items=3)

    async def go(store: Store) -> None:
        k = store.keys
        orders = [_order(0, "u0", T0, "a")]
        orders += [_order(n, f"u{n}", T0, "a") for n in range(1, 20)]
        # user n buys a, then item bn: 'a' is followed by 20 distinct items over time
        orders += [_order(100 + n, f"u{n}", T0 + DAY, f"b{n:02d}") for n in range(20)]
        await store.apply(orders)
        partners = await _zset(store, k.item("a").followed)
        assert len(partners) <= 4 + 4 // 4  # pruned down to the cap, as co-purchase partners
        await store.apply([_order(300 + n, "w", T0 + n, f"y{n}") for n in range(6)])
        assert sorted(await _zset(store, k.recent("w"))) == ["y3", "y4", "y5"]

    run(_with_store(settings, go))


def test_forget_user_deletes_the_window(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(followed_window_days=30)

    async def go(store: Store) -> None:
        k = store.keys
        await store.apply([_order(1, "u1", T0, "a"), _order(2, "u1", T0 + DAY, "b")])
        assert await store.client.exists(k.recent("u1")) == 1
        await store.apply([ForgetUser("f1", "u1", T0 + 2 * DAY)])
        assert await store.client.exists(k.recent("u1")) == 0
        # a later order of the forgotten user follows nothing
        await store.apply([_order(3, "u1", T0 + 3 * DAY, "c")])
        assert await _zset(store, k.item("a").followed) == {"b": 1.0}
        assert await _zset(store, k.item("b").followed) == {}

    run(_with_store(settings, go))


def test_off_when_the_window_is_zero(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(followed_window_days=0)

    async def go(store: Store) -> None:
        k = store.keys
        await store.apply([_order(1, "u1", T0, "a"), _order(2, "u1", T0 + DAY, "b")])
        assert await store.client.exists(k.recent("u1"), k.item("a").followed) == 0

    run(_with_store(settings, go))


def test_the_state_oracle_expects_the_streamed_follow_ups(
    make_settings: Callable[..., Settings],
) -> None:
    """xsell chaos and the outage runs compare every model key with BatchTruth: it replays the
    follow-ups and windows the scripts leave (first purchases, rebuys, caps)."""
    from xsell.verify.state_oracle import BatchTruth

    settings = make_settings(followed_window_days=30, max_items_per_order=3)
    orders = [
        _order(n, f"u{n % 4}", T0 + n * DAY / 2, *[f"i{(n * 7 + j) % 9}" for j in range(n % 5)])
        for n in range(1, 60)
    ]

    async def go(store: Store) -> None:
        for lo in range(0, len(orders), 7):
            await store.apply(orders[lo : lo + 7])
        truth = BatchTruth(orders, settings.learning.max_items_per_order)
        assert any(s.endswith(":f") for s in truth.suffixes())
        assert any(s.endswith(":fr") for s in truth.suffixes())
        diff = await truth.compare(store)
        assert diff.total == 0, diff.examples

    run(_with_store(settings, go))
