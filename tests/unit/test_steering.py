"""Merchant rules applied purely (models/steering.py): each semantic on a small pool."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from xsell.models.events import CatalogItem
from xsell.models.messages.merchant import Rule, StoredRule
from xsell.models.ranking import Because, Offer
from xsell.models.rulebook import RuleBook, RuleContext, daypart, rule_matches
from xsell.models.steering import steer

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC).timestamp()  # a Monday morning (UTC)
CATALOG = {
    "P1": CatalogItem("P1", category="phones", price=500.0),
    "C1": CatalogItem("C1", category="cases", price=20.0),
    "C2": CatalogItem("C2", category="cases", price=30.0, tags=("overstock",)),
    "C3": CatalogItem("C3", category="chargers", price=40.0),
    "C4": CatalogItem("C4", category="cameras", price=400.0, tags=("promoted",)),
    "C5": CatalogItem("C5", category="cases", price=10.0, tags=("promoted",)),
    "OUT": CatalogItem("OUT", category="cases", price=5.0, stock=0.0),
    "X9": CatalogItem("X9", category="cables", price=9.0),
}


def offer(item: str, score: float, together: float = 2.0) -> Offer:
    return Offer(item, score, "cross_sell", Because("P1", together, together / 10))


POOL = [
    offer("C1", 0.9),
    offer("C2", 0.8),
    offer("C3", 0.7),
    offer("C4", 0.6),
    offer("C5", 0.5),
    Offer("X9", 0.4, "popular", None),
]


def rule(rule_id: str = "r1", priority: int = 0, **then: Any) -> StoredRule:
    when = then.pop("when", {})
    return StoredRule.model_validate(
        {"rule_id": rule_id, "name": rule_id, "priority": priority, "when": when, "then": then}
    )


def matching(rules: list[StoredRule], context: RuleContext) -> list[StoredRule]:
    return RuleBook(rules).matching(context)


def ctx(**kw: Any) -> RuleContext:
    base: dict[str, Any] = {
        "placement": "cart",
        "items": frozenset({"P1"}),
        "categories": frozenset({"phones"}),
        "segment": None,
        "now": NOW,
    }
    return RuleContext(**{**base, **kw})


def run(*rules: StoredRule, k: int = 3, cart: frozenset[str] = frozenset({"P1"})) -> list[str]:
    offers = steer(POOL, rules, k, CATALOG, ["P1"], lambda i: i not in cart and i != "OUT")
    return [o.item_id for o in offers]


def test_no_rule_is_the_ranker_cut() -> None:
    assert run() == ["C1", "C2", "C3"]


def test_hide_and_hide_categories_are_never_offered() -> None:
    assert run(rule(hide=["C1"])) == ["C2", "C3", "C4"]
    assert run(rule(hide_categories=["cases"])) == ["C3", "C4", "X9"]


def test_pins_come_first_in_order_when_eligible() -> None:
    offers = steer(
        POOL, [rule(pin=["X9", "C3"])], 3, CATALOG, ["P1"], lambda i: i not in {"P1", "OUT"}
    )
    assert [o.item_id for o in offers] == ["X9", "C3", "C1"]
    # placed by the rule: named in the reason; a pin without evidence is together 0
    assert offers[0].because == Because("P1", 0.0, 0.0, rule_id="r1")
    assert offers[1].because is not None and offers[1].because.rule_id == "r1"
    assert offers[0].score >= offers[1].score >= offers[2].score
    # not eligible: out of stock, in the cart (the trigger), or owned (the predicate)
    assert run(rule(pin=["OUT", "P1", "C5"])) == ["C5", "C1", "C2"]
    assert run(rule(pin=["C5"]), cart=frozenset({"P1", "C5"})) == ["C1", "C2", "C3"]


def test_higher_priority_pins_first() -> None:
    assert run(rule("low", 1, pin=["C3"]), rule("high", 5, pin=["C5"])) == ["C5", "C3", "C1"]


def test_pin_against_hide_goes_to_the_higher_priority() -> None:
    rules = matching([rule("pin", 10, pin=["C4"]), rule("hide", 1, hide=["C4"])], ctx())
    assert run(*rules) == ["C4", "C1", "C2"]
    rules = matching([rule("pin", 1, pin=["C4"]), rule("hide", 10, hide=["C4"])], ctx())
    assert run(*rules) == ["C1", "C2", "C3"]
    rules = matching([rule("pin", 3, pin=["C4"]), rule("hide", 3, hide=["C4"])], ctx())
    assert run(*rules) == ["C1", "C2", "C3"]  # a tie: kept out


def test_boost_multiplies_and_moves_past_lower_scores() -> None:
    offers = steer(
        POOL, [rule(boost=[{"tag": "promoted", "factor": 1.7}])], 3, CATALOG, ["P1"], bool
    )
    # C4: 0.6 x 1.7 = 1.02 > 0.9; C5: 0.5 x 1.7 = 0.85 < 0.9 but > 0.8
    assert [o.item_id for o in offers] == ["C4", "C1", "C5"]
    assert offers[0].score == pytest.approx(1.02)
    assert offers[0].because is not None and offers[0].because.rule_id == "r1"
    assert run(rule(boost=[{"item": "C1", "factor": 0.5}])) == ["C2", "C3", "C4"]


def test_promote_takes_the_last_slot_when_there_is_evidence() -> None:
    offers = steer(POOL, [rule(promote={"tag": "promoted", "slots": 1})], 3, CATALOG, ["P1"], bool)
    assert [o.item_id for o in offers] == ["C1", "C2", "C4"]
    assert offers[2].because is not None and offers[2].because.rule_id == "r1"
    assert run(rule(promote={"tag": "promoted", "slots": 2})) == ["C1", "C4", "C5"]


def test_promote_without_evidence_fills_as_usual() -> None:
    pool = [*POOL[:3], offer("C4", 0.6, together=0.0), offer("C5", 0.5, together=0.0)]
    out = steer(pool, [rule(promote={"tag": "promoted", "slots": 1})], 3, CATALOG, ["P1"], bool)
    assert [o.item_id for o in out] == ["C1", "C2", "C3"]


def test_promote_min_score_ratio_raises_the_bar() -> None:
    assert run(rule(promote={"tag": "promoted", "min_score_ratio": 0.6})) == ["C1", "C2", "C4"]
    assert run(rule(promote={"tag": "promoted", "min_score_ratio": 0.7})) == ["C1", "C2", "C3"]


def test_only_categories_and_max_price_ratio_filter() -> None:
    assert run(rule(only_categories=["cases"])) == ["C1", "C2", "C5"]
    # 500 x 0.05 = 25: C1 (20), C5 (10), X9 (9) pass
    assert run(rule(max_price_ratio=0.05)) == ["C1", "C5", "X9"]


def test_when_matches_every_present_field() -> None:
    assert rule_matches(rule(), ctx())
    assert rule_matches(rule(when={"placements": ["cart"], "items": ["P1", "Z"]}), ctx())
    assert not rule_matches(rule(when={"placements": ["product_page"]}), ctx())
    assert not rule_matches(rule(when={"items": ["Z"]}), ctx())
    assert rule_matches(rule(when={"categories": ["phones"]}), ctx())
    assert not rule_matches(rule(when={"categories": ["cameras"]}), ctx())


def test_segments_need_the_request_to_name_one() -> None:
    seg = rule(when={"segments": ["loyal"]})
    assert not rule_matches(seg, ctx())
    assert not rule_matches(seg, ctx(segment="new"))
    assert rule_matches(seg, ctx(segment="loyal"))


def test_time_window_and_dayparts() -> None:
    assert daypart(NOW) == "morning"
    window = {"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-12-31T23:59:59Z"}
    assert rule_matches(rule(when=window), ctx())
    assert not rule_matches(rule(when=window), ctx(now=NOW + 30 * 86400))
    assert not rule_matches(rule(when=window), ctx(now=NOW - 7 * 86400))
    assert rule_matches(rule(when={"dayparts": ["morning"]}), ctx())
    assert not rule_matches(rule(when={"dayparts": ["evening", "night"]}), ctx())


def test_matching_sorts_by_priority_then_id() -> None:
    rules = [rule("b", 1), rule("a", 1), rule("c", 9), rule("x", 0, when={"items": ["Z"]})]
    assert [r.rule_id for r in matching(rules, ctx())] == ["c", "a", "b"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "x", "then": {}, "colour": "red"}, "Extra inputs"),
        ({"name": "x", "then": {"pinn": ["A"]}}, "Extra inputs"),
        ({"name": "x", "then": {"pin": ["A", "B", "C", "D"]}}, "at most 3"),
        ({"name": "x", "then": {"boost": [{"tag": "t", "factor": 0}]}}, "greater than 0"),
        ({"name": "x", "then": {"boost": [{"tag": "t", "factor": 101}]}}, "less than or equal"),
        ({"name": "x", "then": {"boost": [{"factor": 2}]}}, "exactly one of tag or item"),
        (
            {
                "name": "x",
                "when": {"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"},
                "then": {},
            },
            "ends_at must be after starts_at",
        ),
        ({"name": "x", "when": {"starts_at": "2026-12-02T00:00:00"}, "then": {}}, "timezone"),
    ],
)
def test_a_bad_rule_is_refused_with_a_reason(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Rule.model_validate(body)


def test_a_window_beyond_float_seconds_is_open_ended_not_an_error() -> None:
    far = rule(when={"starts_at": "0001-01-01T00:00:00+01:00", "ends_at": "9999-12-31T23:59:59Z"})
    assert rule_matches(far, ctx())
