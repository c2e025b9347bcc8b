"""Reads what a bundle needs (models/bundles.py), in two round trips with bounded work:

1. the anchor's strongest ``partners`` co-purchase partners, its landmark and order count, the
   order total and clock;
2. for those partners: catalogue entries (and the anchor's), order counts, the user's purchases
   and, per partner, its pair weight with every other partner (one ZMSCORE each: at most
   ``partners``^2 values) and its landmark.

The store only reads; the choice of items and the price are pure (models/bundles.py).
"""

from __future__ import annotations

from xsell.models.bundles import BundleData
from xsell.models.events import CatalogItem
from xsell.store.backend.client import Call, Runner
from xsell.store.core.keys import Keys
from xsell.store.core.reader import catalog_item, parse_scores


def _float(value: object, default: float = 0.0) -> float:
    return float(value) if value is not None else default  # type: ignore[arg-type]


class BundleReads:
    """The reads of ``GET /v1/items/{item_id}/bundle`` (module doc)."""

    def __init__(self, runner: Runner, keys: Keys, partners: int) -> None:
        self._runner = runner
        self._keys = keys
        self._partners = partners

    async def bundle_data(self, anchor: str, user_id: str | None) -> BundleData:
        """The raw statistics of ``anchor`` and its strongest partners, with the catalogue
        entries of all of them and ``user_id``'s purchases of the partners."""
        keys, item = self._keys, self._keys.item(anchor)
        top, landmark, meta, count = await self._runner.run(
            [
                ("ZRANGE", item.pairs, 0, self._partners - 1, "REV", "WITHSCORES"),
                ("HGET", item.info, "L"),
                ("HMGET", keys.meta, "N", "L", "T"),
                ("ZSCORE", keys.popularity, anchor),
            ]
        )
        members, weights = parse_scores(top)
        members = [str(m) for m in members]
        calls: list[Call] = [("HMGET", keys.catalog, anchor, *members)]
        if members:
            calls.append(("ZMSCORE", keys.popularity, *members))
            if user_id is not None:
                calls.append(("HMGET", keys.history(user_id), *members))
            for b in members:
                others = [o for o in members if o != b]
                if others:
                    calls.append(("ZMSCORE", keys.item(b).pairs, *others))
                calls.append(("HGET", keys.item(b).info, "L"))
        replies = iter(await self._runner.run(calls))
        catalog: dict[str, CatalogItem] = {}
        for item_id, raw in zip([anchor, *members], next(replies), strict=True):
            entry = catalog_item(item_id, raw)
            if entry is not None:
                catalog[item_id] = entry
        counts: dict[str, float] = {}
        history: dict[str, float] = {}
        pair_raw: dict[tuple[str, str], float] = {}
        landmarks: dict[str, float] = {}
        if members:
            counts = {b: _float(c) for b, c in zip(members, next(replies), strict=True)}
            if user_id is not None:
                history = {
                    b: float(t)
                    for b, t in zip(members, next(replies), strict=True)
                    if t is not None
                }
            for b in members:
                others = [o for o in members if o != b]
                if others:
                    for o, w in zip(others, next(replies), strict=True):
                        if w is not None:
                            pair_raw[(b, o)] = float(w)
                landmarks[b] = _float(next(replies))
        total, global_landmark, latest = (_float(x) for x in meta)
        return BundleData(
            anchor=anchor,
            anchor_count=_float(count),
            anchor_landmark=_float(landmark),
            partners=list(zip(members, weights, strict=True)),
            partner_counts=counts,
            partner_landmarks=landmarks,
            pair_raw=pair_raw,
            total=total,
            landmark=global_landmark,
            now=latest,
            catalog=catalog,
            history=history,
        )
