"""Loading order history: ``xsell backfill`` (straight into Redis) and ``xsell replay`` (to
Kafka as purchase events).

Backfill has two modes, which leave the same state (models/bulk.py says where they differ:
only in what neighbour pruning keeps, when it prunes):

- ``stream``: the orders go through the very store code the worker runs (same Lua scripts,
  same dedup markers, same order), in larger batches and without ranking, exactly as
  replaying them as events would; works on any state, idempotent per order. Its position
  (:func:`load_source`: the digest of the orders' ids, and the index reached) makes a second
  load of the same orders a no-op at any age; other orders with the same event ids count
  once only within the dedup horizon.
- ``bulk``: for an empty namespace only: the final values are computed in numpy and each key
  is written once (xsell/store/core/bulk.py), several times faster on large files; it records
  the same position as ``stream``, and done markers for the dedup horizon.

``auto`` (the CLI's default) takes ``bulk`` when the namespace is empty, else ``stream``,
and says which it took.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tqdm import tqdm

from xsell.config.settings import Settings
from xsell.kafka_clients import producer, send_json
from xsell.models.bulk import bulk_counts
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.ops.orders_csv import catalog_to_json, order_to_json
from xsell.store import NamespaceNotEmpty, Position, Store, bulk_load, is_bulk_loadable

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKFILL_BATCH = 500
BACKFILL_MODES = ("auto", "bulk", "stream")


@dataclass
class LoadSummary:
    orders: int = 0
    lines: int = 0
    applied: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    mode: str = "stream"
    mode_reason: str = ""

    def as_dict(self) -> dict[str, float | str]:
        rate = self.lines / self.seconds if self.seconds else 0.0
        return {
            "orders": self.orders,
            "lines": self.lines,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "seconds": round(self.seconds, 2),
            "lines_per_second": round(rate),
            "mode": self.mode,
            "mode_reason": self.mode_reason,
        }


def progress_bar(what: str, total: int | None, unit: str, *, enabled: bool = True) -> tqdm[Any]:
    """A progress bar on stderr, shown only when stderr is a terminal (and ``enabled``)."""
    return tqdm(
        total=total,
        desc=what,
        unit=f" {unit}",
        disable=None if enabled else True,
        file=sys.stderr,
        mininterval=0.25,
        dynamic_ncols=True,
    )


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def load_history(
    store: Store,
    orders: Sequence[PurchaseEvent],
    *,
    mode: str = "auto",
    catalog: Iterable[CatalogItem] = (),
) -> LoadSummary:
    """``xsell backfill``: ``catalog`` then ``orders`` in ``mode`` (module doc)."""
    if mode not in BACKFILL_MODES:
        raise ValueError(f"unknown backfill mode {mode!r}")
    loadable, why = await is_bulk_loadable(store)
    if mode == "bulk" and not loadable:
        raise NamespaceNotEmpty(f"bulk backfill refused: {why}; use --mode stream")
    if mode == "stream" or not loadable:
        reason = "asked for" if mode == "stream" else f"{why}: streaming through the scripts"
        log.info("backfill mode stream (%s)", reason)
        summary = await backfill(store, orders, total=len(orders), catalog=catalog)
        summary.mode_reason = reason
        return summary
    log.info("backfill mode bulk (%s)", why)
    return await bulk_backfill(store, orders, catalog=catalog, checked=why)


async def bulk_backfill(
    store: Store,
    orders: Sequence[PurchaseEvent],
    *,
    catalog: Iterable[CatalogItem] = (),
    checked: str | None = None,
) -> LoadSummary:
    """Bulk mode: compute the final state in numpy, write each key once. ``checked``: the
    reason a just-made :func:`is_bulk_loadable` check gave (else :func:`bulk_load` checks)."""
    started = time.monotonic()
    for items in chunks(catalog, BACKFILL_BATCH):
        await store.apply(items, attribute=False)
    s = store.settings
    counts = bulk_counts(
        orders,
        half_life=s.learning.half_life_seconds,
        max_items_per_order=s.learning.max_items_per_order,
        max_neighbors=s.learning.max_neighbors,
    )
    position = (load_source(orders), len(orders) - 1) if orders else None
    written = await bulk_load(store, counts, checked=checked, position=position, orders=orders)
    applied = len(counts.event_ids)
    return LoadSummary(
        orders=len(orders),
        lines=sum(len(o.items) for o in orders),
        applied=applied,
        duplicates=len(orders) - applied,
        seconds=time.monotonic() - started,
        mode="bulk",
        mode_reason=written["why"],
    )


async def backfill(
    store: Store,
    orders: Iterable[PurchaseEvent],
    *,
    total: int | None = None,
    batch: int = BACKFILL_BATCH,
    catalog: Iterable[CatalogItem] = (),
) -> LoadSummary:
    """Stream mode: apply ``catalog`` then ``orders`` to Redis in batches through the store;
    returns counts (duplicates = orders already applied)."""
    summary = LoadSummary()
    for items in chunks(catalog, batch):
        await store.apply(items, attribute=False)
    started = time.monotonic()
    orders = list(orders)
    source = load_source(orders)
    at = 0
    with progress_bar("backfill", total, "orders") as bar:
        for chunk in chunks(orders, batch):
            where: list[Position | None] = [Position(source, at + i) for i in range(len(chunk))]
            at += len(chunk)
            effects = await store.apply(chunk, attribute=False, positions=where)
            dup = sum(1 for e in effects if e.duplicate)
            summary.orders += len(chunk)
            summary.lines += sum(len(o.items) for o in chunk)
            summary.duplicates += dup
            summary.applied += len(chunk) - dup
            bar.update(len(chunk))
    summary.seconds = time.monotonic() - started
    return summary


def load_source(orders: Sequence[PurchaseEvent]) -> str:
    """The input source a history load records its position under (xsell/store/core/
    guards.py): the digest of its event ids in order, so loading the same orders again is a
    redelivery at any age, and any other list of orders is a new source."""
    digest = hashlib.sha256()
    for order in orders:
        digest.update(order.event_id.encode())
        digest.update(b"\n")
    return f"load:{digest.hexdigest()[:24]}"


def replay(
    settings: Settings,
    orders: Iterable[PurchaseEvent],
    *,
    total: int | None = None,
    catalog: Iterable[CatalogItem] = (),
) -> LoadSummary:
    """Send ``catalog`` to the catalog topic, then ``orders`` to the orders topic as purchase
    events keyed by user id."""
    summary = LoadSummary()
    prod = producer(settings)
    topic = settings.topic("orders")
    try:
        for item in catalog:
            send_json(prod, settings.topic("catalog"), item.item_id, catalog_to_json(item))
        started = time.monotonic()
        with progress_bar("replay", total, "orders") as bar:
            for order in orders:
                send_json(prod, topic, order.user_id, order_to_json(order))
                summary.orders += 1
                summary.lines += len(order.items)
                bar.update()
            prod.flush()
        summary.seconds = time.monotonic() - started
    finally:
        prod.close()
    summary.applied = summary.orders
    return summary
