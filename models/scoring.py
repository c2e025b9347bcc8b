"""Candidate scoring for a whole micro-batch, vectorised over a shared candidate index.

:func:`xsell.models.ranking.score_candidates` states the score on dicts, one request at a time; it
is the reference. Here the same numbers are computed with arrays: a micro-batch's anchors share
one sorted candidate index (``BatchStats``), each anchor's top partners are parsed into arrays
once per batch (``AnchorStats``), and the whole batch is scored with a few numpy calls. Why:
the dict form spent most of the worker's CPU in per-candidate Python (thousands of lookups per
add-to-cart). The floating-point operations are the same, in the same order, so both give
identical scores (tests/unit/test_scoring.py).

Only the best ``top`` candidates are returned, in ranking order: those are the ones whose
catalogue entry and purchase history the reader fetches, so every offered item has passed the
stock and ownership rules with real data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from xsell.models.categories import own_weight, prior_weight
from xsell.models.decay import decayed_value
from xsell.models.ranking import NO_ANCHOR, RankParams, RankRequest, evidence
from xsell.models.similarity import SIMILARITIES

Scored = dict[str, tuple[float, str, float]]  # candidate -> (score, best anchor, best part)


@dataclass(frozen=True, slots=True)
class AnchorStats:
    """One anchor's top partners: positions in the batch index and raw stored weights."""

    index: np.ndarray  # int64 positions, partners in dict.fromkeys([*co-purchase, *co-add]) order
    together: np.ndarray  # raw co-purchase weight (0 where the partner has none)
    co_added: np.ndarray  # raw co-add weight (0 where none)
    landmark: float  # the anchor's forward-decay landmark
    together_raw: dict[str, float]  # partner -> raw co-purchase weight, for explanations


@dataclass(frozen=True, slots=True)
class BatchStats:
    """What a micro-batch's requests share: raw stored values, not yet decayed."""

    items: Sequence[str]  # sorted candidate index (anchors and all their partners)
    position: dict[str, int]
    counts: np.ndarray  # raw order count per indexed item
    total: float  # raw order total
    landmark: float  # landmark of the counts and the total
    half_life: float
    anchors: dict[str, AnchorStats]
    popular: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """positions of the most popular items (the prior's candidates), most popular first"""
    category_of: dict[str, str] = field(default_factory=dict)  # anchor -> its category
    categories: dict[str, CategoryStats] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CategoryStats:
    """One category's back-off (models/categories.py): the items bought with it as arrays
    (``co_added`` all 0) and its raw order count."""

    items: AnchorStats
    orders: float


def backoff_of(
    stats: BatchStats, anchor: str, n_anchor: float, now: float, params: RankParams
) -> tuple[CategoryStats, float, float, float] | None:
    """The category back-off of an anchor, or None (no category, no counts, or off): its
    category, the weight of the anchor's own statistics (models/categories.own_weight), the
    category's decayed order count and its decay factor at ``now``."""
    if params.category_backoff <= 0:
        return None
    cat = stats.category_of.get(anchor)
    cs = stats.categories.get(cat) if cat is not None else None
    if cs is None or cs.orders <= 0 or not len(cs.items.index):
        return None
    f = decayed_value(1.0, cs.items.landmark, now, stats.half_life)
    own = own_weight(n_anchor, params.category_backoff)
    if own >= 1.0:
        return None
    return cs, own, cs.orders * f, f


def anchor_stats(
    position: dict[str, int],
    together: tuple[list[str], list[float]],
    co_added: tuple[list[str], list[float]],
    landmark: float,
) -> AnchorStats:
    """Arrays of one anchor from its parsed (members, raw weights) of both signals."""
    t_members, t_weights = together
    c_members, c_weights = co_added
    union = list(dict.fromkeys([*t_members, *c_members]))
    local = {m: i for i, m in enumerate(union)}
    tog = np.zeros(len(union))
    tog[: len(t_members)] = t_weights  # co-purchase partners come first in the union
    coa = np.zeros(len(union))
    if c_members:
        coa[[local[m] for m in c_members]] = c_weights
    index = np.fromiter((position[m] for m in union), dtype=np.int64, count=len(union))
    return AnchorStats(index, tog, coa, landmark, dict(zip(t_members, t_weights, strict=True)))


def score_batch(
    stats: BatchStats, requests: Sequence[RankRequest], params: RankParams, top: int
) -> list[Scored]:
    """The ``top`` best candidates of each request (ties: lower id first), the same values as
    :func:`xsell.models.ranking.score_candidates` on the equivalent dicts. Every (request, anchor)
    segment's arrays are concatenated and scored with one similarity call, and the parts are
    summed per (request, candidate) cell with ``bincount``, which adds them in segment order,
    the reference's order. Why: numpy calls per request on ~100-element arrays cost ~0.7 ms
    per add-to-cart in call overhead; here they are paid once per batch."""
    if not requests:
        return []
    sim = SIMILARITIES[params.similarity]
    hl, size = stats.half_life, len(stats.items)
    seg_rows: list[int] = []
    seg_j: list[int] = []
    seg_f: list[float] = []
    seg_w: list[float] = []
    seg_na: list[float] = []
    seg_g: list[float] = []
    seg_total: list[float] = []
    arrays: list[AnchorStats] = []
    counts, position = stats.counts.tolist(), stats.position  # Python floats: no numpy scalars
    m = params.popularity_prior
    priors: list[float] = []  # per request: sum_j r^(j-1) (1 - e_j), as the reference sums it
    for r, req in enumerate(requests):
        g = decayed_value(1.0, stats.landmark, req.now, hl)
        weight, prior = 1.0, 0.0
        for j, anchor in enumerate(req.anchors):
            n_a = counts[position[anchor]] * g if anchor in position else 0.0
            e = evidence(n_a, m)
            back = backoff_of(stats, anchor, n_a, req.now, params)
            own, e_cat = (1.0, 0.0) if back is None else (back[1], evidence(back[2], m))
            if m > 0:
                prior += weight * (1.0 - e if back is None else prior_weight(own, e, e_cat))
            a = stats.anchors.get(anchor)
            if a is not None and len(a.index):
                arrays.append(a)
                seg_rows.append(r)
                seg_j.append(j)
                seg_f.append(decayed_value(1.0, a.landmark, req.now, hl))
                seg_w.append(weight * e if back is None else weight * own * e)
                seg_na.append(n_a)
                seg_g.append(g)
                seg_total.append(stats.total * g)
            if back is not None:  # the category's items, as a segment of the same anchor
                cs, _, n_cat, f_cat = back
                arrays.append(cs.items)
                seg_rows.append(r)
                seg_j.append(j)
                seg_f.append(f_cat)
                seg_w.append(weight * (1.0 - own) * e_cat)
                seg_na.append(n_cat)
                seg_g.append(g)
                seg_total.append(stats.total * g)
            weight *= params.recency_decay
        priors.append(prior if stats.total > 0 else 0.0)
    out: list[Scored] = [{} for _ in requests]
    with_prior = [r for r, p in enumerate(priors) if p > 0]
    if not arrays and not (with_prior and len(stats.popular)):
        return out
    lengths = np.fromiter((len(a.index) for a in arrays), dtype=np.int64, count=len(arrays))
    no_anchor = np.iinfo(np.int64).max - 1  # j of a prior-only entry: never a real anchor

    def spread(values: list[float] | list[int], dtype: type = np.float64) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=dtype), lengths)

    idx = np.concatenate([a.index for a in arrays]) if arrays else np.zeros(0, dtype=np.int64)
    row = spread(seg_rows, np.int64)
    cell_key = row * size + idx
    excluded = np.zeros(len(idx), dtype=bool)
    blocked = np.asarray(
        sorted(
            r * size + position[x]
            for r, req in enumerate(requests)
            for x in req.exclude
            if x in position
        ),
        dtype=np.int64,
    )
    if len(blocked):
        at = np.searchsorted(blocked, cell_key).clip(max=len(blocked) - 1)
        excluded = blocked[at] == cell_key
    f = spread(seg_f)
    co = (
        np.concatenate([a.together for a in arrays] or [np.zeros(0)]) * f
        + np.concatenate([a.co_added for a in arrays] or [np.zeros(0)]) * f
    )
    n_b = stats.counts[idx] * spread(seg_g)
    parts = spread(seg_w) * np.asarray(
        sim(co, spread(seg_na), n_b, spread(seg_total)), dtype=np.float64
    )
    keep = ~excluded & (co >= params.min_support) & (parts > 0)
    cell_key, parts, j_of = cell_key[keep], parts[keep], spread(seg_j, np.int64)[keep]
    if with_prior and len(stats.popular):  # the popular items join as candidates, part 0
        pop_rows = np.repeat(np.asarray(with_prior, dtype=np.int64), len(stats.popular))
        pop_key = pop_rows * size + np.tile(stats.popular, len(with_prior))
        if len(blocked):
            at = np.searchsorted(blocked, pop_key).clip(max=len(blocked) - 1)
            pop_key = pop_key[blocked[at] != pop_key]
        cell_key = np.concatenate([cell_key, pop_key])
        parts = np.concatenate([parts, np.zeros(len(pop_key))])
        j_of = np.concatenate([j_of, np.full(len(pop_key), no_anchor, dtype=np.int64)])
    cells, cell_of = np.unique(cell_key, return_inverse=True)
    score = np.bincount(cell_of, weights=parts, minlength=len(cells))
    best = np.full(len(cells), -np.inf)
    np.maximum.at(best, cell_of, parts)
    first = np.full(len(cells), np.iinfo(np.int64).max)
    is_best = parts == best[cell_of]
    np.minimum.at(first, cell_of[is_best], j_of[is_best])
    rows = cells // size
    if with_prior:  # + prior * n(b) / N, with the reference's decayed values
        g_of = np.asarray(
            [decayed_value(1.0, stats.landmark, req.now, hl) for req in requests], dtype=np.float64
        )[rows]
        score = score + np.asarray(priors, dtype=np.float64)[rows] * (
            (stats.counts[cells % size] * g_of) / (stats.total * g_of)
        )
    items = stats.items
    bounds = np.searchsorted(rows, np.arange(len(requests) + 1))
    for r, req in enumerate(requests):
        lo, hi = int(bounds[r]), int(bounds[r + 1])
        if lo == hi:
            continue
        sc = score[lo:hi]
        found = np.flatnonzero(sc > 0)
        if len(found) > top:
            values = sc[found]
            cut = np.partition(values, len(found) - top)[len(found) - top]
            found = found[values >= cut]
        order = found[np.lexsort((found, -sc[found]))][:top] + lo  # cells sorted by item id
        # whole arrays to Python at once: per-element numpy scalars cost ~5 us each
        out[r] = {
            items[i]: (s, req.anchors[j] if j != no_anchor else NO_ANCHOR, b)
            for i, s, j, b in zip(
                (cells[order] % size).tolist(),
                score[order].tolist(),
                first[order].tolist(),
                best[order].tolist(),
                strict=True,
            )
        }
    return out


def together_value(stats: BatchStats, anchor: str, candidate: str, now: float) -> float:
    """The decayed co-purchase weight of (anchor, candidate), as the dict form holds it."""
    a = stats.anchors.get(anchor)
    if a is None:
        return 0.0
    raw = a.together_raw.get(candidate)
    if raw is None:
        return 0.0
    return float(raw) * decayed_value(1.0, a.landmark, now, stats.half_life)
