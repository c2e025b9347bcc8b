"""The followed-by weight's self-tuning on a real Redis: a sampled user's purchase opens a test
case (each candidate weight's top k), the user's next order within the window scores it, and
the shared counts pick the weight whose lists the next orders hold; thin evidence keeps the
configured weight (XSELL_FOLLOWED_WEIGHT)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.engine import Engine, followed_tuning_status
from xsell.models.events import OrderLine, PurchaseEvent
from xsell.store import Store

pytestmark = pytest.mark.integration

DAY = 86400.0


def _order(n: str, user: str | None, ts: float, items: str) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", user, ts, tuple(OrderLine(i) for i in items))


def _history() -> list[PurchaseEvent]:
    """a is always bought with x, y, z (same-basket confidence 1); a third of its buyers buy f
    a day later (followed-by share 1/3): f enters the top 3 of an order of a only when the
    followed-by weight is over 3."""
    out = [_order(f"h{n}", f"old-{n}" if n < 10 else None, 1000.0 + n, "axyz") for n in range(30)]
    return out + [_order(f"f{n}", f"old-{n}", 1000.0 + DAY + n, "f") for n in range(10)]


async def _shop(settings: Settings, users: int) -> tuple[Engine, dict[str, Any], bool]:
    """``users`` new customers buy a, then f the next day (two batches)."""
    store = await Store.open(settings)
    try:
        await store.apply(_history())
        engine = Engine(store, settings)
        t = 1000.0 + 5 * DAY
        await engine.process([_order(f"a{u}", f"new-{u}", t + u, "a") for u in range(users)])
        stored = await store.runner.run([("EXISTS", store.keys.tune_followed_lists("new-0"))])
        await engine.process([_order(f"b{u}", f"new-{u}", t + DAY + u, "f") for u in range(users)])
        return engine, await followed_tuning_status(store, settings), stored == [1]
    finally:
        await store.close()


def tuned(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "max_suggestions": 3,
        "popularity_prior": 0.0,
        "popular_fallback": False,
        "tuning_sample": 1.0,
        "tuning_min_cases": 10.0,
        "tuning_half_life_cases": 0.0,
    }
    values.update(overrides)
    return make_settings(**values)


def test_the_weight_whose_lists_the_next_orders_hold_takes_over(
    make_settings: Callable[..., Settings],
) -> None:
    engine, status, opened = run(_shop(tuned(make_settings), users=20))
    assert opened  # the first purchase's case was stored
    assert status["cases"] == 40.0  # both purchases opened one; the second's stays open
    assert status["hit_rates"] == {"0.0": 0.0, "1.0": 0.0, "2.0": 0.0, "4.0": 0.5, "8.0": 0.5}
    assert status["followed_weight"] == 4.0  # the tie of 4 and 8 goes to the first
    assert engine.current_params.followed_weight == 4.0


def test_thin_evidence_keeps_the_configured_weight(make_settings: Callable[..., Settings]) -> None:
    engine, status, _ = run(_shop(tuned(make_settings, tuning_min_cases=1000.0), users=20))
    assert status["hit_rates"]["4.0"] == 0.5
    assert status["followed_weight"] == 1.0
    # 4 hit 20 cases that 1 missed: 20 / sqrt(20) standard errors, held back by the 1000 cases
    assert status["lead"] == {"followed_weight": 4.0, "wins": 20.0, "losses": 0.0, "z": 4.47}
    assert engine.current_params.followed_weight == 1.0
