"""``xsell eval --promote-share``'s pure parts (xsell/evaluation/promote_measure.py)."""

from __future__ import annotations

import pytest

from xsell.evaluation.promote_measure import (
    TAG,
    PromoteCounts,
    evidence_index,
    had_evidence,
    promote_rule,
    promoted_items,
    tagged_catalog,
    target_met,
)
from xsell.models.events import CatalogItem, OrderLine, PurchaseEvent


def _order(n: int, items: list[str]) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", None, float(n), tuple(OrderLine(i) for i in items))


def test_the_promoted_items_are_a_seeded_share_of_the_items() -> None:
    items = [f"i{n}" for n in range(200)]
    a = promoted_items(items, 0.1, seed=3)
    assert len(a) == 20 and a <= set(items)
    assert promoted_items(reversed(items), 0.1, seed=3) == a  # the order given does not matter
    assert promoted_items(items, 0.1, seed=4) != a
    assert len(promoted_items(items[:3], 0.1, seed=0)) == 1  # at least one


def test_the_tag_is_added_and_nothing_else_changes() -> None:
    catalog = [CatalogItem("a", "x", 5.0, tags=("sale",)), CatalogItem("b", "y", 7.0)]
    out = {c.item_id: c for c in tagged_catalog(catalog, frozenset({"a", "z"}))}
    assert out["a"].tags == ("sale", TAG) and out["a"].price == 5.0
    assert out["b"] == catalog[1]
    assert out["z"] == CatalogItem("z", tags=(TAG,))  # promoted, not in the catalogue


def test_the_rules_of_the_curve() -> None:
    default = promote_rule(0.0)
    assert default.then.promote is not None
    assert (default.then.promote.tag, default.then.promote.slots) == (TAG, 1)
    assert default.then.promote.min_score_ratio is None  # the rule as written by default
    assert promote_rule(0.25).then.promote.min_score_ratio == 0.25  # type: ignore[union-attr]
    assert promote_rule(0.25).rule_id != default.rule_id


def test_evidence_is_a_training_order_with_an_anchor_outside_the_cart() -> None:
    train = [_order(0, ["a", "p", "b"]), _order(1, ["c", "q"]), _order(2, ["d", "e"])]
    index = evidence_index(train, frozenset({"p", "q"}), max_items=50)
    assert index == {"a": {"p"}, "b": {"p"}, "c": {"q"}}  # a promoted item alone: none
    assert had_evidence(["a"], frozenset({"a"}), index)
    assert not had_evidence(["a"], frozenset({"a", "p"}), index)  # p already in the cart
    assert not had_evidence(["d", "e"], frozenset({"d", "e"}), index)
    assert had_evidence(["d", "c"], frozenset({"d", "c"}), index)  # any anchor
    # the store's pair cut: only an order's first max_items distinct items
    assert evidence_index([_order(0, ["a", "b", "p"])], frozenset({"p"}), max_items=2) == {}


def test_counts_share_among_triggers_with_evidence_and_hr_cost() -> None:
    counts = PromoteCounts(3, (0.0, 0.5))
    promoted = frozenset({"p"})
    # evidence, promoted at 0 only, where it replaced the hit y
    counts.add(["h", "x", "y"], [["h", "x", "p"], ["h", "x", "y"]], {"y"}, promoted, True, True)
    # evidence outside the ranker's reach: no promoted item at any threshold
    counts.add(["x", "y", "z"], [["x", "y", "z"], ["x", "y", "z"]], {"h"}, promoted, True, False)
    # no evidence: not in the share's denominator; a miss everywhere
    counts.add(["x", "y", "z"], [["x", "y", "z"], ["x", "y", "z"]], set(), promoted, False, False)
    # evidence, and the promoted item is a hit that replaced a miss
    counts.add(["a", "b", "c"], [["a", "b", "p"], ["a", "b", "p"]], {"p"}, promoted, True, True)
    r = counts.result(10)
    assert (r["triggers"], r["with_evidence"], r["in_reach"]) == (4, 3, 2)
    assert r["share_without_rule"] == 0.0
    assert r["hr_without_rule"] == 0.25
    at0, at5 = r["curve"]
    assert at0["share"] == round(2 / 3, 4) and at0["share_in_reach"] == 1.0
    assert at5["share"] == round(1 / 3, 4) and at5["share_in_reach"] == 0.5
    assert at0["hr"] == 0.25 and at0["hr_cost"] == 0.0  # one hit lost, one won
    assert at5["hr"] == 0.5 and at5["hr_cost"] == -1.0  # a gain shows as a negative cost


@pytest.mark.parametrize(
    ("share", "cost", "met"), [(0.9, 0.02, True), (0.89, 0.0, False), (1.0, 0.021, False)]
)
def test_the_target(share: float, cost: float, met: bool) -> None:
    assert target_met({"share": share, "hr_cost": cost}) is met
