"""Reads what ranking needs, for a whole micro-batch of triggers in three round trips:

1. the anchors' top partners (one READ_ITEMS script for all distinct anchors; one READ_ITEM per
   anchor on a cluster), the order total and the most popular items; with the category
   back-off, the anchors' categories, then those categories' counts (one READ_CATEGORIES);
2. the raw order counts of every anchor and candidate (one ZMSCORE); with buy-again, the
   counters of the items the batch's known users own (xsell/store/core/rebuy.py);
3. (after the engine has scored) catalogue entries and purchase history, only for the
   best-scored candidates, the popular padding and the anchors.

The store only reads: scoring and assembling the inputs are pure (models/scoring.py,
models/inputs.py) and the engine calls them between the reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xsell.models.decay import decayed_value
from xsell.models.events import CatalogItem
from xsell.models.inputs import AnchorData, Parsed, RankingData
from xsell.models.rebuy import RebuyStats, newest_owned
from xsell.store.backend.client import Call, Runner
from xsell.store.core.apply import EventStore
from xsell.store.core.categories import catalog_read, category_of_json, read_categories
from xsell.store.core.followed import read_followed
from xsell.store.core.keys import Keys, Signal
from xsell.store.core.lua import READ_ITEM, READ_ITEMS
from xsell.store.core.rebuy import parse_stats, stats_reads
from xsell.store.core.segments import parse_segments, segment_reads


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
    return StateClock(n, land, latest, store.settings.learning.half_life_seconds)


def parse_scores(reply: list[Any]) -> Parsed:
    """(members, scores) of a WITHSCORES reply (flat, or already paired by redis-py), parsed
    once per batch: the same anchor serves many requests of a batch."""
    if reply and isinstance(reply[0], list | tuple):
        return [m for m, _ in reply], [float(v) for _, v in reply]
    return reply[::2], list(map(float, reply[1::2]))


def catalog_item(item_id: str, raw: str | None) -> CatalogItem | None:
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
        tags=tuple(data.get("tags") or ()),
        cost=data.get("cost"),
    )


class RankingReads:
    """The reads of the ranking path (module doc)."""

    def __init__(self, runner: Runner, keys: Keys, cluster: bool, per_anchor: int) -> None:
        self._runner = runner
        self._keys = keys
        self._cluster = cluster
        self._per_anchor = per_anchor  # partners read per anchor and signal

    async def statistics(
        self,
        anchors: Sequence[str],
        n_popular: int,
        *,
        with_prior: bool,
        with_categories: bool = False,
        users: Sequence[str] = (),
        owners: Sequence[str] = (),
    ) -> RankingData:
        """Round trips 1 and 2 for the batch's distinct ``anchors`` (sorted): their partners,
        the order total, the ``n_popular`` most popular items (the prior's candidates when
        ``with_prior``) and the order count of every item met. ``with_categories``: also the
        anchors' categories (round trip 1) and those categories' counts and items (one more
        call, before round trip 2, only when an anchor has a category). ``users``: also
        their segments and the spend histogram (round trip 1; xsell/store/core/segments.py).
        ``owners``: users whose history (round trip 1) and the buy-again counters of their
        newest owned items (round trip 2) to read (xsell/store/core/rebuy.py)."""
        keys = self._keys
        item_keys = [
            [*keys.item(a).for_signal(Signal.PURCHASE)[:2], keys.item(a).info] for a in anchors
        ]
        if self._cluster:  # keys of many slots: one script per anchor
            calls: list[Call] = [(READ_ITEM, ks, [self._per_anchor]) for ks in item_keys]
        else:
            calls = [(READ_ITEMS, [k for ks in item_keys for k in ks], [self._per_anchor])]
        calls.append(("HMGET", keys.meta, "N", "L"))
        calls.append(("ZRANGE", keys.popularity, 0, n_popular - 1, "REV", "WITHSCORES"))
        if with_categories and anchors:
            calls.append(catalog_read(keys, anchors))
        seg_calls = segment_reads(keys, users)
        calls += seg_calls
        calls += [("HGETALL", keys.history(u)) for u in owners]
        replies = await self._runner.run(calls)
        histories = {
            u: newest_owned({i: float(t) for i, t in h.items()})
            for u, h in zip(owners, replies[len(replies) - len(owners) :], strict=True)
        }
        del replies[len(replies) - len(owners) :]
        cut = len(replies) - len(seg_calls)
        segments, histogram = parse_segments(users, replies[cut:])
        del replies[cut:]
        if with_categories and anchors:
            *per_anchor, (raw_total, raw_landmark), popular_flat, raw_cat = replies
            category_of = {
                a: c for a, r in zip(anchors, raw_cat, strict=True) if (c := category_of_json(r))
            }
        else:
            *per_anchor, (raw_total, raw_landmark), popular_flat = replies
            category_of = {}
        categories = await read_categories(
            self._runner, keys, sorted(set(category_of.values())), self._per_anchor
        )
        if not self._cluster:
            per_anchor = per_anchor[0] if anchors else []
        popular = parse_scores(popular_flat)
        parsed = {
            a: AnchorData(
                float(r[0]) if r[0] is not None else 0.0, parse_scores(r[1]), parse_scores(r[2])
            )
            for a, r in zip(anchors, per_anchor, strict=True)
        }
        prior_items = popular[0] if with_prior else []
        items = sorted(
            {m for d in parsed.values() for m in d.together[0] + d.co_added[0]}
            | {m for d in categories.values() for m in d.items[0]}
            | set(anchors)
            | set(prior_items)
        )
        owned = sorted({i for h in histories.values() for i in h})
        counts, rebuy_stats = await self._order_counts(items, owned)
        return RankingData(
            anchors=parsed,
            items=items,
            counts=counts,
            total=float(raw_total or 0.0),
            landmark=float(raw_landmark) if raw_landmark is not None else 0.0,
            popular=popular,
            prior_items=list(prior_items),
            category_of=category_of,
            categories=categories,
            segments=segments,
            spend_histogram=histogram,
            histories=histories,
            rebuy_stats=rebuy_stats,
        )

    async def followed(
        self, anchors: Sequence[str]
    ) -> dict[str, tuple[float, list[tuple[str, float]]]]:
        """The anchors' top first-time follow-ups as stored (landmark, [(item, weight)]), for
        post-purchase ranking (xsell/store/core/followed.py); one round trip."""
        return await read_followed(self._runner, self._keys, anchors, self._per_anchor)

    async def rebuy_stats(self, owned: Sequence[str]) -> dict[str, RebuyStats]:
        """The buy-again counters of ``owned`` items (those with any rebuy; one round trip)."""
        _, stats = await self._order_counts([], sorted(set(owned)))
        return stats

    async def _order_counts(
        self, items: list[str], owned: list[str]
    ) -> tuple[list[float], dict[str, RebuyStats]]:
        """Round trip 2: the order counts of ``items`` and the buy-again counters of the
        ``owned`` items."""
        calls: list[Call] = [("ZMSCORE", self._keys.popularity, *items)] if items else []
        calls += stats_reads(self._keys, owned)
        if not calls:
            return [], {}
        replies = await self._runner.run(calls)
        scores = replies.pop(0) if items else []
        return [float(x) if x is not None else 0.0 for x in scores], parse_stats(owned, replies)

    async def details(
        self, items: Sequence[str], users: Sequence[tuple[str, list[str]]]
    ) -> tuple[dict[str, CatalogItem], dict[str, dict[str, float]]]:
        """Round trip 3: the catalogue entries of ``items`` (those that have one) and, per
        (user, items) of ``users``, when the user last bought each of the items they did."""
        calls: list[Call] = [("HMGET", self._keys.catalog, *items)] if items else []
        calls += [("HMGET", self._keys.history(u), *wanted) for u, wanted in users]
        results = await self._runner.run(calls)
        catalog: dict[str, CatalogItem] = {}
        if items:
            for item_id, raw in zip(items, results[0], strict=True):
                entry = catalog_item(item_id, raw)
                if entry is not None:
                    catalog[item_id] = entry
        bought: dict[str, dict[str, float]] = {}
        for (u, wanted), hist in zip(users, results[1 if items else 0 :], strict=True):
            bought[u] = {i: float(t) for i, t in zip(wanted, hist, strict=True) if t is not None}
        return catalog, bought
