"""Which calls of a round trip merge (xsell/store/core/batching.py), and where each original
call's answer is found: pure, no Redis."""

from __future__ import annotations

from xsell.config.settings import load_settings
from xsell.models.events import CartEvent, OrderLine, PurchaseEvent
from xsell.store.backend.client import Call
from xsell.store.core.batching import plan
from xsell.store.core.calls import CallBuilder
from xsell.store.core.carts import CART_UPDATE, CART_UPDATES
from xsell.store.core.keys import Keys, Signal, Stream
from xsell.store.core.lua import APPLY_PAIRS
from xsell.store.core.pair_batch import APPLY_PAIRS_BATCH

SETTINGS = load_settings(redis_url="redis://localhost:1/0", key_namespace="u")
BUILD = CallBuilder(Keys("u"), SETTINGS)


def _star(eid: str, items: list[str]) -> list[Call]:
    return BUILD.pair_calls(
        eid, 1.0, Stream.CART, 0.5, "star", items, items, 5, signal=Signal.CO_ADD
    )


def test_co_adds_merge_into_one_call_where_the_last_was_and_purchases_stay_apart() -> None:
    order = PurchaseEvent("p1", "o1", None, 1.0, (OrderLine("a"), OrderLine("b")))
    calls = [*_star("c1", ["a", "b"]), ("GET", "x"), *BUILD.event_calls(order, 5)]
    calls += _star("c2", ["c", "a"])
    merged, where = plan(calls)
    assert [c[0] for c in merged].count(APPLY_PAIRS_BATCH) == 1
    assert merged[-1][0] is APPLY_PAIRS_BATCH  # the place of the last co-add
    assert next(c for c in merged if c[0] is APPLY_PAIRS)[2][9] == "all"  # the order's pairs
    assert where[0] == where[-1] == (len(merged) - 1, None)
    assert where[1] == (0, None)


def test_a_carts_events_merge_unless_another_call_names_the_cart() -> None:
    adds = [CartEvent(f"c{k}", "add_to_cart", "u1", i, float(k)) for k, i in enumerate("abc")]
    calls = [c for e in adds for c in BUILD.event_calls(e, 5)]
    merged, where = plan(calls)
    assert [c[0] for c in merged] == [CART_UPDATES]
    assert where == [(0, 0), (0, 1), (0, 2)]
    bought = PurchaseEvent("p1", "o1", "u1", 9.0, (OrderLine("a"),))
    merged, where = plan([*calls, *BUILD.event_calls(bought, 5)])
    assert [c[0] for c in merged][:3] == [CART_UPDATE] * 3  # the purchase empties the cart
    assert where[:3] == [(0, None), (1, None), (2, None)]


def _view_pairs(eid: str, items: list[str]) -> list[Call]:
    return BUILD.pair_calls(
        eid, 1.0, Stream.CART, 1.0, "star", items, items, 5, signal=Signal.CO_VIEW, half_life=0.0
    )


def test_co_views_merge_with_co_adds_of_the_same_half_life_and_apart_from_others() -> None:
    views = [*_view_pairs("v1", ["a", "b"]), *_view_pairs("v2", ["b", "c"])]
    merged, _ = plan([*_star("c1", ["a", "b"]), *views])
    assert [c[0] for c in merged] == [APPLY_PAIRS_BATCH]  # decay off: one call for all
    decaying = CallBuilder(Keys("u"), load_settings(redis_url=SETTINGS.redis.url, half_life_days=1))
    adds = [
        *decaying.pair_calls(
            "c1", 1.0, Stream.CART, 0.5, "star", ["a", "b"], ["a", "b"], 5, signal=Signal.CO_ADD
        ),
        *decaying.pair_calls(
            "c2", 1.0, Stream.CART, 0.5, "star", ["b", "c"], ["b", "c"], 5, signal=Signal.CO_ADD
        ),
    ]
    merged, where = plan([*adds, *views])
    assert [c[0] for c in merged] == [APPLY_PAIRS_BATCH, APPLY_PAIRS_BATCH]
    assert [c[2][2] for c in merged] == ["86400.0", "0.0"]  # each batch call's half-life
    assert where == [(0, None), (0, None), (1, None), (1, None)]
    assert views[0][1][2:5] == Keys("u").item("a").for_signal(Signal.CO_VIEW)
    assert views[0][1][2] == "u:{i:a}:v"
