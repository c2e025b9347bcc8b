"""The number of buy-again places' self-tuning on a real Redis: a sampled known user's add to
cart with due rebuys opens a test case (each candidate's final offers with that many places),
the cart's later adds score it, and the shared counts move to more places where users re-buy
and to none where they add the cross-sell instead; a shop without repeatable items makes no
case and keeps the configured number (XSELL_MAX_REBUYS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.engine import Engine, rebuy_tuning_status
from xsell.models.events import CartEvent, ForgetUser, OrderLine, PurchaseEvent
from xsell.store import Store

pytestmark = pytest.mark.integration

DAY = 86400.0
T0 = 1_700_000_000.0
NOW = T0 + 60 * DAY
USERS = 20


def _order(n: str, user: str | None, ts: float, *items: str) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", user, ts, tuple(OrderLine(i) for i in items))


def _history(repeats: bool) -> list[PurchaseEvent]:
    """bread is always bought with x, y, z (its cross-sell: x, y, z); 20 shoppers buy coffee,
    tea and milk every 10 days (repeatable), or once (``repeats`` False: a gadget shop). The
    test users bought coffee 9, tea 12 and milk 15 days before the carts: all due, coffee
    nearest its cycle."""
    out = [_order(f"b{n}", None, T0 + n, "bread", "x", "y", "z") for n in range(30)]
    visits = 4 if repeats else 1
    for u in range(20):
        for v in range(visits):
            out.append(
                _order(f"s{u}-{v}", f"old-{u}", T0 + v * 10 * DAY + u, "coffee", "tea", "milk")
            )
    for u in range(USERS):
        for item, days in (("coffee", 9), ("tea", 12), ("milk", 15)):
            out.append(_order(f"m{u}-{item}", f"me-{u}", NOW - days * DAY + u, item))
    return out


def _add(user: str, item: str, ts: float) -> CartEvent:
    return CartEvent(f"c-{user}-{item}", "add_to_cart", user, item, ts)


async def _shop(
    settings: Settings, then: str, repeats: bool = True
) -> tuple[Engine, dict[str, Any]]:
    """Each test user adds bread to a cart, then ``then`` (one batch each)."""
    store = await Store.open(settings)
    try:
        await store.apply(_history(repeats))
        engine = Engine(store, settings)
        await engine.process([_add(f"me-{u}", "bread", NOW + u) for u in range(USERS)])
        await engine.process([_add(f"me-{u}", then, NOW + 60 + u) for u in range(USERS)])
        status = await rebuy_tuning_status(store, settings)
        key = store.keys.tune_rebuy_lists("me-0")
        held = await store.client.exists(key)
        await store.apply([ForgetUser("f-0", "me-0", NOW + 120)])
        status["held"] = (held, await store.client.exists(key))  # open cases, then forgotten
        return engine, status
    finally:
        await store.flush_namespace()
        await store.close()


def tuned(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "max_suggestions": 3,
        "popularity_prior": 0.0,
        "popular_fallback": False,
        "followed_window_days": 30,
        "tuning_sample": 1.0,
        "tuning_min_cases": 10.0,
        "tuning_half_life_cases": 0.0,
    }
    values.update(overrides)
    return make_settings(**values)


def test_where_users_re_buy_the_tuner_moves_to_more_places(
    make_settings: Callable[..., Settings],
) -> None:
    # milk is the third due rebuy: only three places offer it
    engine, status = run(_shop(tuned(make_settings), then="milk"))
    assert status["cases"] == 40.0  # bread's and milk's adds (coffee and tea still due)
    assert status["held"] == (1, 0)  # a user's open cases, deleted by forget_user
    assert status["hit_rates"] == {"0": 0.0, "1": 0.0, "2": 0.0, "3": 0.5}
    assert status["max_rebuys"] == 3
    assert engine.current_params.rebuy.max_offers == 3


def test_where_users_add_the_cross_sell_the_tuner_moves_to_none(
    make_settings: Callable[..., Settings],
) -> None:
    # z is the cross-sell's third offer: a rebuy place takes it
    engine, status = run(_shop(tuned(make_settings), then="z"))
    assert status["hit_rates"]["0"] == 0.5 and status["hit_rates"]["1"] == 0.0
    assert status["max_rebuys"] == 0
    assert engine.current_params.rebuy.max_offers == 0


def test_thin_evidence_and_a_shop_without_rebuys_keep_the_configured_number(
    make_settings: Callable[..., Settings],
) -> None:
    engine, status = run(_shop(tuned(make_settings, tuning_min_cases=1000.0), then="milk"))
    assert status["max_rebuys"] == 1
    assert status["lead"] == {"max_rebuys": 3, "wins": 20.0, "losses": 0.0, "z": 4.47}
    engine, status = run(_shop(tuned(make_settings), then="milk", repeats=False))
    assert status["cases"] == 0.0  # nothing is bought again: no add is a case
    assert status["max_rebuys"] is None  # nothing stored: every process keeps the configured
    assert engine.current_params.rebuy.max_offers == 1
