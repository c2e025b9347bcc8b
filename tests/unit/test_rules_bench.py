"""``xsell bench --rules``' pure parts: its 1,000 rules, its requests, its figures."""

from __future__ import annotations

from xsell.bench.rules_bench import (
    RULES,
    quantiles,
    requests_of,
    rules_table,
    tagged,
    thousand_rules,
)
from xsell.devenv.synthetic_shop import Shop, make_catalog
from xsell.models.rulebook import RuleBook, RuleContext


def test_a_thousand_valid_rules_of_every_kind_over_the_catalogue() -> None:
    catalog = tagged(make_catalog(seed=7))
    rules = thousand_rules(catalog)
    assert len(rules) == RULES == 1000
    assert len({r.rule_id for r in rules}) == 1000
    assert any(r.then.pin for r in rules) and any(r.then.hide for r in rules)
    assert any(r.then.promote for r in rules) and any(r.then.only_categories for r in rules)
    assert any(r.then.max_price_ratio for r in rules) and any(r.when.segments for r in rules)
    tags = {t for c in catalog for t in c.tags}
    assert tags == {"promoted", "overstock"}
    # a cart of one item matches rules of its item, its category and the general ones
    first = catalog[0]
    assert first.category is not None
    ctx = RuleContext(
        "cart", frozenset({first.item_id}), frozenset({first.category}), None, 1_796_000_000.0
    )
    hits = RuleBook(rules).matching(ctx)
    assert any(r.when.items for r in hits) and any(r.when.categories for r in hits)
    assert 10 < len(hits) < 100


def test_requests_are_carts_of_past_orders_newest_first() -> None:
    catalog = make_catalog(seed=7)
    history = Shop(catalog, seed=7).orders(30, seed=1)
    reqs = requests_of(history, 6, 5.0)
    assert len(reqs) == 6
    assert [len(r.anchors) for r in reqs] == [
        min(1 + n % 3, len(o.distinct_items())) for n, o in enumerate(history[-6:])
    ]
    for r, order in zip(reqs, history[-6:], strict=True):
        assert list(r.anchors) == order.distinct_items()[: len(r.anchors)][::-1]
        assert r.exclude == frozenset(r.anchors) and r.placement == "cart" and r.now == 5.0


def test_quantiles_and_the_table() -> None:
    q = quantiles([0.001] * 98 + [0.002, 0.010])
    assert q["p50"] == 1.0 and q["max"] == 10.0 and 1.0 <= q["p99"] <= 10.0
    rep = {
        "requests": 100,
        "rules_loaded": 1000,
        "rules_matching_per_request": 36.0,
        "load_average_1m": 1.5,
        "rules_ms_without_rules": q,
        "rules_ms_with_rules": q,
        "rules_added_ms": q,
        "rules_added_wall_ms": q,
        "suggestion_ms_without_rules": q,
        "suggestion_ms_with_rules": q,
        "target_added_p99_ms": 1.0,
        "target_met": False,
    }
    text = rules_table(rep)
    assert "1000 rules loaded" in text and text.endswith("not met")
    assert len(text.splitlines()) == 9
