"""Ranking: from neighbour statistics of the cart's items to at most k labelled offers.

Score of a candidate b for a context of anchors a_1 (most recent) .. a_m:

    score(b) = sum_j  r^(j-1) * [ e_j * sim(C(a_j, b), n(a_j), n(b), N) + (1 - e_j) * n(b) / N ]

    e_j = n(a_j) / (n(a_j) + m)        (e_j = 1 when m = 0: no prior)

where C = decayed co-purchase weight + decayed (weighted) co-add weight, n = decayed order count
of an item, N = decayed order total, ``sim`` one of :mod:`xsell.models.similarity`, r the recency
factor (the item just added says most about what comes next), and m the popularity prior, in
orders (:func:`evidence`). With confidence as ``sim`` the bracket is the shrunk estimate
(C + m n(b)/N) / (n(a) + m): an anchor bought by few falls back to what sells, an anchor bought
by many speaks for itself. The explanation ("because") names
the anchor with the largest contribution, its co-purchase weight with b and the confidence
P(b | anchor). Rules (:mod:`xsell.models.rules`) filter and label; popular items pad a short list,
labelled ``popular`` (the same rules apply to them, an upsell of any cart item included).
A cart a little short of free shipping gets one ``gap_filler`` (:mod:`xsell.models.gap`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from xsell.models.events import CatalogItem
from xsell.models.followed import FollowedBy
from xsell.models.gap import FreeShipping, cart_total, fills, shipping_gap
from xsell.models.rebuy import Rebuy, RebuyParams
from xsell.models.rules import RuleParams, is_available, is_upsell, owned, within_addon_price
from xsell.models.segments import Segment
from xsell.models.similarity import SIMILARITIES


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Top partners of one anchor, values already decayed to the ranking time."""

    together: Mapping[str, float]  # co-purchase weight
    co_added: Mapping[str, float] = field(default_factory=dict)  # co-add (cart) weight


@dataclass(frozen=True, slots=True)
class Because:
    item_id: str
    together: float
    confidence: float
    category: str | None = None  # set when the anchor's category, not the anchor, explains it
    rule_id: str | None = None  # the merchant rule that placed the offer (models/steering.py)
    free_shipping_gap: float | None = None  # set on a gap filler (models/gap.py)
    followed_by: FollowedBy | None = None  # a post-purchase follow-up (models/followed.py)
    co_viewed: float | None = None  # set when co-views, not purchases, brought it (coview.py)
    rebuy: Rebuy | None = None  # set on an owned item offered again (models/rebuy.py)


@dataclass(frozen=True, slots=True)
class Offer:
    item_id: str
    score: float
    kind: str  # "cross_sell" | "upsell" | "popular" | "gap_filler" | "rebuy"
    because: Because | None


@dataclass(frozen=True, slots=True)
class RankParams:
    k: int = 3
    similarity: str = "asym_cosine"
    min_support: float = 1.0
    recency_decay: float = 0.5
    popular_fallback: bool = True
    popularity_prior: float = 0.0  # m of evidence(): 0 = the similarity alone
    category_backoff: float = 0.0  # scale of models/categories.own_weight(): 0 = off
    rules: RuleParams = field(default_factory=RuleParams)
    free_shipping: FreeShipping | None = None  # the gap filler's rule (models/gap.py); None = off
    followed_weight: float = 0.0  # post-purchase: followed-by shares' weight (models/followed.py)
    followed_days: int = 0  # the followed-by window, for the explanation; 0 = off
    rebuy: RebuyParams = field(default_factory=RebuyParams)  # buy again (models/rebuy.py)


@dataclass(frozen=True, slots=True)
class RankRequest:
    """One trigger to rank for: its context items and what may not be offered."""

    anchors: Sequence[str]  # most recent first
    exclude: frozenset[str]  # cart + trigger items
    now: float  # the trigger's event time: decayed values are taken at it
    user_id: str | None = None  # whose purchase history the rules check
    placement: str | None = None  # where it is shown: merchant rules match it (docs/rules.md)
    segment: str | None = None  # the shopper's segment, when the request names one
    fills_gap: bool = False  # a cart: a free-shipping gap filler may be offered (models/gap.py)
    followed_only: bool = False  # "customers then bought": followed-by partners alone
    max_anchors: int | None = None  # anchors used, when not the settings' (a purchase's items)


@dataclass(frozen=True, slots=True)
class RankInput:
    """Everything the ranker needs about one trigger; built by the store, ranked purely."""

    anchors: Sequence[str]  # most recent first
    exclude: frozenset[str]  # cart + trigger items
    neighbours: Mapping[str, Neighbours]
    counts: Mapping[str, float]  # decayed order count per anchor and candidate
    total: float  # decayed order total N
    catalog: Mapping[str, CatalogItem]
    history: Mapping[str, float]  # the user's purchases: item -> last ts
    popular: Sequence[tuple[str, float]]  # (item, decayed count), most popular first
    now: float
    scored: Mapping[str, tuple[float, str, float]] | None = None  # score_candidates, if known
    fills_gap: bool = False  # the request's: its cart items' catalogue entries are read too
    segment: Segment | None = None  # the user's (models/segments.py); None: no user
    by_category: Mapping[str, Because] = field(default_factory=dict)
    """candidates that their best anchor's category, not the anchor's own co-purchases,
    brought in: "often bought with <category>" (models/categories.py)"""
    followed: Mapping[str, FollowedBy] = field(default_factory=dict)
    """post-purchase candidates that what buyers of an anchor bought next explains best"""
    co_viewed: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    """the product page's co-view partners: partner -> (the item, co-view count), most
    co-viewed first; they fill in after the co-purchase evidence (models/coview.py)"""
    rebuys: Mapping[str, Rebuy] = field(default_factory=dict)
    """the user's owned items that are repeatable and due, nearest their cycle first (rebuy.py)"""


NO_ANCHOR = ""  # the best anchor of a candidate that only the popularity prior scored


def evidence(n_anchor: float, prior: float) -> float:
    """How much an anchor's own statistics count against the popularity prior: n / (n + m).

    Why: a confidence measured on 2 orders is noise, one on 2,000 is knowledge; weighting by
    n / (n + m) is the Bayesian (Beta-prior) shrinkage of P(b | a) toward P(b) with the
    strength of m orders, so thin evidence falls back to what sells and strong evidence wins.
    With no prior (m = 0) every anchor counts fully."""
    if prior <= 0:
        return 1.0
    return n_anchor / (n_anchor + prior)


def score_candidates(inp: RankInput, params: RankParams) -> dict[str, tuple[float, str, float]]:
    """Candidate -> (score, best anchor, best contribution), before rules; the reference form
    (:mod:`xsell.models.scoring` computes the same numbers for a batch). Candidates are the anchors'
    partners and, with a prior, the popular items; one only the prior scored has the best
    anchor ``NO_ANCHOR``."""
    sim = SIMILARITIES[params.similarity]
    scores: dict[str, tuple[float, str, float]] = {}
    weight = 1.0
    prior = 0.0  # sum_j r^(j-1) (1 - e_j): the weight of n(b) / N in every score
    for anchor in inp.anchors:
        e = evidence(inp.counts.get(anchor, 0.0), params.popularity_prior)
        if params.popularity_prior > 0:
            prior += weight * (1.0 - e)
        nb = inp.neighbours.get(anchor)
        if nb is not None:
            cands = [c for c in dict.fromkeys([*nb.together, *nb.co_added]) if c not in inp.exclude]
            co = np.fromiter(
                (nb.together.get(c, 0.0) + nb.co_added.get(c, 0.0) for c in cands),
                dtype=np.float64,
                count=len(cands),
            )
            n_b = np.fromiter(
                (inp.counts.get(c, 0.0) for c in cands), dtype=np.float64, count=len(cands)
            )
            parts = (weight * e) * np.asarray(sim(co, inp.counts.get(anchor, 0.0), n_b, inp.total))
            keep = (co >= params.min_support) & (parts > 0)
            for cand, part in zip(
                np.asarray(cands, dtype=object)[keep].tolist(), parts[keep].tolist(), strict=True
            ):
                total, best, best_part = scores.get(cand, (0.0, anchor, 0.0))
                if part > best_part:
                    best, best_part = anchor, part
                scores[cand] = (total + part, best, best_part)
        weight *= params.recency_decay
    if prior > 0 and inp.total > 0:
        for item, _ in inp.popular:
            if item not in inp.exclude and item not in scores:
                scores[item] = (0.0, NO_ANCHOR, 0.0)
        for cand, (total, best, best_part) in scores.items():
            scores[cand] = (
                total + prior * (inp.counts.get(cand, 0.0) / inp.total),
                best,
                best_part,
            )
        scores = {c: v for c, v in scores.items() if v[0] > 0}
    return scores


def _because(anchor: str, cand: str, inp: RankInput) -> Because:
    nb = inp.neighbours.get(anchor)
    together = nb.together.get(cand, 0.0) if nb else 0.0
    n_a = inp.counts.get(anchor, 0.0)
    return Because(anchor, together, together / n_a if n_a > 0 else 0.0)


def rank(inp: RankInput, params: RankParams) -> list[Offer]:
    """At most ``params.k`` offers: best-scored cross-sells, then popular padding."""
    rules = params.rules
    offers: list[Offer] = []
    chosen: set[str] = set()

    def allowed(item_id: str) -> bool:
        return (
            item_id not in inp.exclude
            and item_id not in chosen
            and is_available(inp.catalog.get(item_id))
            and not owned(item_id, inp.history, inp.catalog, inp.now, rules)
        )

    anchors = [inp.catalog.get(a) for a in inp.anchors]

    def popular_ok(item_id: str) -> bool:
        """A popular item fits no anchor in particular: no upsell of any cart item (when
        upsells are left out), and an add-on price for at least one."""
        item = inp.catalog.get(item_id)
        upsell = any(is_upsell(item, a) for a in anchors)
        addon = any(within_addon_price(item, a, rules.addon_price_ratio) for a in anchors)
        return not (upsell and rules.exclude_upsell) and (addon or not anchors)

    scored = inp.scored if inp.scored is not None else score_candidates(inp, params)
    for cand, (score, anchor, _) in sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0])):
        if len(offers) >= params.k:
            break
        if not allowed(cand):
            continue
        if anchor == NO_ANCHOR:
            if popular_ok(cand):
                offers.append(Offer(cand, score, "popular", None))
                chosen.add(cand)
            continue
        item, anchor_item = inp.catalog.get(cand), inp.catalog.get(anchor)
        if not within_addon_price(item, anchor_item, rules.addon_price_ratio):
            continue
        kind = "upsell" if is_upsell(item, anchor_item) else "cross_sell"
        if kind == "upsell" and rules.exclude_upsell:
            continue
        because = inp.by_category.get(cand) or _because(anchor, cand, inp)
        if cand in inp.followed:
            because = replace(_because(anchor, cand, inp), followed_by=inp.followed[cand])
        offers.append(Offer(cand, score, kind, because))
        chosen.add(cand)
    if params.popular_fallback:
        top = inp.popular[0][1] if inp.popular else 0.0
        for item_id, weight in inp.popular:
            if len(offers) >= params.k:
                break
            if allowed(item_id) and popular_ok(item_id):
                offers.append(Offer(item_id, weight / top if top > 0 else 0.0, "popular", None))
                chosen.add(item_id)
    if inp.fills_gap and params.k > 0:
        return _with_gap_filler(offers, inp, params, scored, allowed)
    return offers


def _with_gap_filler(
    offers: list[Offer],
    inp: RankInput,
    params: RankParams,
    scored: Mapping[str, tuple[float, str, float]],
    allowed: Callable[[str], bool],
) -> list[Offer]:
    """The offers with the free-shipping gap filler (models/gap.py) when the cart needs one
    and a candidate fits: an offer already made is relabelled, else the weakest one gives way
    (or, in a short list, it is added)."""
    gap = shipping_gap(cart_total(inp.exclude, inp.catalog), params.free_shipping)
    if gap is None:
        return offers
    made = {o.item_id: n for n, o in enumerate(offers)}
    for cand, (score, anchor, _) in sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0])):
        item = inp.catalog.get(cand)
        if anchor == NO_ANCHOR or not fills(item, gap):
            continue
        if cand not in made:
            anchor_item = inp.catalog.get(anchor)
            rules = params.rules
            if (
                not allowed(cand)
                or (rules.exclude_upsell and is_upsell(item, anchor_item))
                or not within_addon_price(item, anchor_item, rules.addon_price_ratio)
            ):
                continue
        because = replace(
            inp.by_category.get(cand) or _because(anchor, cand, inp), free_shipping_gap=gap
        )
        filler = Offer(cand, score, "gap_filler", because)
        if cand in made:
            return [filler if n == made[cand] else o for n, o in enumerate(offers)]
        kept = offers if len(offers) < params.k else offers[: params.k - 1]
        return [*kept, filler]
    return offers
