"""Reads what ranking needs, for a whole micro-batch of triggers in three round trips:

1. the anchors' top partners (one READ_ITEM script per distinct anchor), the order total and
   the most popular items;
2. the decayed order counts of every anchor and candidate (one ZMSCORE);
3. catalogue entries and purchase history, only for the best-scored candidates, the popular
   padding and the anchors.

Stored forward-decayed numbers are turned into values at the trigger's time here, so the pure
ranker sees plain (decayed) counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from models.decay import decayed_value
from models.events import CatalogItem
from models.ranking import Neighbours, RankInput, RankParams, score_candidates
from xsell.store.lua import READ_ITEM
from xsell.store.store import Store

POPULAR_EXTRA = 20  # popular items read beyond k, to survive exclusions
DETAIL_FACTOR = 5  # candidates given catalogue/history detail: DETAIL_FACTOR * k + 10


@dataclass(frozen=True, slots=True)
class RankRequest:
    anchors: Sequence[str]  # most recent first
    exclude: frozenset[str]
    user_id: str | None
    now: float


def _pairs(reply: list[Any], factor: float) -> dict[str, float]:
    """member -> score * factor from a WITHSCORES reply (flat, or already paired by redis-py)."""
    if reply and isinstance(reply[0], list | tuple):
        return {m: float(v) * factor for m, v in reply}
    return {reply[i]: float(reply[i + 1]) * factor for i in range(0, len(reply), 2)}


def _catalog_item(item_id: str, raw: str | None) -> CatalogItem | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return CatalogItem(item_id=item_id, category=data.get("category"), price=data.get("price"),
                       stock=data.get("stock"), active=data.get("active", True),
                       name=data.get("name"))


async def build_inputs(
    store: Store, requests: Sequence[RankRequest], params: RankParams
) -> list[RankInput]:
    """One RankInput per request (see module doc)."""
    if not requests:
        return []
    s, keys, hl = store.settings, store.keys, store.settings.half_life_seconds
    anchor_lists = [list(r.anchors[: s.max_anchors]) for r in requests]
    anchors = sorted({a for lst in anchor_lists for a in lst})
    n_popular = params.k + POPULAR_EXTRA + max(len(r.exclude) for r in requests)
    calls: list[Any] = [(READ_ITEM, [*keys.item(a).for_signal("p")[:2], keys.item(a).info],
                         [s.candidates_per_anchor]) for a in anchors]
    calls.append(("HMGET", keys.meta, "N", "L"))
    calls.append(("ZRANGE", keys.popularity, 0, n_popular - 1, "REV", "WITHSCORES"))
    results = await store.runner.run(calls)
    raw_total, raw_landmark = results[len(anchors)]
    pop_flat = results[len(anchors) + 1]
    landmark = float(raw_landmark) if raw_landmark is not None else 0.0

    def at(now: float, stored: float, land: float) -> float:
        return decayed_value(stored, land, now, hl)

    # neighbours are decayed per request time below; keep raw forms here
    raw_nb = {a: (float(r[0]) if r[0] is not None else 0.0, r[1], r[2])
              for a, r in zip(anchors, results, strict=False)}
    candidates = sorted({c for a in anchors for c in raw_nb[a][1][::2] + raw_nb[a][2][::2]}
                        | set(anchors))
    counts_raw = dict(zip(candidates, await _zmscore(store, candidates), strict=True))

    inputs: list[RankInput] = []
    for req, lst in zip(requests, anchor_lists, strict=True):
        neighbours = {}
        for a in lst:
            land_a, p, c = raw_nb[a]
            factor = at(req.now, 1.0, land_a)
            neighbours[a] = Neighbours(_pairs(p, factor), _pairs(c, factor))
        gfactor = at(req.now, 1.0, landmark)
        wanted = set(lst) | {x for nb in neighbours.values() for x in nb.together} | {
            x for nb in neighbours.values() for x in nb.co_added}
        counts = {x: counts_raw.get(x, 0.0) * gfactor for x in wanted}
        popular = [(item, w * gfactor) for item, w in _pairs(pop_flat, 1.0).items()]
        inputs.append(RankInput(
            anchors=lst, exclude=req.exclude, neighbours=neighbours, counts=counts,
            total=float(raw_total or 0.0) * gfactor, catalog={}, history={},
            popular=popular, now=req.now))
    return await _add_details(store, requests, inputs, params)


async def _zmscore(store: Store, items: list[str]) -> list[float]:
    if not items:
        return []
    (scores,) = await store.runner.run([("ZMSCORE", store.keys.popularity, *items)])
    return [float(x) if x is not None else 0.0 for x in scores]


async def _add_details(store: Store, requests: Sequence[RankRequest],
                       inputs: list[RankInput], params: RankParams) -> list[RankInput]:
    """Fill catalogue entries and the user's history for the items that can be offered."""
    per_request: list[list[str]] = []
    for inp in inputs:
        scored = score_candidates(inp, params)
        best = sorted(scored, key=lambda c: -scored[c][0])[: DETAIL_FACTOR * params.k + 10]
        per_request.append(sorted(set(best) | {i for i, _ in inp.popular} | set(inp.anchors)))
    items = sorted({i for lst in per_request for i in lst})
    calls: list[Any] = [("HMGET", store.keys.catalog, *items)] if items else []
    users = [(n, r.user_id) for n, r in enumerate(requests) if r.user_id and per_request[n]]
    calls += [("HMGET", store.keys.history(u), *per_request[n]) for n, u in users]
    results = await store.runner.run(calls)
    catalog: dict[str, CatalogItem] = {}
    if items:
        for item_id, raw in zip(items, results[0], strict=True):
            entry = _catalog_item(item_id, raw)
            if entry is not None:
                catalog[item_id] = entry
    histories: dict[int, dict[str, float]] = {}
    for (n, _), hist in zip(users, results[1 if items else 0:], strict=True):
        histories[n] = {i: float(t) for i, t in zip(per_request[n], hist, strict=True)
                        if t is not None}
    return [replace(inp, catalog={i: catalog[i] for i in per_request[n] if i in catalog},
                    history=histories.get(n, {}))
            for n, inp in enumerate(inputs)]
