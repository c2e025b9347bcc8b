"""Loading order history: ``xsell backfill`` (straight into Redis) and ``xsell replay`` (to
Kafka as purchase events).

Backfill applies the orders through the very store code the worker runs (same Lua scripts,
same dedup markers, same order), in larger batches and without ranking, so it leaves exactly
the state that replaying the same orders as events would; both are idempotent per order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from config.settings import Settings
from models.events import CatalogItem, PurchaseEvent
from xsell.csvio import catalog_to_json, order_to_json
from xsell.kafka_admin import producer, send_json
from xsell.progress import Progress
from xsell.store.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKFILL_BATCH = 500


@dataclass
class LoadSummary:
    orders: int = 0
    lines: int = 0
    applied: int = 0
    duplicates: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        rate = self.lines / self.seconds if self.seconds else 0.0
        return {"orders": self.orders, "lines": self.lines, "applied": self.applied,
                "duplicates": self.duplicates, "seconds": round(self.seconds, 2),
                "lines_per_second": round(rate)}


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def backfill(store: Store, orders: Iterable[PurchaseEvent], *, total: int | None = None,
                   batch: int = BACKFILL_BATCH,
                   catalog: Iterable[CatalogItem] = ()) -> LoadSummary:
    """Apply ``catalog`` then ``orders`` to Redis in batches; returns counts (duplicates =
    orders already applied)."""
    summary = LoadSummary()
    for items in chunks(catalog, batch):
        await store.apply(items)
    with Progress("backfill", total) as progress:
        for chunk in chunks(orders, batch):
            effects = await store.apply(chunk)
            dup = sum(1 for e in effects if e.duplicate)
            summary.orders += len(chunk)
            summary.lines += sum(len(o.items) for o in chunk)
            summary.duplicates += dup
            summary.applied += len(chunk) - dup
            progress.advance(len(chunk))
        summary.seconds = progress.seconds
    return summary


def replay(settings: Settings, orders: Iterable[PurchaseEvent], *,
           total: int | None = None, catalog: Iterable[CatalogItem] = ()) -> LoadSummary:
    """Send ``catalog`` to the catalog topic, then ``orders`` to the orders topic as purchase
    events keyed by user id."""
    summary = LoadSummary()
    prod = producer(settings)
    topic = settings.topic("orders")
    try:
        for item in catalog:
            send_json(prod, settings.topic("catalog"), item.item_id, catalog_to_json(item))
        with Progress("replay", total) as progress:
            for order in orders:
                send_json(prod, topic, order.user_id, order_to_json(order))
                summary.orders += 1
                summary.lines += len(order.items)
                progress.advance()
            prod.flush()
            summary.seconds = progress.seconds
    finally:
        prod.close()
    summary.applied = summary.orders
    return summary
