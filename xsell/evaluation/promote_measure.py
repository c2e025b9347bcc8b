"""``xsell eval --promote-share``'s pure parts: which items are promoted, the promote rules of
the curve, which triggers had evidence, and the counts (docs/rules.md#measured).

A trigger **had evidence** when a promoted item, not in the cart, was bought in at least one
training order together with one of the request's anchors (the trigger and the cart items the
ranking uses, the newest ``XSELL_MAX_ANCHORS``): what the promote rule's semantics promise,
counted from the data, not from what the ranker happened to read. A trigger is **in reach**
when the ranker's own pool (the candidates it reads details of, ranked without rules) held a
promoted item with evidence: where the rule can act. The gap between the two is what the
ranker's detail cut (``5k + 10`` candidates, docs/rules.md) leaves out.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from xsell.evaluation.protocol import Metrics
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.models.messages.merchant import StoredRule

TAG = "promoted"
# min_score_ratio of the curve (0 = the default rule); finer where HR@k's cost crosses 2% on
# the shared file (docs/rules.md#measured)
THRESHOLDS = (0.0, 0.05, 0.1, 0.25, 0.3, 0.35, 0.4, 0.5)
TARGET_SHARE = 0.9  # a promoted item in the offers of 90% of the triggers with evidence ...
TARGET_HR_COST = 0.02  # ... for at most 2% of HR@k (relative)


def promoted_items(items: Iterable[str], share: float, seed: int) -> frozenset[str]:
    """A seeded random ``share`` of ``items`` (at least one): sorted first, so the same file
    and seed promote the same items in every run."""
    pool = sorted(set(items))
    n = min(len(pool), max(1, round(share * len(pool))))
    return frozenset(random.Random(seed).sample(pool, n))


def tagged_catalog(
    catalog: Iterable[CatalogItem], promoted: frozenset[str], tag: str = TAG
) -> list[CatalogItem]:
    """The catalogue with ``tag`` on the promoted items (an entry made for one it lacks);
    nothing else changes, so the ranking without the rule is the plain eval's."""
    out, known = [], set()
    for c in catalog:
        known.add(c.item_id)
        out.append(replace(c, tags=(*c.tags, tag)) if c.item_id in promoted else c)
    return out + [CatalogItem(i, tags=(tag,)) for i in sorted(promoted - known)]


def promote_rule(min_score_ratio: float, tag: str = TAG) -> StoredRule:
    """The one rule of a curve point: ``{"then": {"promote": {"tag", "slots": 1}}}``, with
    ``min_score_ratio`` when it is above 0 (0 is the rule as a merchant writes it by default)."""
    promote: dict[str, Any] = {"tag": tag, "slots": 1}
    if min_score_ratio > 0:
        promote["min_score_ratio"] = min_score_ratio
    return StoredRule.model_validate(
        {"rule_id": f"promote-{min_score_ratio:g}", "name": "eval", "then": {"promote": promote}}
    )


def evidence_index(
    train: Sequence[PurchaseEvent], promoted: frozenset[str], max_items: int
) -> dict[str, frozenset[str]]:
    """item -> the promoted items some training order held with it (each order's first
    ``max_items`` distinct items, as the store counts pairs)."""
    found: dict[str, set[str]] = {}
    for order in train:
        items = order.distinct_items()[:max_items]
        promo = [i for i in items if i in promoted]
        if not promo:
            continue
        for item in items:
            found.setdefault(item, set()).update(p for p in promo if p != item)
    return {item: frozenset(ps) for item, ps in found.items() if ps}


def had_evidence(
    anchors: Sequence[str], cart: frozenset[str], index: Mapping[str, frozenset[str]]
) -> bool:
    """A promoted item outside the cart shares a training order with one of ``anchors``."""
    return any(not index.get(a, frozenset()) <= cart for a in anchors)


@dataclass
class PromoteCounts:
    """HR@k without and with the rule at each threshold, and how often the offers held a
    promoted item, over the triggers of a replay."""

    k: int
    thresholds: tuple[float, ...]
    base: Metrics = field(init=False)
    ruled: list[Metrics] = field(init=False)
    holding: list[int] = field(init=False)  # per threshold, among triggers with evidence
    holding_in_reach: list[int] = field(init=False)
    triggers: int = 0
    with_evidence: int = 0
    in_reach: int = 0
    holding_base: int = 0  # without the rule, among triggers with evidence

    def __post_init__(self) -> None:
        self.base = Metrics(self.k)
        self.ruled = [Metrics(self.k) for _ in self.thresholds]
        self.holding = [0 for _ in self.thresholds]
        self.holding_in_reach = [0 for _ in self.thresholds]

    def add(
        self,
        base: Sequence[str],
        ruled: Sequence[Sequence[str]],
        rest: set[str],
        promoted: frozenset[str],
        evidence: bool,
        reach: bool,
    ) -> None:
        """One trigger: its offers without the rule and at each threshold, the items still
        to come, and whether it had evidence and was in reach."""
        self.triggers += 1
        self.base.add(base, rest)
        for n, offers in enumerate(ruled):
            self.ruled[n].add(offers, rest)
            holds = not promoted.isdisjoint(offers[: self.k])
            self.holding[n] += evidence and holds
            self.holding_in_reach[n] += reach and holds
        self.with_evidence += evidence
        self.in_reach += reach
        self.holding_base += evidence and not promoted.isdisjoint(base[: self.k])

    def result(self, catalogue_size: int) -> dict[str, Any]:
        """The figures: HR@k without the rule, and per threshold the share of triggers with
        evidence whose offers held a promoted item, and HR@k and its relative cost."""
        hr = self.base.result(catalogue_size)["hr"]
        ev, reach = max(self.with_evidence, 1), max(self.in_reach, 1)
        curve = []
        for n, t in enumerate(self.thresholds):
            hr_t = self.ruled[n].result(catalogue_size)["hr"]
            curve.append(
                {
                    "min_score_ratio": t,
                    "share": round(self.holding[n] / ev, 4),
                    "share_in_reach": round(self.holding_in_reach[n] / reach, 4),
                    "hr": hr_t,
                    "hr_cost": round(1 - hr_t / hr, 4) if hr else 0.0,
                }
            )
        return {
            "triggers": self.triggers,
            "with_evidence": self.with_evidence,
            "in_reach": self.in_reach,
            "share_without_rule": round(self.holding_base / ev, 4),
            "hr_without_rule": hr,
            "curve": curve,
        }


def target_met(curve_point: Mapping[str, Any]) -> bool:
    """The issue's target at one threshold: share >= 90%, HR@k cost <= 2%."""
    return bool(curve_point["share"] >= TARGET_SHARE and curve_point["hr_cost"] <= TARGET_HR_COST)
