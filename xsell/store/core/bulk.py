"""Bulk load of an empty namespace: the state streaming would leave, written key by key.

``xsell backfill`` into an empty namespace computes the final values with
:func:`xsell.models.bulk.bulk_counts` and writes each key once, in four named steps:

1. ``claim``:  refuse unless the namespace holds nothing but a catalogue (or the remains of
               an interrupted bulk load: meta ``bulk_started`` without ``created``), then
               record ``bulk_started``;
2. ``items``:  per item, its co-purchase zset (ZADD of absolute values; after an
               interrupted load the zset is deleted first, so a rerun writes it anew) and
               its landmark hash;
3. ``users``:  popularity, purchase histories, and every order's done marker (kept for the
               dedup horizon), so replaying the same orders through Kafka within it, or
               ``xsell backfill`` of the same orders at any time (the load's position,
               recorded with the seal), counts nothing twice; then the category counts,
               through the streaming script (one call per order);
4. ``seal``:   the meta hash (N, T, L, ``created``) last: from then on the state is present,
               and the next backfill streams through the scripts instead.

Run it before any worker consumes into the namespace (a worker's concurrent writes would be
overwritten by step 2).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

from xsell.models.bulk import BulkCounts
from xsell.models.errors import XsellError
from xsell.models.events import PurchaseEvent
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import number_arg
from xsell.store.core.apply import EventStore
from xsell.store.core.categories import learn_orders
from xsell.store.core.guards import Guards
from xsell.store.core.keys import Stream
from xsell.store.core.lua import MARK_DONE
from xsell.store.core.segments import move_calls, order_call

log = logging.getLogger(__name__)
MEMBERS_PER_ROUND_TRIP = 50_000  # zset members (or hash fields) sent per pipelined round trip
LEARN_ORDERS_PER_ROUND_TRIP = 500  # segment counters: orders per round trip


class NamespaceNotEmpty(XsellError):
    """A bulk load was asked for a namespace that already holds state."""


INTERRUPTED = "an interrupted bulk load (meta bulk_started, no created)"


async def is_bulk_loadable(store: EventStore) -> tuple[bool, str]:
    """(True, why) when the namespace holds nothing but a catalogue (and merchant rules), or
    an interrupted bulk load; else (False, the first other key found)."""
    k = store.keys
    ((started, created),) = await store.runner.run([("HMGET", k.meta, "bulk_started", "created")])
    if started is not None and created is None:
        return True, INTERRUPTED
    async for key in store.client.scan_iter(match=k.pattern(), count=1000):
        if key not in (k.catalog, k.rules, k.rules_version):  # rules may come first
            return False, f"the namespace already holds {key!r}"
    return True, "the namespace is empty"


async def bulk_load(
    store: EventStore,
    counts: BulkCounts,
    *,
    checked: str | None = None,
    position: tuple[str, int] | None = None,
    orders: Sequence[PurchaseEvent] = (),
) -> dict[str, Any]:
    """Write ``counts`` into the store's (empty) namespace; returns what was written.
    ``checked``: the reason :func:`is_bulk_loadable` just gave the caller (its namespace scan
    is not repeated); None = check here. ``position``: the load's input source and its last
    offset, recorded with the seal (xsell/store/core/guards.py). ``orders``: the orders of
    ``counts``, in time order, whose category counts (models/categories.py) go through the
    streaming script before the seal (a rerun after an interruption is absorbed by its
    guard markers)."""
    why = checked
    if why is None:
        loadable, why = await is_bulk_loadable(store)
        if not loadable:
            raise NamespaceNotEmpty(f"bulk load refused: {why}; use --mode stream")
    k = store.keys
    await store.runner.run([("HSET", k.meta, "bulk_started", int(time.time() * 1000))])
    entries = await _send(store, _item_calls(store, counts, fresh=why != INTERRUPTED))
    user_calls: list[tuple[Call, int]] = [
        (("DEL", k.popularity), 1),
        *_chunked_zadd(k.popularity, list(counts.popularity.items())),
        *_history_calls(store, counts.histories),
        *_done_calls(store, counts.event_ids),
    ]
    await _send(store, iter(user_calls))
    categorised = await learn_orders(
        store.runner, store.keys, store.settings, orders, int(time.time() * 1000)
    )
    segmented = await learn_segments(store, orders, int(time.time() * 1000))
    meta: list[Any] = ["created", int(time.time() * 1000)]
    if counts.latest_ts is not None:
        meta += ["T", number_arg(counts.latest_ts)]
    if counts.global_landmark is not None:
        meta += ["L", _fmt(counts.global_landmark)]
    # N through HINCRBYFLOAT into an absent field, so Redis formats it as the stream path's
    # HINCRBYFLOAT does ("300", not "300.0")
    await store.runner.run(
        [
            ("HDEL", k.meta, "N"),
            ("HINCRBYFLOAT", k.meta, "N", counts.order_total),
            ("HSET", k.meta, *meta),
            *([("HSET", k.positions, *position)] if position else []),
            ("HDEL", k.meta, "bulk_started"),
        ]
    )
    log.info(
        "bulk load: %d orders, %d items, %d co-purchase entries (%d pair increments "
        "streaming would have made)",
        len(counts.event_ids),
        len(counts.vocab),
        entries,
        counts.pair_increments,
    )
    return {
        "why": why,
        "copurchase_entries": entries,
        "items": len(counts.vocab),
        "pair_increments_saved": counts.pair_increments,
        "rescaled_keys": counts.rescaled_keys,
        "categorised_orders": categorised,
        "segmented_orders": segmented,
    }


async def learn_segments(store: EventStore, orders: Sequence[PurchaseEvent], now_ms: int) -> int:
    """The segments of ``orders`` (in time order) through the streaming scripts
    (xsell/store/core/segments.py), so they end as streaming leaves them; a rerun after an
    interruption is absorbed by their guard markers. Returns the orders counted."""
    keys, settings = store.keys, store.settings
    known = [o for o in orders if o.user_id is not None]
    counted = 0
    for lo in range(0, len(known), LEARN_ORDERS_PER_ROUND_TRIP):
        calls = [
            order_call(keys, settings, o, now_ms)
            for o in known[lo : lo + LEARN_ORDERS_PER_ROUND_TRIP]
        ]
        answers = await store.runner.run(calls)
        moves = move_calls(keys, settings, calls, answers, now_ms)
        guards = Guards(keys, settings)
        guards.note([*calls, *moves])
        await store.runner.run([*moves, *guards.commit_calls({}, now_ms)])
        counted += sum(1 for a in answers if a)
    return counted


def _item_calls(
    store: EventStore, counts: BulkCounts, *, fresh: bool
) -> Iterator[tuple[Call, int]]:
    """Step 2: (call, members) per item: its co-purchase zset and its landmark. Unless the
    namespace is ``fresh`` (an interrupted load is redone), each zset is deleted first."""
    for code, item in enumerate(counts.vocab):
        keys = store.keys.item(item)
        partners, weights = counts.partners(code)
        if len(partners):
            if not fresh:
                yield ("DEL", keys.pairs), 1
            members = [
                (counts.vocab[p], w)
                for p, w in zip(partners.tolist(), weights.tolist(), strict=True)
            ]
            yield from _chunked_zadd(keys.pairs, members)
        if code in counts.landmarks:
            yield ("HSET", keys.info, "L", _fmt(counts.landmarks[code])), 1


def _history_calls(
    store: EventStore, histories: dict[str, dict[str, float]]
) -> Iterator[tuple[Call, int]]:
    """Step 3's purchase histories as PURCHASE_USER leaves them: the newest
    ``max_history_items`` of each, expiring ``history_ttl_days`` from now."""
    learning = store.settings.learning
    ttl = learning.history_ttl_days * 86400
    for user, mine in histories.items():
        kept = sorted(mine.items(), key=lambda it: (it[1], it[0]))[-learning.max_history_items :]
        key = store.keys.history(user)
        yield ("HSET", key, *[x for item, ts in kept for x in (item, number_arg(ts))]), len(kept)
        yield ("EXPIRE", key, ttl), 1


def _done_calls(store: EventStore, event_ids: list[str]) -> Iterator[tuple[Call, int]]:
    """Step 3's done markers: MARK_DONE calls of 1,000 keys on a single Redis, one SET per key
    on a cluster (keys in many slots)."""
    ttl = store.settings.learning.dedup_horizon_seconds
    keys = [store.keys.done(Stream.ORDERS, eid) for eid in event_ids]
    if store.settings.redis.cluster:
        for key in keys:
            yield ("SET", key, "1", "EX", ttl), 1
        return
    for lo in range(0, len(keys), 1000):
        yield (MARK_DONE, keys[lo : lo + 1000], [ttl]), 1000


def _chunked_zadd(key: str, members: Sequence[tuple[str, float]]) -> Iterator[tuple[Call, int]]:
    for lo in range(0, len(members), MEMBERS_PER_ROUND_TRIP):
        part = members[lo : lo + MEMBERS_PER_ROUND_TRIP]
        yield ("ZADD", key, *[x for member, w in part for x in (w, member)]), len(part)


async def _send(store: EventStore, calls: Iterator[tuple[Call, int]]) -> int:
    """Pipeline ``calls`` in round trips of about MEMBERS_PER_ROUND_TRIP members; returns
    the number of zset members added."""
    batch: list[Call] = []
    size = added = 0
    for call, members in calls:
        batch.append(call)
        size += members
        if size >= MEMBERS_PER_ROUND_TRIP:
            added += _zadded(batch, await store.runner.run(batch))
            batch, size = [], 0
    return added + _zadded(batch, await store.runner.run(batch))


def _zadded(batch: list[Call], results: list[Any]) -> int:
    return sum(int(r) for c, r in zip(batch, results, strict=True) if c[0] == "ZADD")


def _fmt(x: float) -> str:
    """As the Lua prelude's ``fmt`` (``%.17g``): how landmarks are stored."""
    return f"{x:.17g}"
