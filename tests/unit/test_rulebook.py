"""The rule book (models/rulebook.py): the index finds what a scan would, and with 1,000 rules
a request consults only the rules its items, categories and the general ones index (their time
is measured by ``xsell bench --rules``, docs/benchmarks.md, not here)."""

from __future__ import annotations

import pytest

from xsell.models.messages.merchant import StoredRule
from xsell.models.rulebook import Compiled, RuleBook, RuleContext, rule_matches

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


def test_a_request_consults_only_its_indexed_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    book = RuleBook(RULES)
    consulted: list[str] = []
    plain = Compiled.matches

    def counting(self: Compiled, c: RuleContext, *, any_category: bool = False) -> bool:
        consulted.append(self.rule.rule_id)
        return plain(self, c, any_category=any_category)

    monkeypatch.setattr(Compiled, "matches", counting)
    book.matching(ctx({"P5", "P7", "Q"}, {"c3"}, "loyal"))
    # P5's and P7's rules, the 6 rules of category c3 (600 + n, n % 50 == 3), and the 100
    # rules without items or categories: 108 of the 1,000, each once
    general = {f"r{900 + n:04d}" for n in range(100)}
    c3 = {f"r{600 + n:04d}" for n in range(300) if n % 50 == 3}
    assert sorted(consulted) == sorted({"r0005", "r0007"} | c3 | general)
    consulted.clear()
    book.matching(ctx({"Z"}, set()))  # nothing indexed: the general rules alone
    assert set(consulted) == general and len(consulted) == 100
