"""The free-shipping gap filler (models/gap.py, models/ranking.rank)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.test_ranking import COUNT, make_input
from xsell.models.events import CatalogItem
from xsell.models.gap import FreeShipping, cart_total, fills, shipping_gap
from xsell.models.ranking import Neighbours, Offer, rank

RULE = FreeShipping(threshold=50.0, max_gap=20.0)
CATALOG = [
    CatalogItem("a", category="cam", price=40.0),  # the cart: 40, 10 short of 50
    CatalogItem("b", category="bag", price=30.0),
    CatalogItem("c", category="card", price=12.0),  # in [10, 15]: fills the gap
    CatalogItem("d", category="strap", price=14.0),
    CatalogItem("e", category="lens", price=9.0),
]
NB = {"a": Neighbours({"b": 9.0, "c": 5.0, "d": 4.0, "e": 3.0})}


def test_gap_and_fit() -> None:
    assert cart_total(frozenset({"a", "x"}), {c.item_id: c for c in CATALOG}) == 40.0
    assert shipping_gap(40.0, RULE) == 10.0
    assert shipping_gap(50.0, RULE) is None  # free already
    assert shipping_gap(25.0, RULE) is None  # too far: 25 > max gap 20
    assert shipping_gap(40.0, None) is None
    assert fills(CatalogItem("x", price=15.0), 10.0) and fills(CatalogItem("x", price=10.0), 10.0)
    assert not fills(CatalogItem("x", price=15.01), 10.0)
    assert not fills(CatalogItem("x", price=9.99), 10.0) and not fills(CatalogItem("x"), 10.0)


def _rank(k: int = 2, fills_gap: bool = True, rule: FreeShipping | None = RULE) -> list[Offer]:
    inp = replace(make_input(neighbours=NB, catalog=CATALOG), fills_gap=fills_gap)
    return rank(inp, replace(COUNT, k=k, free_shipping=rule))


def test_the_weakest_offer_gives_way_to_the_best_scored_filler() -> None:
    offers = _rank(k=2)
    assert [(o.item_id, o.kind) for o in offers] == [("b", "cross_sell"), ("c", "gap_filler")]
    because = offers[1].because
    assert because is not None and because.free_shipping_gap == pytest.approx(10.0)
    assert because.item_id == "a" and because.together == 5.0


def test_a_filler_already_offered_is_relabelled() -> None:
    offers = _rank(k=3)
    assert [(o.item_id, o.kind) for o in offers] == [
        ("b", "cross_sell"),
        ("c", "gap_filler"),
        ("d", "cross_sell"),
    ]


def test_no_filler_off_the_cart_or_without_the_rule() -> None:
    plain = [("b", "cross_sell"), ("c", "cross_sell")]
    assert [(o.item_id, o.kind) for o in _rank(fills_gap=False)] == plain
    assert [(o.item_id, o.kind) for o in _rank(rule=None)] == plain
    far = FreeShipping(threshold=100.0, max_gap=20.0)  # 60 short: no nudge
    assert [(o.item_id, o.kind) for o in _rank(rule=far)] == plain


def test_a_filler_obeys_the_rules_of_the_other_offers() -> None:
    pricey = FreeShipping(threshold=50.0, max_gap=20.0)
    inp = replace(make_input(neighbours=NB, catalog=CATALOG, history={"c": 1.0}), fills_gap=True)
    offers = rank(inp, replace(COUNT, k=2, free_shipping=pricey))  # c owned: d (14) fills
    assert [(o.item_id, o.kind) for o in offers] == [("b", "cross_sell"), ("d", "gap_filler")]
    addon = replace(COUNT.rules, addon_price_ratio=0.3)  # at most 12 beside a 40 anchor
    offers = rank(inp, replace(COUNT, k=2, free_shipping=pricey, rules=addon))
    assert "gap_filler" not in {o.kind for o in offers}
