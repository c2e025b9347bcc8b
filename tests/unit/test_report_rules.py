"""The report's per-rule rows (xsell/feedback/report.py), from day counters worked out by hand:
each rule's offers, and the offers no rule placed as the placements' totals less the rules'."""

from __future__ import annotations

from xsell.feedback.report import summarise, table
from xsell.store import SEP


def counters(**values: float) -> dict[str, str]:
    """``placement__variant__name=amount`` as the day hash's fields."""
    return {k.replace("__", SEP).replace("rule_", "rule:"): str(v) for k, v in values.items()}


DAY = counters(
    cart__a__suggestions=4,
    cart__a__offered=10,
    cart__a__accepted=3,
    cart__a__attributed_revenue=70.0,
    post_purchase__a__offered=5,
    post_purchase__a__accepted=1,
    rule_r1__a__offered=4,
    rule_r1__a__accepted=2,
    rule_r1__a__attributed_revenue=50.0,
    rule_r2__a__offered=1,
)


def test_each_rule_and_the_offers_no_rule_placed() -> None:
    rep = summarise({20000: (DAY, {})})
    assert [(r["placement"], r["variant"]) for r in rep["rows"]] == [
        ("cart", "a"),
        ("post_purchase", "a"),
    ]  # the rules' fields are not placements
    rules = {(r["rule_id"], r["variant"]): r for r in rep["rules"]}
    assert set(rules) == {("r1", "a"), ("r2", "a"), (None, "a")}
    assert rules[("r1", "a")] == {
        "rule_id": "r1",
        "variant": "a",
        "offered": 4.0,
        "accepted": 2.0,
        "attributed_revenue": 50.0,
        "cannibalized": 0.0,
        "acceptance_rate": 0.5,
    }
    assert rules[("r2", "a")]["acceptance_rate"] == 0.0
    rest = rules[(None, "a")]
    assert (rest["offered"], rest["accepted"], rest["attributed_revenue"]) == (10.0, 2.0, 20.0)
    assert rest["acceptance_rate"] == 0.2


def test_no_rule_rows_without_offers_and_the_table_names_them() -> None:
    assert summarise({20000: (counters(cart__a__suggestions=2), {})})["rules"] == []
    rep = summarise({20000: (DAY, {})})
    rep.update(days=["2024-10-04"], experiment="x")
    for row in rep["rules"]:
        row["name"] = "promote cases" if row["rule_id"] == "r1" else None
    lines = table(rep).splitlines()
    start = lines.index(
        "offers per merchant rule and variant (no rule: the offers xsell ranked alone):"
    )
    assert lines[start + 1].split()[:3] == ["rule", "name", "variant"]
    assert lines[start + 2].split()[:4] == ["r1", "promote", "cases", "a"]
    assert lines[start + 4].split()[:2] == ["(no", "rule)"]
