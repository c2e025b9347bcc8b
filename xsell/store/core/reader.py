"""Reads what ranking needs, for a whole micro-batch of triggers in three round trips:

1. the anchors' top partners (one READ_ITEMS script for all distinct anchors; one READ_ITEM per
   anchor on a cluster), the order total and the most popular items;
2. the decayed order counts of every anchor and candidate (one ZMSCORE);
3. catalogue entries and purchase history, only for the best-scored candidates, the popular
   padding and the anchors; only those candidates are offered, so no item is offered without
   its stock and the user's ownership having been checked.

Stored forward-decayed numbers are turned into values at the trigger's time here, so the pure
ranker sees plain (decayed) counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from models.decay import decayed_value
from models.events import CatalogItem
from models.ranking import NO_ANCHOR, Neighbours, RankInput, RankParams, RankRequest
from models.scoring import BatchStats, anchor_stats, score_batch, together_value
from xsell.store.core.apply import EventStore
from xsell.store.core.keys import Signal
from xsell.store.core.lua import READ_ITEM, READ_ITEMS


@dataclass(frozen=True, slots=True)
class StateClock:
    """The global counters as stored: order total N relative to landmark L, latest event T."""

    total: float
    landmark: float
    latest: float
    half_life: float

    @property
    def orders_now(self) -> float:
        """The decayed order total at the latest event (the exact count without decay)."""
        return decayed_value(self.total, self.landmark, self.latest, self.half_life)


async def state_clock(store: EventStore) -> StateClock:
    """The meta hash's N, L and T (0 where absent)."""
    (meta,) = await store.runner.run([("HMGET", store.keys.meta, "N", "L", "T")])
    n, land, latest = (float(x) if x is not None else 0.0 for x in meta)
    return StateClock(n, land, latest, store.settings.half_life_seconds)


POPULAR_EXTRA = 20  # popular items read beyond k, to survive exclusions
DETAIL_FACTOR = 5  # candidates given catalogue/history detail: DETAIL_FACTOR * k + 10


Parsed = tuple[list[str], list[float]]


def parse_scores(reply: list[Any]) -> Parsed:
    """(members, scores) of a WITHSCORES reply (flat, or already paired by redis-py), parsed
    once per batch: the same anchor serves many requests of a batch."""
    if reply and isinstance(reply[0], list | tuple):
        return [m for m, _ in reply], [float(v) for _, v in reply]
    return reply[::2], list(map(float, reply[1::2]))


def scaled(parsed: Parsed, factor: float) -> dict[str, float]:
    """member -> score * factor."""
    members, scores = parsed
    return dict(zip(members, [v * factor for v in scores], strict=True))


def _catalog_item(item_id: str, raw: str | None) -> CatalogItem | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return CatalogItem(
        item_id=item_id,
        category=data.get("category"),
        price=data.get("price"),
        stock=data.get("stock"),
        active=data.get("active", True),
        name=data.get("name"),
    )


async def build_inputs(
    store: EventStore,
    requests: Sequence[RankRequest],
    params: RankParams,
    *,
    alternatives: Sequence[RankParams] = (),
    alternative_rows: frozenset[int] = frozenset(),
) -> list[RankInput]:
    """One RankInput per request (see module doc), its ``scored`` holding the best
    ``DETAIL_FACTOR * k + 10`` candidates (:func:`models.scoring.score_batch`). The requests
    at ``alternative_rows`` also get the top k under each of ``alternatives`` (self-tuning's
    test lists), scored from the same reads: no extra round trip."""
    if not requests:
        return []
    s, keys, hl = store.settings, store.keys, store.settings.half_life_seconds
    anchor_lists = [list(r.anchors[: s.max_anchors]) for r in requests]
    anchors = sorted({a for lst in anchor_lists for a in lst})
    n_popular = params.k + POPULAR_EXTRA + max(len(r.exclude) for r in requests)
    item_keys = [
        [*keys.item(a).for_signal(Signal.PURCHASE)[:2], keys.item(a).info] for a in anchors
    ]
    if s.redis_cluster:  # keys of many slots: one script per anchor
        calls: list[Any] = [(READ_ITEM, ks, [s.candidates_per_anchor]) for ks in item_keys]
    else:
        calls = [(READ_ITEMS, [k for ks in item_keys for k in ks], [s.candidates_per_anchor])]
    calls.append(("HMGET", keys.meta, "N", "L"))
    calls.append(("ZRANGE", keys.popularity, 0, n_popular - 1, "REV", "WITHSCORES"))
    *per_anchor, (raw_total, raw_landmark), popular_flat = await store.runner.run(calls)
    if not s.redis_cluster:
        per_anchor = per_anchor[0] if anchors else []
    popular_parsed = parse_scores(popular_flat)
    parsed = {
        a: (float(r[0]) if r[0] is not None else 0.0, parse_scores(r[1]), parse_scores(r[2]))
        for a, r in zip(anchors, per_anchor, strict=True)
    }
    prior_items = popular_parsed[0] if params.popularity_prior > 0 else []
    items = sorted(
        {m for _, p, c in parsed.values() for m in p[0] + c[0]} | set(anchors) | set(prior_items)
    )
    position = {item: i for i, item in enumerate(items)}
    stats = BatchStats(
        items=items,
        position=position,
        counts=np.asarray(await _zmscore(store, items), dtype=np.float64),
        total=float(raw_total or 0.0),
        landmark=float(raw_landmark) if raw_landmark is not None else 0.0,
        half_life=hl,
        anchors={a: anchor_stats(position, p, c, land) for a, (land, p, c) in parsed.items()},
        popular=np.asarray([position[m] for m in prior_items], dtype=np.int64),
    )

    capped = [replace(r, anchors=lst) for r, lst in zip(requests, anchor_lists, strict=True)]
    all_scored = score_batch(stats, capped, params, DETAIL_FACTOR * params.k + 10)
    rows = sorted(alternative_rows)
    alt_lists = [
        # the candidate in use needs no second scoring: its top k leads its full list
        [dict(list(all_scored[r].items())[: params.k]) for r in rows]
        if p == params
        else score_batch(stats, [capped[r] for r in rows], p, params.k)
        for p in alternatives
    ]
    alt_of = {r: tuple(tuple(lists[n]) for lists in alt_lists) for n, r in enumerate(rows)}
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
    for row, (req, lst, scored) in enumerate(zip(requests, anchor_lists, all_scored, strict=True)):
        g = decayed_value(1.0, stats.landmark, req.now, hl)
        explained: dict[str, dict[str, float]] = {}
        for cand, (_, anchor, _) in scored.items():
            if anchor == NO_ANCHOR:
                continue
            explained.setdefault(anchor, {})[cand] = together_value(stats, anchor, cand, req.now)
        counts = {a: counts_list[position[a]] * g for a in lst}
        inputs.append(
            RankInput(
                anchors=lst,
                exclude=req.exclude,
                neighbours={a: Neighbours(t) for a, t in explained.items()},
                counts=counts,
                total=stats.total * g,
                catalog={},
                history={},
                popular=_usable(popular, req.exclude, params.k + POPULAR_EXTRA),
                now=req.now,
                scored=scored,
                alternatives=alt_of.get(row, ()),
            )
        )
    return await _add_details(store, requests, inputs)


def _usable(
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


async def _zmscore(store: EventStore, items: list[str]) -> list[float]:
    if not items:
        return []
    (scores,) = await store.runner.run([("ZMSCORE", store.keys.popularity, *items)])
    return [float(x) if x is not None else 0.0 for x in scores]


async def _add_details(
    store: EventStore, requests: Sequence[RankRequest], inputs: list[RankInput]
) -> list[RankInput]:
    """Fill catalogue entries and the user's history for the items that can be offered."""
    per_request = [
        sorted(set(inp.scored or ()) | {i for i, _ in inp.popular} | set(inp.anchors))
        for inp in inputs
    ]
    items = sorted({i for lst in per_request for i in lst})
    calls: list[Any] = [("HMGET", store.keys.catalog, *items)] if items else []
    # one HMGET per user of the batch (a shopper's add-to-carts often share a batch)
    per_user: dict[str, set[str]] = {}
    for n, r in enumerate(requests):
        if r.user_id and per_request[n]:
            per_user.setdefault(r.user_id, set()).update(per_request[n])
    users = [(u, sorted(wanted)) for u, wanted in per_user.items()]
    calls += [("HMGET", store.keys.history(u), *wanted) for u, wanted in users]
    results = await store.runner.run(calls)
    catalog: dict[str, CatalogItem] = {}
    if items:
        for item_id, raw in zip(items, results[0], strict=True):
            entry = _catalog_item(item_id, raw)
            if entry is not None:
                catalog[item_id] = entry
    bought: dict[str, dict[str, float]] = {}
    for (u, wanted), hist in zip(users, results[1 if items else 0 :], strict=True):
        bought[u] = {i: float(t) for i, t in zip(wanted, hist, strict=True) if t is not None}
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
        )
        for n, inp in enumerate(inputs)
    ]
