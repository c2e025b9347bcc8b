"""``xsell eval --bundles``' methods and counts (the protocol: xsell/evaluation/bundles.py):
the anchors' bundles, the exact-triples reference, and full and partial attach."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from xsell.config.settings import Settings
from xsell.models.bundles import BundleEvidence, bundle_pricing
from xsell.models.events import CatalogItem, PurchaseEvent

METHODS = ("xsell", "fbt", "lift", "categories", "triples")
ANCHOR_METHODS = ("fbt", "lift", "categories")
CONCURRENT_READS = 64  # anchors whose bundle reads are in flight at once
MAX_ANCHORS_PER_ORDER = 50  # as the protocol's test sessions


@dataclass
class Attach:
    """Bundles shown, and how many were bought whole or in part."""

    shown: int = 0
    full: int = 0
    partial: int = 0
    revenue: float = 0.0
    spanning: int = 0  # bundles whose partners are of 2 categories (both known)

    def add(self, partners: Sequence[str], order: set[str], price: float | None) -> None:
        self.shown += 1
        held = sum(p in order for p in partners)
        if held == len(partners):
            self.full += 1
            self.revenue += price or 0.0
        elif held:
            self.partial += 1

    def result(self) -> dict[str, float]:
        n = max(self.shown, 1)
        return {
            "shown": self.shown,
            "full_attach": round(self.full / n, 5),
            "partial_attach": round(self.partial / n, 5),
            "revenue_per_bundle": round(self.revenue / n, 4),
        }


def _top(scores: Mapping[str, float], n: int) -> list[str]:
    return [b for b, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def anchor_bundles(
    ev: BundleEvidence,
    candidates: Sequence[str],
    categories: Mapping[str, str | None],
    min_support: float,
) -> dict[str, list[str]]:
    """Each anchor method's 2 partners from the same eligible ``candidates`` (module doc)."""
    strong = [b for b in candidates if ev.together.get(b, 0.0) >= min_support]
    if ev.n_anchor <= 0 or ev.total <= 0:
        return {m: [] for m in ANCHOR_METHODS}
    conf = {b: ev.together[b] / ev.n_anchor for b in strong}
    lift = {b: conf[b] * ev.total / ev.counts[b] for b in strong if ev.counts.get(b, 0.0) > 0}
    by_conf = _top(conf, len(conf))
    spread: list[str] = []
    if by_conf:
        first = by_conf[0]
        other = [
            b
            for b in by_conf[1:]
            if categories.get(b) is not None
            and categories.get(first) is not None
            and categories[b] != categories[first]
        ]
        spread = [first, other[0]] if other else by_conf[:2]
    return {"fbt": by_conf[:2], "lift": _top(lift, 2), "categories": spread}


@dataclass
class Chosen:
    """Every method's partners for one anchor, and the bundle prices."""

    xsell: list[str]
    anchors: dict[str, list[str]]
    prices: dict[str, float | None]
    spanning: bool
    candidates: list[str] = field(default_factory=list)  # eligible, with the minimum support
    entries: dict[str, CatalogItem | None] = field(default_factory=dict)


def price_of(
    entries: Mapping[str, CatalogItem | None], items: Sequence[str], settings: Settings
) -> float | None:
    """The bundle price of ``items`` at the settings' discount and margin floor."""
    got = [entries.get(i) for i in items]
    return bundle_pricing(
        [e.price if e else None for e in got],
        [e.cost if e else None for e in got],
        settings.offers.bundle_discount_percent,
        settings.offers.bundle_min_margin_percent,
    ).bundle_price


def add_triples(
    chosen: Mapping[str, Chosen], train: Sequence[PurchaseEvent], settings: Settings
) -> None:
    """The ``triples`` reference: for every anchor with a bundle of 3, the pair of its
    candidates that the most training orders hold with it (exact triple counts, which
    bounded pair statistics can only estimate, without any prior)."""
    wanted = {a for a, c in chosen.items() if len(c.xsell) == 2}
    holding: dict[str, list[set[str]]] = {a: [] for a in wanted}
    for order in train:
        items = set(order.distinct_items())
        for a in items & wanted:
            holding[a].append(items)
    for a in wanted:
        c = chosen[a]
        pairs = list(combinations(sorted(c.candidates), 2))
        counts = {p: sum(p[0] in s and p[1] in s for s in holding[a]) for p in pairs}
        best = min(pairs, key=lambda p: (-counts[p], p))
        c.anchors["triples"] = list(best)
        c.prices["triples"] = price_of(c.entries, [a, *best], settings)


def score(test: Sequence[PurchaseEvent], chosen: Mapping[str, Chosen]) -> dict[str, Attach]:
    """Every method's attach over the bundles shown (module doc); ``pairs``: xsell's 2-item
    bundles, apart."""
    counts = {name: Attach() for name in (*METHODS, "pairs")}
    for order in test:
        items = order.distinct_items()
        held = set(items)
        for anchor in items[:MAX_ANCHORS_PER_ORDER]:
            c = chosen.get(anchor)
            if c is None or not c.xsell:
                continue
            if len(c.xsell) == 1:
                counts["pairs"].add(c.xsell, held, c.prices["xsell"])
                continue
            counts["xsell"].add(c.xsell, held, c.prices["xsell"])
            counts["xsell"].spanning += c.spanning
            for name, partners in c.anchors.items():
                counts[name].add(partners, held, c.prices[name])
    return counts
