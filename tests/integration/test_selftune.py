"""Self-tuning on a real Redis: each add-to-cart opens a test case (every candidate's top k),
which the shopper's later adds score; the shared counts pick the candidate whose lists the
cart goes on to contain, the choice shows in the status, and thin evidence keeps the
configured weight."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.engine import Engine, tuning_status
from xsell.models.events import CartEvent, ForgetUser, OrderLine, PurchaseEvent
from xsell.store import Store

pytestmark = pytest.mark.integration


def _orders() -> list[PurchaseEvent]:
    """a goes with c, b mostly with d: at the cart [b (newest), a], r = 0.5 ranks d first and
    r = 0.75 or 1 rank c first (P(c|a) = 1 outweighs P(d|b) = 10/13 once a counts enough)."""
    baskets = [("a", "c")] * 10 + [("b", "d")] * 10 + [("b", "c")] * 3
    return [
        PurchaseEvent(f"e{n}", f"o{n}", None, 1000.0 + n, tuple(OrderLine(i) for i in items))
        for n, items in enumerate(baskets)
    ]


async def _shop(
    settings: Settings,
    shoppers: int,
    orders: list[PurchaseEvent] | None = None,
    cart: str = "abc",
) -> tuple[Engine, dict[str, Any]]:
    """``shoppers`` carts of ``cart``'s items, replayed as concurrent shoppers (one add each
    per batch), after ``orders`` (else :func:`_orders`)."""
    store = await Store.open(settings)
    try:
        await store.apply(_orders() if orders is None else orders)
        engine = Engine(store, settings)
        for step, item in enumerate(cart):
            await engine.process(
                [
                    CartEvent(f"c{u}-{step}", "add_to_cart", f"shopper-{u}", item, 5000.0 + step)
                    for u in range(shoppers)
                ]
            )
        return engine, await tuning_status(store, settings)
    finally:
        await store.close()


def tuned(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "max_suggestions": 1,
        "popularity_prior": 0.0,
        "popular_fallback": False,
        "tuning_sample": 1.0,
        "tuning_min_cases": 10.0,
        "tuning_half_life_cases": 0.0,
        "tuning_similarity": "confidence",  # the recency weights only, unless a test says
        "tuning_popularity_prior": "0",
    }
    values.update(overrides)
    return make_settings(**values)


def test_the_candidate_whose_lists_the_cart_goes_on_to_contain_takes_over(
    make_settings: Callable[..., Settings],
) -> None:
    engine, status = run(_shop(tuned(make_settings), shoppers=20))
    # a case at each add: [a] -> c for all (hit by the later c); [b, a] -> d for r = 0.5, c for
    # the others (hit); [c, b, a]: nothing follows
    assert status["cases"] == 60.0
    rates = {"0.5": 0.3333, "0.75": 0.6667, "1.0": 0.6667}
    # the category back-off candidates (XSELL_TUNING_CATEGORY_BACKOFF) rank these items,
    # which have no category, as the configured ones do
    off = {f"{r}/category_backoff=0.0": v for r, v in rates.items()}
    assert status["hit_rates"] == rates | off
    assert status["recency_decay"] == 0.75  # the tie of 0.75 and 1.0 goes to the first
    assert status["category_backoff"] == 1.0
    assert engine.current_params.recency_decay == 0.75


def test_a_shop_whose_carts_go_on_to_the_best_sellers_moves_to_mostly_popularity(
    make_settings: Callable[..., Settings],
) -> None:
    """a was bought with c 3 times; p, bought alone 30 times, sells most. Shoppers add a, then
    p: every similarity offers c after a, only the strong prior (mostly popularity) offers p,
    and its lead on the paired cases moves the choice there."""
    orders = [
        PurchaseEvent(f"e{n}", f"o{n}", None, 1000.0 + n, tuple(OrderLine(i) for i in items))
        for n, items in enumerate([("a", "c")] * 3 + [("p",)] * 30)
    ]
    settings = tuned(
        make_settings, tuning_similarity="confidence,jaccard", tuning_popularity_prior="10000"
    )
    engine, status = run(_shop(settings, shoppers=20, orders=orders, cart="ap"))
    assert status["cases"] == 40.0  # the case at [p, a] is never scored: nothing follows
    assert status["hit_rates"]["0.5/popularity_prior=10000"] == 0.5
    assert status["hit_rates"]["0.5/similarity=jaccard"] == 0.0
    assert status["hit_rates"]["0.5"] == 0.0
    assert (status["popularity_prior"], status["similarity"]) == (10000.0, "confidence")
    assert engine.current_params.popularity_prior == 10000.0


def test_thin_evidence_keeps_the_configured_weight(make_settings: Callable[..., Settings]) -> None:
    engine, status = run(_shop(tuned(make_settings, tuning_min_cases=1000.0), shoppers=20))
    assert status["cases"] == 60.0 and status["hit_rates"]["1.0"] == 0.6667
    assert status["recency_decay"] == 0.5  # stored at the first record: the configured one
    assert engine.current_params.recency_decay == 0.5


def test_without_self_tuning_nothing_is_recorded(make_settings: Callable[..., Settings]) -> None:
    engine, status = run(_shop(tuned(make_settings, self_tuning=False), shoppers=5))
    assert engine.tuner is None
    assert status["cases"] == 0.0 and status["recency_decay"] is None
    assert status["enabled"] is False


def test_forget_user_erases_the_open_test_cases(make_settings: Callable[..., Settings]) -> None:
    settings = tuned(make_settings)

    async def go() -> tuple[int, int]:
        await _shop(settings, shoppers=2)
        store = await Store.open(settings)
        try:
            key = store.keys.tune_lists("shopper-0")
            before = int(await store.client.exists(key))
            await store.apply([ForgetUser("f-0", "shopper-0", 6000.0)])
            return before, int(await store.client.exists(key))
        finally:
            await store.close()

    assert run(go()) == (1, 0)
