"""The Redis store against a real redis-server: exact counts, exactly-once effects, caps,
decay, carts and the key layout."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from redis.cluster import key_slot

from tests.helpers import dump_state, run
from xsell.config.settings import Settings
from xsell.models.events import CartEvent, CatalogItem, ForgetUser, OrderLine, PurchaseEvent
from xsell.ops.neighbours import neighbours
from xsell.store import Store
from xsell.store.attribution.ledger import day_of
from xsell.store.core.lua import APPLY_PAIRS

pytestmark = pytest.mark.integration


def order(n: int, items: list[str], user: str | None = None, ts: float = 1000.0) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", user, ts + n, tuple(OrderLine(i) for i in items))


GOLDEN = [["a", "b", "c"], ["a", "b"], ["b", "d"], ["a", "a", "b"]]  # "a" twice: counts once


async def _with_store(settings: Settings, fn: Callable[[Store], Any]) -> Any:
    store = await Store.open(settings)
    try:
        return await fn(store)
    finally:
        await store.close()


def test_golden_baskets_give_exact_counts(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()

    async def go(store: Store) -> None:
        await store.apply([order(i, items) for i, items in enumerate(GOLDEN)])
        k = store.keys
        assert dict(await store.client.zrange(k.item("a").pairs, 0, -1, withscores=True)) == {
            "b": 3.0,
            "c": 1.0,
        }
        assert dict(await store.client.zrange(k.item("b").pairs, 0, -1, withscores=True)) == {
            "a": 3.0,
            "c": 1.0,
            "d": 1.0,
        }
        assert dict(await store.client.zrange(k.popularity, 0, -1, withscores=True)) == {
            "a": 3.0,
            "b": 4.0,
            "c": 1.0,
            "d": 1.0,
        }
        assert await store.client.hget(k.meta, "N") == "4"
        rows = await neighbours(store, "a", 5)
        assert rows[0]["item_id"] == "b" and rows[0]["together"] == 3
        assert isinstance(rows[0]["together"], int)

    run(_with_store(settings, go))


def test_duplicate_events_change_nothing(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    events = [order(i, items, user="u1") for i, items in enumerate(GOLDEN)]

    async def go(store: Store) -> None:
        first = await store.apply(events)
        before = await dump_state(store)
        again = await store.apply(events + events)
        assert not any(e.duplicate for e in first)
        assert all(e.duplicate for e in again)
        assert await dump_state(store) == before

    run(_with_store(settings, go))


def test_half_applied_event_is_completed_not_doubled(
    make_settings: Callable[..., Settings],
) -> None:
    """A worker that died after the user, segment and popularity updates of an order, before
    its pair increments (one atomic script that marks the event done): redelivery completes the rest
    and counts nothing twice."""
    settings = make_settings()
    event = order(1, ["a", "b", "c"], user="u1")

    async def go(store: Store) -> None:
        calls = store.calls.event_calls(event, 10**13)
        assert [c[0].name for c in calls] == [
            "follow_user",
            "purchase_user",
            "segment_order",
            "apply_popularity",
            "apply_pairs",
        ]
        await store.runner.run(calls[:4])  # the pairs never got applied
        await store.apply([event])
        ref = make_settings()
        ref_state = await _with_store(ref, lambda s: _apply_and_dump(s, [event]))
        state = await dump_state(store)
        assert _strip_ns(state, settings) == _strip_ns(ref_state, ref)
        assert state[settings.redis.key_namespace + ":{g}:pop"] == {"a": 1.0, "b": 1.0, "c": 1.0}

    run(_with_store(settings, go))


def test_pair_script_applies_each_marker_once(make_settings: Callable[..., Settings]) -> None:
    """Both guard kinds of APPLY_PAIRS: the pair guards plus the done key (single Redis) and
    the per-slot marker zset (Redis Cluster, one target per call); a second call with the same
    marker is a no-op, also once the done key has expired (a batch redelivered late)."""
    settings = make_settings()

    async def go(store: Store) -> None:
        k = store.keys
        now, pending = 10**13, 10**13 + 60_000
        head = [1001.0, 0, 1.0, 0, now, pending, "done", 60_000, "all"]
        done = [
            (
                APPLY_PAIRS,
                [
                    k.pair_guards,
                    k.done("o", "e1"),
                    *k.item("a").for_signal("p"),
                    *k.item("b").for_signal("p"),
                ],
                ["o:e1", *head, 2, "a", "b", "a", "b"],
            )
        ]
        assert await store.runner.run(done) == [2]
        assert await store.runner.run(done) == [0]
        await store.client.delete(k.done("o", "e1"))  # the horizon passed, uncommitted
        assert await store.runner.run(done) == [0]
        listed_once = [
            (
                APPLY_PAIRS,
                [k.pair_guards, k.done("o", "e3"), *done[0][1][2:]],
                ["o:e3", *head, 0, "a", "b"],
            )
        ]
        assert await store.runner.run(listed_once) == [2]  # T = 0: the partners are the targets
        assert await store.client.exists(k.done("o", "e1")) == 1
        window = [
            (
                APPLY_PAIRS,
                [k.item("a").markers, k.item("a").markers, *k.item("a").for_signal("p")],
                [
                    "o:e2",
                    1002.0,
                    0,
                    1.0,
                    0,
                    now,
                    pending,
                    "window",
                    90_000,
                    "all",
                    1,
                    "a",
                    "a",
                    "b",
                ],
            )
        ]
        assert await store.runner.run(window) == [1]
        assert await store.runner.run(window) == [0]
        assert await store.client.zscore(k.item("a").markers, "o:e2") == pending
        assert await store.client.zscore(k.item("a").pairs, "b") == 3.0
        assert await store.client.zscore(k.item("b").pairs, "a") == 2.0

    run(_with_store(settings, go))


async def _apply_and_dump(store: Store, events: list[Any]) -> dict[str, Any]:
    await store.apply(events)
    return await dump_state(store)


def _strip_ns(state: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {k[len(settings.redis.key_namespace) :]: v for k, v in state.items()}


def test_items_per_order_cap_and_neighbour_pruning(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_items_per_order=3, max_neighbors=4)

    async def go(store: Store) -> None:
        await store.apply([order(1, ["a", "b", "c", "d", "e"])])  # pairs among a, b, c only
        k = store.keys
        assert set(await store.client.zrange(k.item("a").pairs, 0, -1)) == {"b", "c"}
        assert await store.client.exists(k.item("d").pairs) == 0
        assert await store.client.zscore(k.popularity, "e") == 1.0  # counted, not paired
        # "x" gets 6 partners; cap 4 + 4//4 = 5 is exceeded -> trimmed to the 4 heaviest
        await store.apply([order(10 + n, ["x", p]) for n, p in enumerate("pqrst")])
        await store.apply([order(20, ["x", "p"]), order(21, ["x", "q"]), order(22, ["x", "r"])])
        await store.apply([order(23, ["x", "s"]), order(24, ["x", "u"])])
        kept = dict(await store.client.zrange(k.item("x").pairs, 0, -1, withscores=True))
        assert len(kept) == 4
        assert kept == {"p": 2.0, "q": 2.0, "r": 2.0, "s": 2.0}

    run(_with_store(settings, go))


def test_forward_decay_and_rescaling(make_settings: Callable[..., Settings]) -> None:
    day = 86400.0
    settings = make_settings(half_life_days=1)

    async def go(store: Store) -> None:
        await store.apply([PurchaseEvent("e1", "o1", None, 0.0, (OrderLine("a"), OrderLine("b")))])
        # one half-life later: the new event weighs 2x relative to the landmark
        await store.apply([PurchaseEvent("e2", "o2", None, day, (OrderLine("a"), OrderLine("b")))])
        k = store.keys
        assert await store.client.zscore(k.item("a").pairs, "b") == pytest.approx(3.0)
        # 40 half-lives later the landmark moves (rescale); decayed values are unchanged
        late = 40 * day
        await store.apply([PurchaseEvent("e3", "o3", None, late, (OrderLine("a"), OrderLine("c")))])
        landmark = float(await store.client.hget(k.item("a").info, "L"))
        assert landmark == late
        stored_b = await store.client.zscore(k.item("a").pairs, "b")
        expected_b = 2.0 ** (0 - 40) + 2.0 ** (1 - 40)  # both old events decayed to `late`
        assert stored_b == pytest.approx(expected_b, rel=1e-12)
        assert await store.client.zscore(k.item("a").pairs, "c") == 1.0
        n = float(await store.client.hget(k.meta, "N"))
        assert n == pytest.approx(1.0 + expected_b, rel=1e-12)
        assert math.isfinite(n)

    run(_with_store(settings, go))


def test_cart_co_adds_cart_lifecycle_and_history(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(cart_weight=0.25)

    def add(n: int, item: str, user: str = "u1") -> CartEvent:
        return CartEvent(f"c{n}", "add_to_cart", user, item, 100.0 + n)

    async def go(store: Store) -> None:
        k = store.keys
        effects = await store.apply([add(1, "a"), add(2, "b"), add(3, "c"), add(4, "b")])
        assert [e.cart for e in effects] == [[], ["a"], ["b", "a"], ["c", "a"]]
        assert dict(await store.client.zrange(k.item("c").cart_pairs, 0, -1, withscores=True)) == {
            "a": 0.25,
            "b": 0.25,
        }
        # re-adding b made no new pairs
        assert dict(await store.client.zrange(k.item("a").cart_pairs, 0, -1, withscores=True)) == {
            "b": 0.25,
            "c": 0.25,
        }
        await store.apply([CartEvent("c5", "remove_from_cart", "u1", "c", 106.0)])
        assert set(await store.client.hkeys(k.cart("u1"))) == {"a", "b"}
        await store.apply([order(7, ["a", "b"], user="u1")])
        assert await store.client.exists(k.cart("u1")) == 0
        assert set(await store.client.hkeys(k.history("u1"))) == {"a", "b"}
        # a redelivered add (same event id) is a duplicate and mutates nothing
        redelivered = await store.apply([add(1, "a")])
        assert redelivered[0].duplicate and await store.client.exists(k.cart("u1")) == 0
        await store.apply([ForgetUser("f1", "u1", 200.0)])
        assert await store.client.exists(k.history("u1"), k.cart("u1")) == 0

    run(_with_store(settings, go))


HOSTILE = ["a{b}c", "{x}", "}", "a:b:*", "%7B", "%", "ü€😀", "x y"]


def test_hostile_ids_stay_in_their_own_slot(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()

    async def go(store: Store) -> None:
        await store.apply([order(1, HOSTILE, user="{u}:*")])
        await store.apply([CatalogItem(item_id="}{", category="c{1}", price=1.0)])
        for ident in HOSTILE:
            keys = store.keys.item(ident)
            slots = {
                key_slot(key.encode())
                for key in (
                    keys.pairs,
                    keys.cart_pairs,
                    keys.info,
                    keys.markers,
                    *keys.for_follow(True),
                )
            }
            assert len(slots) == 1, ident
            partners = set(await store.client.zrange(keys.pairs, 0, -1))
            assert partners == set(HOSTILE) - {ident}
        assert len({store.keys.item(i).pairs for i in HOSTILE}) == len(HOSTILE)
        # exactly the keys the layout names, nothing else (no key built from a broken tag)
        k = store.keys
        # (no item hash: with decay off there is no landmark to keep)
        # (no per-item marker zset on a single Redis: the pair guards and the done key guard
        # the pair script)
        # each bought item's buy-again counters (first buys, rebuys, their gap) sit in its
        # followed-by hash
        expected = {key for i in HOSTILE for key in (k.item(i).pairs, k.item(i).followed_info)}
        expected |= {
            k.popularity,
            k.meta,
            k.global_markers,
            k.pair_guards,
            k.catalog,
            k.history("{u}:*"),
            k.recent("{u}:*"),  # the user's followed-by window
            k.segment("{u}:*"),  # the user's segment counters and their guard markers
            k.user_markers("{u}:*"),
            k.spend_histogram,
            k.done("o", "e1"),
            *k.ledger("{u}:*"),  # the attribution ledger of the (hostile) user
            *k.day(day_of(order(1, HOSTILE, user="{u}:*").ts)),  # the report's day
        }
        assert {key async for key in store.client.scan_iter(match=k.pattern())} == expected

    run(_with_store(settings, go))


def test_cart_keeps_only_its_newest_items(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(max_cart_items=3)

    async def go(store: Store) -> None:
        await store.apply(
            [CartEvent(f"c{n}", "add_to_cart", "u1", f"i{n}", 100.0 + n) for n in range(6)]
        )
        assert set(await store.client.hkeys(store.keys.cart("u1"))) == {"i3", "i4", "i5"}

    run(_with_store(settings, go))


def test_add_to_cart_pairs_only_with_the_newest_cart_items(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(co_add_window=2, cart_weight=1.0)

    async def go(store: Store) -> None:
        k = store.keys
        await store.apply(
            [CartEvent(f"c{n}", "add_to_cart", "u1", f"i{n}", 100.0 + n) for n in range(5)]
        )
        # i4 came after i3, i2, i1, i0: it pairs with the two newest only, both ways
        assert dict(await store.client.zrange(k.item("i4").cart_pairs, 0, -1, withscores=True)) == {
            "i2": 1.0,
            "i3": 1.0,
        }
        assert dict(await store.client.zrange(k.item("i0").cart_pairs, 0, -1, withscores=True)) == {
            "i1": 1.0,
            "i2": 1.0,
        }
        assert len(await store.client.hkeys(k.cart("u1"))) == 5  # the cart keeps them all

    run(_with_store(settings, go))
