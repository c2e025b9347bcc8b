"""Redis state loss: detection (``xsell status``, the worker's start and per-batch epoch check)
and the rebuild from Kafka (``xsell rebuild``).

The state's *epoch* is the meta hash's ``created`` field, written by the first purchase ever
applied (APPLY_POPULARITY). A worker remembers it and checks it on every batch
(:meth:`xsell.store.core.apply.Store.check_epoch`): if it vanishes or changes, the Redis state was
lost (restart without persistence, flush, failover to an empty replica) and the worker logs an
ERROR ``Redis state lost``, then keeps going (suggestions fall back to popular items).

``xsell rebuild`` replays the input topics from the beginning, with its own consumer (manual
assignment, no consumer group, so the workers' offsets are untouched), through the same
``Store.apply`` as the worker, without producing suggestions. Effects are idempotent per event
id, so running it while workers run, or twice, counts nothing twice. What it can rebuild is
bounded by the topics' retention; ``xsell backfill FILE`` rebuilds from an orders export.

Followed-by (and buy-again) depend on the order of each user's purchases, and the orders the
workers applied after the loss came before the older ones the rebuild applies: so while the
state is lost no apply learns them (xsell/store/core/epoch.py), and a rebuild of a lost state
learns them for every order it replayed, in order, in one pass at the end (the replayed
orders are held in memory until then), before it marks the state rebuilt. Orders a worker
applies after the rebuild's reader ended and before that mark are left without followed-by.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition

from xsell.config.settings import Settings
from xsell.engine import followed_tuning_status, rebuy_tuning_status, tuning_status
from xsell.kafka_clients import consumer, kafka_has_records, unreachable
from xsell.models.errors import InvalidEvent
from xsell.models.events import CatalogItem, Event, PurchaseEvent
from xsell.models.validate import parse_record
from xsell.notify.views import notification_counts
from xsell.ops.loading import backfill
from xsell.store import Position, Store, epoch_text, state_clock, unrepaired

log = logging.getLogger(__name__)

REBUILD_BATCH = 500
ENTITY_TOPICS = ("catalog",)  # applied first: latest value per key
EVENT_TOPICS = ("orders", "cart-events")  # then merged by record timestamp


async def state_status(store: Store, *, check_kafka: bool = True) -> dict[str, Any]:
    """``xsell status``: ``lost`` (a worker saw the state vanish and it was not rebuilt
    since, or Redis is empty while Kafka holds orders), ``present`` or ``empty``.

    ``orders`` is the decayed order count at the latest event (the stored total is relative
    to a forward-decay landmark and means nothing by itself); with no decay it is the exact
    number of orders applied."""
    settings = store.settings
    summary = await store.ops.summary()
    created, lost_at, lost_epoch, rebuilt_at = (
        summary.created,
        summary.lost_at,
        summary.lost_epoch,
        summary.rebuilt_at,
    )
    clock = await state_clock(store)
    down = unreachable(settings) if check_kafka else None
    kafka = kafka_has_records(settings) if check_kafka and not down else None
    if unrepaired(lost_at, rebuilt_at) or (created is None and kafka):
        state = "lost"
    else:
        state = "present" if created is not None else "empty"
    return {
        "state": state,
        "namespace": settings.redis.key_namespace,
        "redis": store.where,
        "created": epoch_text(created) if created else None,
        "orders": _exact(clock.orders_now) if created else None,
        "orders_unit": orders_unit(settings.learning.half_life_days),
        "items": summary.items,
        "catalog": summary.catalog,
        "latest_event_ts": _exact(clock.latest) if clock.latest else None,
        "latest_event": epoch_text(clock.latest * 1000) if clock.latest else None,
        "lost_at": epoch_text(lost_at) if lost_at else None,
        "lost_state_created": epoch_text(lost_epoch)
        if lost_epoch not in (None, "unknown")
        else lost_epoch,
        "rebuilt_at": epoch_text(rebuilt_at) if rebuilt_at else None,
        "kafka": down or ("not asked" if not check_kafka else "reachable"),
        "tuning": await tuning_status(store, settings),
        "followed_tuning": await followed_tuning_status(store, settings),
        "rebuy_tuning": await rebuy_tuning_status(store, settings),
        "kafka_orders_topic_has_records": kafka,
        "notifications": await notification_counts(store),
    }


def orders_unit(half_life_days: float) -> str:
    """What the ``orders`` figure of ``xsell status`` counts."""
    if half_life_days <= 0:
        return "orders applied (no decay)"
    return (
        f"orders, each weighted 2^(-age / {half_life_days:g} days) at the latest event "
        "(XSELL_HALF_LIFE_DAYS)"
    )


async def mark_rebuilt(store: Store) -> None:
    """Record that the state was rebuilt (``xsell status`` stops reporting the loss)."""
    await store.ops.mark_rebuilt(int(time.time() * 1000))


def _exact(value: float) -> float | int:
    """An integer-valued figure as an int, else rounded to 3 decimals (for people)."""
    return int(value) if value.is_integer() else round(value, 3)


@dataclass
class RebuildSummary:
    records: int = 0
    applied: int = 0
    duplicates: int = 0
    invalid: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "per_topic": self.per_topic,
            "seconds": round(self.seconds, 2),
        }


def _read_all(settings: Settings, topics: Sequence[str], idle: float) -> Iterator[list[Any]]:
    """Every record of ``topics`` from the beginning, a poll at a time (records of one poll
    sorted by timestamp); ends once every partition passed its end offset as read at the
    start and a poll stayed empty for ``idle`` seconds."""
    cons = consumer(
        settings,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=REBUILD_BATCH,
    )
    try:
        tps = [
            TopicPartition(settings.topic(t), p)
            for t in topics
            for p in sorted(cons.partitions_for_topic(settings.topic(t)) or ())
        ]
        if not tps:
            return
        cons.assign(tps)
        cons.seek_to_beginning(*tps)
        end = cons.end_offsets(tps)
        quiet_since = time.monotonic()
        while True:
            polled = cons.poll(timeout_ms=int(min(idle, 1.0) * 1000))
            records = [r for batch in polled.values() for r in batch]
            if records:
                quiet_since = time.monotonic()
                records.sort(key=lambda r: (r.timestamp, r.topic, r.partition, r.offset))
                yield records
                continue
            reached = all(cons.position(tp) >= end[tp] for tp in tps)
            if reached and time.monotonic() - quiet_since >= idle:
                return
            if time.monotonic() - quiet_since > max(60.0, 10 * idle):
                log.warning(
                    "rebuild: no records for %.0fs before reaching the end offsets "
                    "read at the start; stopping",
                    time.monotonic() - quiet_since,
                )
                return
    finally:
        cons.close()


def _stream_name(settings: Settings, topic: str) -> str:
    return topic[len(settings.kafka.topic_prefix) :]


async def rebuild(
    store: Store, *, idle: float = 2.0, topics: Sequence[str] = (*ENTITY_TOPICS, *EVENT_TOPICS)
) -> RebuildSummary:
    """Apply every event of ``topics`` (logical names) from the beginning (module doc)."""
    settings = store.settings
    limits = settings.limits
    summary = RebuildSummary()
    started = time.monotonic()
    lost = await store.state_lost()
    replayed: list[PurchaseEvent] = []  # a lost state's followed-by is learnt at the end
    groups = [
        [t for t in topics if t in ENTITY_TOPICS],
        [t for t in topics if t not in ENTITY_TOPICS],
    ]
    for group in (g for g in groups if g):
        reader = _read_all(settings, group, idle)
        while True:
            records = await asyncio.to_thread(next, reader, None)
            if records is None:
                break
            events: list[Event] = []
            positions: list[Position | None] = []
            for record in records:
                stream = _stream_name(settings, record.topic)
                summary.records += 1
                summary.per_topic[stream] = summary.per_topic.get(stream, 0) + 1
                try:
                    events.append(parse_record(stream, record.value, limits))
                except InvalidEvent:
                    summary.invalid += 1  # it went to the dead letter when it was live
                    continue
                # the worker's positions: what a rebuild applied, the worker skips, and back
                positions.append(
                    Position(
                        f"{record.topic}:{record.partition}", record.offset, record.timestamp / 1000
                    )
                )
            if lost:
                replayed += [e for e in events if isinstance(e, PurchaseEvent)]
            # state only, no report
            effects = await store.apply(events, attribute=False, positions=positions)
            dup = sum(1 for e in effects if e.duplicate)
            summary.duplicates += dup
            summary.applied += len(effects) - dup
    if lost:
        await store.learn_follow_ups(replayed)
    await mark_rebuilt(store)
    summary.seconds = time.monotonic() - started
    log.info("rebuild: %s", summary.as_dict())
    return summary


async def rebuild_from_kafka(store: Store, *, idle: float = 2.0) -> dict[str, Any]:
    """``xsell rebuild``: :func:`rebuild`, as the command reports it."""
    return {"source": "kafka", **(await rebuild(store, idle=idle)).as_dict()}


async def rebuild_from_file(
    store: Store, orders: Sequence[PurchaseEvent], catalog: Iterable[CatalogItem], *, source: str
) -> dict[str, Any]:
    """``xsell rebuild --file``: the orders through the worker's scripts (idempotent), then
    the state marked rebuilt."""
    lost = await store.state_lost()
    summary = await backfill(store, orders, total=len(orders), catalog=catalog)
    if lost:  # followed-by: not learnt while lost (xsell/store/core/epoch.py)
        await store.learn_follow_ups(orders)
    await mark_rebuilt(store)
    return {"source": source, **summary.as_dict()}
