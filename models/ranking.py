"""Ranking: from neighbour statistics of the cart's items to at most k labelled offers.

Score of a candidate b for a context of anchors a_1 (most recent) .. a_m:

    score(b) = sum_j  r^(j-1) * sim(C(a_j, b), n(a_j), n(b), N)

where C = decayed co-purchase weight + decayed (weighted) co-add weight, n = decayed order count
of an item, N = decayed order total, ``sim`` one of :mod:`models.similarity`, and r the recency
factor: the item just added says most about what comes next. The explanation ("because") names
the anchor with the largest contribution, its co-purchase weight with b and the confidence
P(b | anchor). Rules (:mod:`models.rules`) filter and label; popular items pad a short list,
labelled ``popular`` (the same rules apply to them, an upsell of any cart item included).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.events import CatalogItem
from models.rules import RuleParams, is_available, is_upsell, owned, within_addon_price
from models.similarity import SIMILARITIES


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


@dataclass(frozen=True, slots=True)
class Offer:
    item_id: str
    score: float
    kind: str  # "cross_sell" | "upsell" | "popular"
    because: Because | None


@dataclass(frozen=True, slots=True)
class RankParams:
    k: int = 3
    similarity: str = "asym_cosine"
    min_support: float = 1.0
    recency_decay: float = 0.5
    popular_fallback: bool = True
    rules: RuleParams = field(default_factory=RuleParams)


@dataclass(frozen=True, slots=True)
class RankRequest:
    """One trigger to rank for: its context items and what may not be offered."""

    anchors: Sequence[str]  # most recent first
    exclude: frozenset[str]  # cart + trigger items
    now: float  # the trigger's event time: decayed values are taken at it
    user_id: str | None = None  # whose purchase history the rules check


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


def score_candidates(inp: RankInput, params: RankParams) -> dict[str, tuple[float, str, float]]:
    """Candidate -> (score, best anchor, best contribution), before rules."""
    sim = SIMILARITIES[params.similarity]
    scores: dict[str, tuple[float, str, float]] = {}
    weight = 1.0
    for anchor in inp.anchors:
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
            parts = weight * np.asarray(sim(co, inp.counts.get(anchor, 0.0), n_b, inp.total))
            keep = (co >= params.min_support) & (parts > 0)
            for cand, part in zip(
                np.asarray(cands, dtype=object)[keep].tolist(), parts[keep].tolist(), strict=True
            ):
                total, best, best_part = scores.get(cand, (0.0, anchor, 0.0))
                if part > best_part:
                    best, best_part = anchor, part
                scores[cand] = (total + part, best, best_part)
        weight *= params.recency_decay
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

    scored = inp.scored if inp.scored is not None else score_candidates(inp, params)
    for cand, (score, anchor, _) in sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0])):
        if len(offers) >= params.k:
            break
        if not allowed(cand):
            continue
        item, anchor_item = inp.catalog.get(cand), inp.catalog.get(anchor)
        if not within_addon_price(item, anchor_item, rules.addon_price_ratio):
            continue
        kind = "upsell" if is_upsell(item, anchor_item) else "cross_sell"
        if kind == "upsell" and rules.exclude_upsell:
            continue
        offers.append(Offer(cand, score, kind, _because(anchor, cand, inp)))
        chosen.add(cand)
    if params.popular_fallback:
        top = inp.popular[0][1] if inp.popular else 0.0
        anchors = [inp.catalog.get(a) for a in inp.anchors]
        for item_id, weight in inp.popular:
            if len(offers) >= params.k:
                break
            if not allowed(item_id):
                continue
            item = inp.catalog.get(item_id)
            upsell = any(is_upsell(item, a) for a in anchors)
            addon = any(within_addon_price(item, a, rules.addon_price_ratio) for a in anchors)
            if not (upsell and rules.exclude_upsell) and (addon or not anchors):
                offers.append(Offer(item_id, weight / top if top > 0 else 0.0, "popular", None))
                chosen.add(item_id)
    return offers
