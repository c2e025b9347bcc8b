"""Redis state loss: detection (``xsell status``, the worker's start and per-batch epoch check)
and the rebuild from Kafka (``xsell rebuild``).

The state's *epoch* is the meta hash's ``created`` field, written by the first purchase ever
applied (APPLY_POPULARITY). A worker remembers it and checks it on every batch
(:meth:`xsell.store.apply.Store.observe_epoch`): if it vanishes or changes, the Redis state was
lost (restart without persistence, flush, failover to an empty replica) and the worker logs an
ERROR ``Redis state lost``, then keeps going (suggestions fall back to popular items).

``xsell rebuild`` replays the input topics from the beginning, with its own consumer (manual
assignment, no consumer group, so the workers' offsets are untouched), through the same
``Store.apply`` as the worker, without producing suggestions. Effects are idempotent per event
id, so running it while workers run, or twice, counts nothing twice. What it can rebuild is
bounded by the topics' retention; ``xsell backfill FILE`` rebuilds from an orders export.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import TopicPartition
from redis.exceptions import RedisError

from config.settings import Settings
from models.errors import InvalidEvent
from models.events import Event, Limits
from models.validate import parse_record
from xsell.kafka_clients import admin, consumer
from xsell.store.apply import Store, epoch_text

log = logging.getLogger(__name__)

REBUILD_BATCH = 500
ENTITY_TOPICS = ("catalog",)  # applied first: latest value per key
EVENT_TOPICS = ("orders", "cart-events")  # then merged by record timestamp


LISTPACK_WARN_ABOVE = 32


async def check_tuning(store: Store) -> int | None:
    """Warn when Redis keeps mid-sized sorted sets as listpacks (``zset-max-listpack-entries``
    above 32), which makes pair updates ~4x dearer (xsell/devenv/servers.py). Returns the value, or
    None where CONFIG GET is not allowed (managed Redis, ACL): then it is only logged."""
    if store.settings.redis_cluster:  # CONFIG has no key to route by; check each node by hand
        log.info(
            "Redis Cluster: zset-max-listpack-entries not checked; 16 is recommended on "
            "every node (docs/benchmarks.md)"
        )
        return None
    try:
        (reply,) = await store.runner.run([("CONFIG", "GET", "zset-max-listpack-entries")])
        flat = next(iter(reply.items())) if isinstance(reply, dict) else reply
        value = int(flat[1])
    except (RedisError, ValueError, IndexError, TypeError, StopIteration) as exc:
        log.info(
            "could not read Redis zset-max-listpack-entries (%s); 16 is recommended "
            "(docs/benchmarks.md)",
            exc,
        )
        return None
    if value > LISTPACK_WARN_ABOVE:
        log.warning(
            "Redis at %s has zset-max-listpack-entries %d: pair updates cost ~4x more "
            "Redis CPU than with 16 (CONFIG SET zset-max-listpack-entries 16, or "
            "--zset-max-listpack-entries 16; docs/benchmarks.md)",
            store.runner.where,
            value,
        )
    return value


async def announce_state(store: Store) -> str | None:
    """At worker start: remember the state epoch and say what Redis holds. No state while the
    consumer group has committed offsets on the orders topic means orders were applied before
    and the state is gone: the loss is logged and recorded like one seen mid-stream."""
    settings = store.settings
    await check_tuning(store)
    committed = await asyncio.to_thread(group_committed_orders, settings)  # before the epoch
    epoch = await store.read_epoch()
    await store.check_epoch(epoch)
    ns = settings.key_namespace
    if epoch is not None:
        (orders,) = await store.runner.run([("HGET", store.keys.meta, "N")])
        log.info(
            "Redis state of namespace %r: created %s, %s orders", ns, epoch_text(epoch), orders
        )
    elif committed:
        store.state_losses += 1
        log.error(
            "Redis state lost: namespace %r at %s holds no state, but consumer group %r "
            "has committed offsets on the orders topic, so orders were applied before. "
            "Suggestions fall back to popular items until it is rebuilt: `xsell "
            "rebuild` or `xsell rebuild --file ORDERS` (docs/reliability.md)",
            ns,
            store.runner.where,
            settings.app_id,
        )
        await store.mark_lost("unknown")
    else:
        log.warning(
            "Redis at %s holds no xsell state for namespace %r yet (no purchase "
            "applied): a new deployment",
            store.runner.where,
            ns,
        )
    return epoch


def group_committed_orders(settings: Settings, timeout: float = 5.0) -> bool | None:
    """Whether the workers' consumer group has committed an offset > 0 on the orders topic
    (None: could not tell, e.g. Kafka unreachable or no permission to describe the group)."""
    try:
        client = admin(settings, timeout=timeout)
    except Exception as exc:
        log.warning("cannot read the committed offsets of %r: %s", settings.app_id, exc)
        return None
    try:
        if hasattr(client, "list_group_offsets"):  # kafka-python >= 3
            offsets = client.list_group_offsets(settings.app_id).get(settings.app_id, {})
        else:
            offsets = client.list_consumer_group_offsets(settings.app_id)
        topic = settings.topic("orders")
        return any(tp.topic == topic and meta.offset > 0 for tp, meta in offsets.items())
    except Exception as exc:
        log.warning("cannot read the committed offsets of %r: %s", settings.app_id, exc)
        return None
    finally:
        client.close()


def kafka_has_records(
    settings: Settings, topic: str = "orders", timeout: float = 10.0
) -> bool | None:
    """Whether ``topic`` holds any record (None: Kafka did not answer). Uses begin/end offsets
    only, which is exact enough for "any record" even on brokers whose end offset is the last
    batch's base offset + 1."""
    try:
        cons = consumer(
            settings,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=int(timeout * 1000) + 1000,
        )
    except Exception as exc:
        log.warning("Kafka at %s: %s", settings.kafka_brokers, exc)
        return None
    try:
        parts = cons.partitions_for_topic(settings.topic(topic)) or set()
        tps = [TopicPartition(settings.topic(topic), p) for p in sorted(parts)]
        if not tps:
            return False
        begin = cons.beginning_offsets(tps)
        end = cons.end_offsets(tps)
        return any(end[tp] > begin[tp] for tp in tps)
    except Exception as exc:
        log.warning("Kafka at %s: %s", settings.kafka_brokers, exc)
        return None
    finally:
        cons.close()


async def state_status(store: Store, *, check_kafka: bool = True) -> dict[str, Any]:
    """``xsell status``: ``lost`` (a worker saw the state vanish and it was not rebuilt
    since, or Redis is empty while Kafka holds orders), ``present`` or ``empty``."""
    k = store.keys
    meta, items, catalog = await store.runner.run(
        [
            ("HMGET", k.meta, "created", "N", "T", "lost_at", "lost_epoch", "rebuilt_at"),
            ("ZCARD", k.popularity),
            ("HLEN", k.catalog),
        ]
    )
    created, n, latest, lost_at, lost_epoch, rebuilt_at = meta
    kafka = kafka_has_records(store.settings) if check_kafka else None
    unrepaired = lost_at is not None and (rebuilt_at is None or int(rebuilt_at) < int(lost_at))
    if unrepaired or (created is None and kafka):
        state = "lost"
    else:
        state = "present" if created is not None else "empty"
    return {
        "state": state,
        "namespace": store.settings.key_namespace,
        "redis": store.runner.where,
        "created": epoch_text(created) if created else None,
        "orders": _number(n),
        "items": int(items),
        "catalog": int(catalog),
        "latest_event_ts": _number(latest),
        "lost_at": epoch_text(lost_at) if lost_at else None,
        "lost_state_created": epoch_text(lost_epoch)
        if lost_epoch not in (None, "unknown")
        else lost_epoch,
        "rebuilt_at": epoch_text(rebuilt_at) if rebuilt_at else None,
        "kafka_orders_topic_has_records": kafka,
    }


async def mark_rebuilt(store: Store) -> None:
    """Record that the state was rebuilt (``xsell status`` stops reporting the loss)."""
    await store.runner.run([("HSET", store.keys.meta, "rebuilt_at", int(time.time() * 1000))])


def _number(text: str | None) -> float | int | None:
    if text is None:
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


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
    return topic[len(settings.topic_prefix) :]


async def rebuild(
    store: Store, *, idle: float = 2.0, topics: Sequence[str] = (*ENTITY_TOPICS, *EVENT_TOPICS)
) -> RebuildSummary:
    """Apply every event of ``topics`` (logical names) from the beginning (module doc)."""
    settings = store.settings
    limits = Limits(settings.max_id_length, settings.max_order_lines, settings.max_payload_bytes)
    summary = RebuildSummary()
    started = time.monotonic()
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
            for record in records:
                stream = _stream_name(settings, record.topic)
                summary.records += 1
                summary.per_topic[stream] = summary.per_topic.get(stream, 0) + 1
                try:
                    events.append(parse_record(stream, record.value, limits))
                except InvalidEvent:
                    summary.invalid += 1  # it went to the dead letter when it was live
            effects = await store.apply(events)
            dup = sum(1 for e in effects if e.duplicate)
            summary.duplicates += dup
            summary.applied += len(effects) - dup
    await mark_rebuilt(store)
    summary.seconds = time.monotonic() - started
    log.info("rebuild: %s", summary.as_dict())
    return summary
