"""Bundles ("buy all three"): which partners of an anchor to sell with it, and at what price.

Items. A bundle is the anchor and 1-2 partners from its strongest co-purchase partners. The
partners are chosen for the probability that an order holding the anchor holds *every*
partner, P(b1, b2 | a), not for their pairwise confidences one by one: two partners that
each sell well with the anchor but are substitutes of each other (two chargers) are rarely
bought together; the pair weight of b1-b2 says so.

Estimator. The store keeps pairs only (bounded top-partner zsets, updated incrementally), not
triples. From them the joint is estimated with Kirkwood's superposition approximation (the
largest-entropy joint of three events that matches all three pairwise statistics, assuming no
three-way interaction):

    P(a, b1, b2) ~= P(a, b1) P(a, b2) P(b1, b2) / (P(a) P(b1) P(b2))
    =>  P(b1, b2 | a) ~= c1 * c2 * lift(b1, b2),   lift = C(b1, b2) N / (n(b1) n(b2))

with c_i = C(a, b_i) / n(a) the confidences, C the decayed co-purchase weights, n the decayed
order counts and N the decayed order total. A lift measured on few orders is noise (two
partners seen together twice, each bought 3 times, have a huge lift), so it is shrunk toward 1,
independence, by m = XSELL_BUNDLE_LIFT_PRIOR pseudo-orders: lift = (C(b1, b2) + m) / (E + m)
with E = n(b1) n(b2) / N the count independence expects; strong evidence keeps its lift, thin
evidence ranks like c1 * c2 (the top confidences). The estimate is then clipped to what the counts
prove: at most min(c1, c2, C(b1, b2) / n(a)) (orders holding all three hold every pair) and at
least the Frechet bound max(0, c1 + c2 - 1). Why this and not something richer: it needs only
C(b1, b2), which the store already has for every pair of the anchor's top partners (one
ZMSCORE per partner), it is exact when b1 and b2 are independent given the anchor's buyers
and it ranks substitutes (lift < 1) below complements (lift > 1).

Evidence. Every pair a-b_i, and for three items b1-b2, needs a decayed weight of at least
``min_support`` (XSELL_BUNDLE_MIN_SUPPORT); a bundle of three is preferred whenever one has the
evidence (a bundle has 2 items only when no pair of partners does). Among the candidates,
pairs of partners of different categories come first (when categories are known), then the
larger P(b1, b2 | a), then the ids.

Price. See :func:`bundle_pricing`: the discount shrinks to keep the margin floor.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from xsell.models.decay import decayed_value
from xsell.models.events import CatalogItem
from xsell.models.rules import RuleParams, is_available, owned

BundleFilter = Callable[[str, Sequence[str], Mapping[str, CatalogItem]], list[str]]
"""The hook of merchant rules: (anchor, candidate partners, catalogue entries) -> the partners
that may appear in the anchor's bundle, in the given order. Called after the eligibility
checks of :func:`eligible_partners`, before the choice."""


def keep_all(
    anchor: str, candidates: Sequence[str], catalog: Mapping[str, CatalogItem]
) -> list[str]:
    """The default :data:`BundleFilter`: no merchant rule hides anything."""
    return list(candidates)


@dataclass(frozen=True, slots=True)
class BundleData:
    """What the store read for one anchor's bundle, raw (not yet decayed)."""

    anchor: str
    anchor_count: float  # raw order count of the anchor (global landmark)
    anchor_landmark: float  # landmark of the anchor's pair zset
    partners: Sequence[tuple[str, float]]  # strongest co-purchase partners, raw weights
    partner_counts: Mapping[str, float]  # raw order counts (global landmark)
    partner_landmarks: Mapping[str, float]  # landmark of each partner's pair zset
    pair_raw: Mapping[tuple[str, str], float]  # (owner, other) -> raw weight in owner's zset
    total: float  # raw order total
    landmark: float  # global landmark of counts and total
    now: float  # latest event time: every value is decayed to it
    catalog: Mapping[str, CatalogItem] = field(default_factory=dict)
    history: Mapping[str, float] = field(default_factory=dict)  # the user's purchases


@dataclass(frozen=True, slots=True)
class BundleEvidence:
    """Decayed statistics of an anchor and its partners."""

    anchor: str
    n_anchor: float
    together: Mapping[str, float]  # C(anchor, b)
    counts: Mapping[str, float]  # n(b)
    pairs: Mapping[frozenset[str], float]  # C(b1, b2)
    total: float


def evidence_of(data: BundleData, half_life: float) -> BundleEvidence:
    """Decay every stored value to ``data.now``. A pair of partners is kept in both partners'
    zsets; when pruning dropped it from one, the other's value counts (the larger of the two)."""
    g = decayed_value(1.0, data.landmark, data.now, half_life)
    f_a = decayed_value(1.0, data.anchor_landmark, data.now, half_life)
    pairs: dict[frozenset[str], float] = {}
    for (owner, other), raw in data.pair_raw.items():
        f = decayed_value(1.0, data.partner_landmarks.get(owner, data.now), data.now, half_life)
        key = frozenset((owner, other))
        pairs[key] = max(pairs.get(key, 0.0), raw * f)
    return BundleEvidence(
        anchor=data.anchor,
        n_anchor=data.anchor_count * g,
        together={b: w * f_a for b, w in data.partners},
        counts={b: c * g for b, c in data.partner_counts.items()},
        pairs=pairs,
        total=data.total * g,
    )


def joint_confidence(
    c1: float,
    c2: float,
    together12: float,
    n1: float,
    n2: float,
    n_anchor: float,
    total: float,
    prior: float = 0.0,
) -> float:
    """P(b1, b2 | a) from the pairwise statistics (module doc): c1 c2 lift(b1, b2), clipped to
    [max(0, c1 + c2 - 1), min(c1, c2, C(b1, b2) / n(a))]; 0 without evidence of b1-b2. The
    lift is shrunk toward 1 by ``prior`` pseudo-orders: (C12 + m) / (E12 + m) with
    E12 = n1 n2 / N the count independence expects."""
    if together12 <= 0 or min(n1, n2, n_anchor, total) <= 0:
        return 0.0
    expected = n1 * n2 / total
    lift = (together12 + prior) / (expected + prior)
    upper = min(c1, c2, together12 / n_anchor)
    lower = max(0.0, c1 + c2 - 1.0)
    return min(max(c1 * c2 * lift, lower), upper)


def eligible_partners(
    data: BundleData,
    rules: RuleParams,
    hide: BundleFilter = keep_all,
) -> list[str]:
    """The anchor's partners that may join its bundle, strongest first: available (active, in
    stock), not owned by the user (the ranking's rules), of another category than the anchor
    when both are known, then what the merchant's rules (``hide``) keep."""
    anchor_item = data.catalog.get(data.anchor)
    anchor_cat = anchor_item.category if anchor_item is not None else None
    kept = []
    for b, _ in data.partners:
        item = data.catalog.get(b)
        if b == data.anchor or not is_available(item):
            continue
        if owned(b, data.history, data.catalog, data.now, rules):
            continue
        if anchor_cat is not None and item is not None and item.category == anchor_cat:
            continue
        kept.append(b)
    return hide(data.anchor, kept, data.catalog)


@dataclass(frozen=True, slots=True)
class Bundle:
    """The chosen partners, best first, and the evidence that chose them."""

    anchor: str
    partners: tuple[str, ...]
    expected_attach: float  # P(every partner | anchor)
    together: tuple[float, ...]  # C(anchor, b) per partner
    confidence: tuple[float, ...]  # C(anchor, b) / n(anchor) per partner
    partners_together: float | None = None  # C(b1, b2) of a bundle of three

    @property
    def items(self) -> tuple[str, ...]:
        return (self.anchor, *self.partners)


def _distinct(b1: str, b2: str, categories: Mapping[str, str | None]) -> bool:
    """Different categories, or not known to be the same."""
    c1, c2 = categories.get(b1), categories.get(b2)
    return c1 is None or c2 is None or c1 != c2


def choose_bundle(
    ev: BundleEvidence,
    candidates: Sequence[str],
    categories: Mapping[str, str | None],
    size: int,
    min_support: float,
    lift_prior: float = 0.0,
) -> Bundle | None:
    """The bundle of ``size`` items (anchor included; 2 or 3) with the most evidence that it is
    bought whole (module doc), else one item fewer, else None. ``candidates``: the eligible
    partners (:func:`eligible_partners`)."""
    n_a = ev.n_anchor
    if n_a <= 0:
        return None
    strong = [b for b in candidates if ev.together.get(b, 0.0) >= min_support]

    def conf(b: str) -> float:
        return ev.together[b] / n_a

    if size >= 3:
        best: tuple[tuple[bool, float], str, str] | None = None
        for b1, b2 in combinations(sorted(strong), 2):
            c12 = ev.pairs.get(frozenset((b1, b2)), 0.0)
            if c12 < min_support:
                continue
            p = joint_confidence(
                conf(b1),
                conf(b2),
                c12,
                ev.counts.get(b1, 0.0),
                ev.counts.get(b2, 0.0),
                n_a,
                ev.total,
                lift_prior,
            )
            key = (_distinct(b1, b2, categories), p)
            if p > 0 and (best is None or key > best[0]):  # ties: the first (lower ids)
                best = (key, b1, b2)
        if best is not None:
            _, b1, b2 = best
            first, second = sorted((b1, b2), key=lambda b: (-conf(b), b))
            return Bundle(
                ev.anchor,
                (first, second),
                best[0][1],
                (ev.together[first], ev.together[second]),
                (conf(first), conf(second)),
                ev.pairs[frozenset((b1, b2))],
            )
    if not strong:
        return None
    b = min(strong, key=lambda x: (-conf(x), x))
    return Bundle(ev.anchor, (b,), min(conf(b), 1.0), (ev.together[b],), (conf(b),))


def bundle_id(items: Sequence[str]) -> str:
    """Stable for the same items in any order: a hash of the sorted ids."""
    text = "\x1f".join(sorted(items))
    return "bnd-" + hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Pricing:
    list_price: float | None  # sum of the items' prices; None when one has none
    discount_percent: float
    bundle_price: float | None


def max_discount_percent(list_price: float, total_cost: float, min_margin_percent: float) -> float:
    """The largest discount (percent, >= 0) that keeps (price - cost) / price >= the margin:
    price >= cost / (1 - margin), so discount <= 1 - cost / ((1 - margin) list price)."""
    if list_price <= 0:
        return 0.0
    floor_price = total_cost / (1.0 - min_margin_percent / 100.0)
    return max(0.0, 100.0 * (1.0 - floor_price / list_price))


def bundle_pricing(
    prices: Sequence[float | None],
    costs: Sequence[float | None],
    discount_percent: float,
    min_margin_percent: float,
) -> Pricing:
    """List price, discount and bundle price of a bundle's items. Where every item has a cost,
    the discount shrinks (to 0 if need be) so the bundle's gross margin stays at least
    ``min_margin_percent``; the discount is rounded down to 0.01 % and the bundle price up to
    the cent, so rounding never breaks the floor. Without every price there is no list or
    bundle price (the discount is still stated)."""
    if any(p is None for p in prices):
        return Pricing(None, round(discount_percent, 2), None)
    list_price = sum(p for p in prices if p is not None)
    d = discount_percent
    if costs and all(c is not None for c in costs):
        total_cost = sum(c for c in costs if c is not None)
        d = min(d, max_discount_percent(list_price, total_cost, min_margin_percent))
    d = math.floor(d * 100 + 1e-9) / 100
    price = math.ceil(list_price * (1.0 - d / 100.0) * 100 - 1e-6) / 100
    return Pricing(round(list_price, 2), d, min(price, round(list_price, 2)))
