"""The rule book (models/rulebook.py): the index finds what a scan would, and 1,000 rules
cost a request under a millisecond."""

from __future__ import annotations

import time

from xsell.models.messages.merchant import StoredRule
from xsell.models.rulebook import RuleBook, RuleContext, rule_matches

NOW = 1_796_000_000.0  # 2026-11-30


def rule(n: int, when: dict[str, object], pin: list[str] | None = None) -> StoredRule:
    return StoredRule.model_validate(
        {
            "rule_id": f"r{n:04d}",
            "name": "x",
            "priority": n % 7,
            "when": when,
            "then": {"pin": pin or []},
        }
    )


RULES = [
    *(rule(n, {"items": [f"P{n}"], "placements": ["cart"]}, ["A"]) for n in range(600)),
    *(rule(600 + n, {"categories": [f"c{n % 50}"]}, ["B"] if n % 2 else None) for n in range(300)),
    *(rule(900 + n, {"segments": ["loyal"]} if n % 2 else {}) for n in range(100)),
]


def ctx(items: set[str], cats: set[str], segment: str | None = None) -> RuleContext:
    return RuleContext("cart", frozenset(items), frozenset(cats), segment, NOW)


def test_the_index_finds_what_a_scan_finds() -> None:
    book = RuleBook(RULES)
    for c in (
        ctx({"P5", "P7", "Q"}, {"c3"}),
        ctx({"Z"}, set(), "loyal"),
        ctx({"P599"}, {"c49", "c0"}, "new"),
        RuleContext("product_page", frozenset({"P5"}), frozenset({"c3"}), None, NOW),
    ):
        scan = sorted(
            (r for r in RULES if rule_matches(r, c)), key=lambda r: (-r.priority, r.rule_id)
        )
        assert book.matching(c) == scan
    pins = book.pins_to_read(ctx({"P5"}, set()))
    assert pins == {"A", "B"}  # categories not known yet: every category rule's pins
    assert book.pins_to_read(ctx({"Z"}, set())) == {"B"}


def test_a_thousand_rules_cost_a_request_under_a_millisecond() -> None:
    book = RuleBook(RULES)
    c = ctx({"P5", "P7", "Q"}, {"c3"}, "loyal")
    started = time.perf_counter()
    for _ in range(1000):
        book.matching(c)
    per_request = (time.perf_counter() - started) / 1000
    assert per_request < 0.001, per_request  # the 1 ms; measured ~0.2 ms on 2 busy cores
