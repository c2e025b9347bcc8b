"""The ranking inputs of a micro-batch, assembled purely from what the store read.

The engine asks the store for the batch's raw statistics (:class:`RankingData`: the anchors'
stored top partners, order counts, the order total and the most popular items), scores every
request's candidates at once (:func:`xsell.models.scoring.score_batch`), then asks the store for the
catalogue entries and purchase history of the best-scored candidates only. So no item is
offered without its stock and the user's ownership having been checked, and the store never
scores. Stored forward-decayed numbers become values at the trigger's time here, so the pure
ranker sees plain (decayed) counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from xsell.models.decay import decayed_value
from xsell.models.events import CatalogItem
from xsell.models.ranking import (
    NO_ANCHOR,
    Because,
    Neighbours,
    RankInput,
    RankParams,
    RankRequest,
)
from xsell.models.rebuy import RebuyStats
from xsell.models.scoring import (
    BatchStats,
    CategoryStats,
    Scored,
    anchor_stats,
    together_value,
)
from xsell.models.segments import Segment, SegmentState

POPULAR_EXTRA = 20  # popular items read beyond k, to survive exclusions
DETAIL_FACTOR = 5  # candidates given catalogue/history detail: DETAIL_FACTOR * k + 10

Parsed = tuple[list[str], list[float]]  # members and their scores, in stored order


@dataclass(frozen=True, slots=True)
class AnchorData:
    """One anchor's stored partners: its landmark and (members, raw weights) of both signals."""

    landmark: float
    together: Parsed
    co_added: Parsed


@dataclass(frozen=True, slots=True)
class CategoryData:
    """One category's stored counts (models/categories.py), raw, not yet decayed."""

    landmark: float
    orders: float  # n(A): orders holding the category
    items: Parsed  # the items most often bought with it, and their raw weights


@dataclass(frozen=True, slots=True)
class RankingData:
    """What the store read for a batch: raw stored values, not yet decayed."""

    anchors: dict[str, AnchorData]
    items: list[str]  # sorted: anchors, all their partners, the prior's popular items
    counts: list[float]  # raw order count of each of ``items``
    total: float
    landmark: float
    popular: Parsed  # the most popular items with their raw counts, most popular first
    prior_items: list[str]  # the popular items that are the prior's candidates
    category_of: dict[str, str] = field(default_factory=dict)  # anchor -> its category
    categories: dict[str, CategoryData] = field(default_factory=dict)
    segments: dict[str, SegmentState] = field(default_factory=dict)  # user -> stored state
    spend_histogram: dict[int, int] = field(default_factory=dict)  # bucket -> shoppers
    histories: dict[str, dict[str, float]] = field(default_factory=dict)  # buy-again: user ->
    rebuy_stats: dict[str, RebuyStats] = field(default_factory=dict)  # ... their owned items'


def detail_size(params: RankParams) -> int:
    """How many best-scored candidates of a request get their catalogue and history read."""
    return DETAIL_FACTOR * params.k + 10


def popular_size(params: RankParams, requests: Sequence[RankRequest]) -> int:
    """How many popular items to read: enough for every request after its exclusions."""
    return params.k + POPULAR_EXTRA + max(len(r.exclude) for r in requests)


def capped(requests: Sequence[RankRequest], max_anchors: int) -> list[RankRequest]:
    """The requests with their ``max_anchors`` newest anchors (the ranking's anchor cap)."""
    return [replace(r, anchors=list(r.anchors[: r.max_anchors or max_anchors])) for r in requests]


def batch_stats(data: RankingData, half_life: float) -> BatchStats:
    """The shared candidate index of a batch and each anchor's arrays."""
    position = {item: i for i, item in enumerate(data.items)}
    return BatchStats(
        items=data.items,
        position=position,
        counts=np.asarray(data.counts, dtype=np.float64),
        total=data.total,
        landmark=data.landmark,
        half_life=half_life,
        anchors={
            a: anchor_stats(position, d.together, d.co_added, d.landmark)
            for a, d in data.anchors.items()
        },
        popular=np.asarray([position[m] for m in data.prior_items], dtype=np.int64),
        category_of=data.category_of,
        categories={
            c: CategoryStats(anchor_stats(position, d.items, ([], []), d.landmark), d.orders)
            for c, d in data.categories.items()
        },
    )


def scaled(parsed: Parsed, factor: float) -> dict[str, float]:
    """member -> score * factor."""
    members, scores = parsed
    return dict(zip(members, [v * factor for v in scores], strict=True))


def usable(
    popular: list[tuple[str, float]], exclude: frozenset[str], n: int
) -> list[tuple[str, float]]:
    """The ``n`` most popular items a request could be offered (its cart left out): the
    only ones whose catalogue entry and history are read, so the only ones it may offer."""
    out: list[tuple[str, float]] = []
    for entry in popular:
        if entry[0] not in exclude:
            out.append(entry)
            if len(out) == n:
                break
    return out


def assemble(
    stats: BatchStats,
    popular_parsed: Parsed,
    requests: Sequence[RankRequest],
    scored: Sequence[Scored],
    params: RankParams,
) -> list[RankInput]:
    """One RankInput per (capped) request, without catalogue entries and history yet: the
    explained partners of its scored candidates, its anchors' counts and popular padding,
    all decayed to the request's time."""
    hl = stats.half_life
    # one popular list for the batch, decayed to its latest trigger: the ranker uses only
    # weight / top weight, which the decay factor cancels out of (a list of ~k + 20 + cart
    # items per request had been 10% of the worker's CPU)
    popular = list(
        scaled(
            popular_parsed, decayed_value(1.0, stats.landmark, max(r.now for r in requests), hl)
        ).items()
    )
    inputs: list[RankInput] = []
    counts_list = stats.counts.tolist()
    for req, cands in zip(requests, scored, strict=True):
        g = decayed_value(1.0, stats.landmark, req.now, hl)
        explained: dict[str, dict[str, float]] = {}
        by_category: dict[str, Because] = {}
        for cand, (_, anchor, _) in cands.items():
            if anchor == NO_ANCHOR:
                continue
            together = together_value(stats, anchor, cand, req.now)
            explained.setdefault(anchor, {})[cand] = together
            if together == 0.0 and params.category_backoff > 0:
                because = category_because(stats, anchor, cand, req.now)
                if because is not None:
                    by_category[cand] = because
        anchors = list(req.anchors)
        inputs.append(
            RankInput(
                anchors=anchors,
                exclude=req.exclude,
                neighbours={a: Neighbours(t) for a, t in explained.items()},
                counts={a: counts_list[stats.position[a]] * g for a in anchors},
                total=stats.total * g,
                catalog={},
                history={},
                popular=usable(popular, req.exclude, params.k + POPULAR_EXTRA),
                now=req.now,
                scored=cands,
                fills_gap=req.fills_gap and params.free_shipping is not None,
                by_category=by_category,
            )
        )
    return inputs


def category_because(stats: BatchStats, anchor: str, cand: str, now: float) -> Because | None:
    """Why ``cand`` was offered for ``anchor`` when the anchor's own orders never held it:
    the anchor's category (its weight with the item, and P(item | category)); None when
    the category does not hold it either."""
    cat = stats.category_of.get(anchor)
    cs = stats.categories.get(cat) if cat is not None else None
    if cat is None or cs is None or cs.orders <= 0:
        return None
    raw = cs.items.together_raw.get(cand)
    if raw is None:
        return None
    f = decayed_value(1.0, cs.items.landmark, now, stats.half_life)
    return Because(anchor, raw * f, raw / cs.orders, category=cat)


def offerable(inputs: Sequence[RankInput]) -> list[list[str]]:
    """Per input, the items it may offer or needs details of: scored candidates, popular
    padding, co-view partners and anchors, due rebuys (models/rebuy.py), and with a gap filler
    every cart item (its price; sorted)."""
    return [
        sorted(
            set(inp.scored or ())
            | {i for i, _ in inp.popular}
            | set(inp.anchors)
            | set(inp.co_viewed)
            | (inp.exclude if inp.fills_gap else frozenset())
            | set(inp.rebuys)
        )
        for inp in inputs
    ]


def wanted_details(
    requests: Sequence[RankRequest], per_request: Sequence[list[str]]
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The catalogue entries to read (sorted) and, per user of the batch (a shopper's
    add-to-carts often share a batch), the items whose purchase time to read."""
    items = sorted({i for lst in per_request for i in lst})
    per_user: dict[str, set[str]] = {}
    for n, r in enumerate(requests):
        if r.user_id and per_request[n]:
            per_user.setdefault(r.user_id, set()).update(per_request[n])
    return items, [(u, sorted(wanted)) for u, wanted in per_user.items()]


def with_details(
    inputs: Sequence[RankInput],
    requests: Sequence[RankRequest],
    per_request: Sequence[list[str]],
    catalog: dict[str, CatalogItem],
    bought: dict[str, dict[str, float]],
    segments: Mapping[str, Segment] | None = None,
) -> list[RankInput]:
    """The inputs with the catalogue entries, the user's purchases of their items and the
    user's segment (``segments``: per user; a request without a user has none)."""
    histories: dict[int, dict[str, float]] = {}
    for n, r in enumerate(requests):
        if r.user_id and per_request[n]:
            known = bought[r.user_id]
            histories[n] = {i: known[i] for i in per_request[n] if i in known}
    return [
        replace(
            inp,
            catalog={i: catalog[i] for i in per_request[n] if i in catalog},
            history=histories.get(n, {}),
            segment=(segments or {}).get(requests[n].user_id or ""),
        )
        for n, inp in enumerate(inputs)
    ]
