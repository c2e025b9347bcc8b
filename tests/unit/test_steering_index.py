"""The steering's per-request indexes (models/steering.py) give what a scan of every matching
rule gives: the boosts (:class:`Boosts`) and the filters (only rules that can keep an item
out are checked per item)."""

from __future__ import annotations

import random
from typing import Any

from xsell.models.events import CatalogItem
from xsell.models.messages.merchant import StoredRule
from xsell.models.ranking import Because, Offer
from xsell.models.rulebook import by_priority
from xsell.models.steering import Boosts, blocker, boost_of, filters, steer

ITEMS = [f"i{n}" for n in range(30)]
TAGS = ["a", "b", "c"]


def scan_boost(
    item_id: str, item: CatalogItem | None, rules: list[StoredRule]
) -> tuple[float, str | None]:
    """The reference: every rule's every boost, in order."""
    tags = set(item.tags) if item is not None else set()
    factor, by = 1.0, None
    for rule in rules:
        for b in rule.then.boost:
            if b.item == item_id or (b.tag is not None and b.tag in tags):
                factor *= b.factor
                by = by or rule.rule_id
    return factor, by


def random_rules(rng: random.Random, n: int) -> list[StoredRule]:
    out = []
    for i in range(n):
        then: dict[str, Any] = {}
        kind = rng.randrange(5)
        if kind == 0:
            then["boost"] = [
                {"item": rng.choice(ITEMS), "factor": rng.choice([0.5, 1.5, 2.0, 3.0])}
                if rng.random() < 0.5
                else {"tag": rng.choice(TAGS), "factor": rng.choice([0.7, 1.1, 2.5])}
                for _ in range(rng.randrange(1, 4))
            ]
        elif kind == 1:
            then["hide"] = [rng.choice(ITEMS)]
        elif kind == 2:
            then["hide_categories"] = [rng.choice(["x", "y"])]
        elif kind == 3:
            then["max_price_ratio"] = rng.choice([0.5, 1.0])
        else:
            then["pin"] = [rng.choice(ITEMS)]
        out.append(
            StoredRule.model_validate(
                {"rule_id": f"r{i:03d}", "name": "t", "priority": rng.randrange(4), "then": then}
            )
        )
    return by_priority(out)


def catalog(rng: random.Random) -> dict[str, CatalogItem]:
    return {
        i: CatalogItem(
            i,
            category=rng.choice(["x", "y", "z", None]),
            price=rng.choice([5.0, 50.0, None]),
            tags=tuple(rng.sample(TAGS, rng.randrange(3))),
        )
        for i in ITEMS
    }


def test_the_boost_index_gives_what_a_scan_gives() -> None:
    rng = random.Random(5)
    for _ in range(50):
        rules, cat = random_rules(rng, 40), catalog(rng)
        boosts = Boosts.of(rules)
        for item_id in [*ITEMS, "unknown"]:
            item = cat.get(item_id)
            assert boost_of(item_id, item, boosts) == scan_boost(item_id, item, rules)


def test_only_filtering_rules_are_checked_and_the_first_blocker_is_the_same() -> None:
    rng = random.Random(6)
    for _ in range(50):
        rules, cat = random_rules(rng, 40), catalog(rng)
        kept = [r for r in rules if filters(r)]
        assert all(not filters(r) for r in rules if r.then.boost or r.then.pin)
        for item_id in ITEMS:
            assert blocker(item_id, cat[item_id], kept, 40.0) == blocker(
                item_id, cat[item_id], rules, 40.0
            )


def test_steer_with_boosts_and_filters_of_many_rules() -> None:
    rng = random.Random(7)
    cat = catalog(rng)
    pool = [
        Offer(i, 1.0 - n / 40, "cross_sell", Because("P", 2.0, 0.2)) for n, i in enumerate(ITEMS)
    ]
    rules = random_rules(rng, 60)
    got = steer(pool, rules, 10, cat, [], lambda _: True)
    assert len(got) == 10 and len({o.item_id for o in got}) == 10
    hidden = {i for r in rules for i in r.then.hide}
    pins = {i for r in rules for i in r.then.pin}
    assert all(o.item_id not in hidden or o.item_id in pins for o in got)
