"""The time-of-day study's anchors (xsell/evaluation/daypart_study.py) on hand-made orders."""

from __future__ import annotations

import datetime
from collections import Counter

from xsell.evaluation.daypart_study import blended, daypart, study, top
from xsell.models.events import OrderLine, PurchaseEvent


def _ts(day: int, hour: int) -> float:
    return datetime.datetime(2024, 6, day, hour, tzinfo=datetime.UTC).timestamp()


def test_daypart_splits_the_day_and_the_week() -> None:
    assert daypart(_ts(3, 8)) == (0, False)  # a Monday morning
    assert daypart(_ts(3, 12)) == (1, False)
    assert daypart(_ts(3, 16)) == (2, False)
    assert daypart(_ts(3, 21)) == (3, False)
    assert daypart(_ts(1, 8)) == (0, True)  # a Saturday


def test_top_and_blend_leave_out_the_cart() -> None:
    overall = Counter({"a": 10, "b": 5, "c": 1})
    morning = Counter({"c": 900, "b": 100})
    assert top(overall, {"a"}) == ["b", "c"]
    assert blended(overall, morning, {"b"})[0] == "c"  # the morning's favourite leads
    assert "b" not in blended(overall, morning, {"b"})


def _order(n: int, items: list[str], hour: int) -> PurchaseEvent:
    lines = tuple(OrderLine(i) for i in items)
    return PurchaseEvent(f"e{n}", f"o{n}", "u", _ts(3 + n % 3, hour) + n, lines)


def test_study_finds_the_daypart_favourite() -> None:
    """Coffee sells in the morning, wine in the evening, and four items at noon outsell both:
    after the bread, the daypart anchor names the drink, plain popularity the noon items."""
    orders = []
    for n in range(200):
        kind = n % 4
        if kind == 0:
            orders.append(_order(n, ["bread", "coffee"], 8))
        elif kind == 1:
            orders.append(_order(n, ["bread", "wine"], 20))
        else:
            orders.append(_order(n, ["p1", "p2", "p3", "p4"], 12))
    hr = study(orders)
    assert hr["daypart"] == 1.0
    assert hr["popular"] < 0.9  # the bread carts miss
