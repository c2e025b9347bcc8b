"""Load generator and suggestion consumer (aiokafka, one event loop in the bench process).

Latency is measured here, in one process and on one clock: from just before an event is handed
to the producer to the moment its suggestion (matched by the trigger's ``event_id``) is read
from the suggestions topic. Full speed (``rate`` 0) sends everything at once and measures
throughput as suggestions received / (last received - first sent); a fixed rate sends event i
at ``start + i / rate``. A run stops sending after ``max_seconds`` and waits at most
``drain_seconds`` more for outstanding suggestions; what is still missing then is reported.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from xsell.bench.workload import BenchEvent, event_id_of
from xsell.config.settings import Settings
from xsell.models.errors import XsellError

log = logging.getLogger(__name__)


@dataclass
class LoadResult:
    sent: int = 0
    received: int = 0
    lines: int = 0  # order lines of the events whose suggestion was received
    first_sent: float = 0.0
    last_received: float = 0.0
    send_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, in arrival order

    @property
    def seconds(self) -> float:
        return max(self.last_received - self.first_sent, 1e-9)


def _check_plaintext(settings: Settings) -> None:
    if settings.kafka.security_protocol != "PLAINTEXT":
        raise XsellError(
            "xsell bench supports PLAINTEXT brokers only (a private broker is "
            "started when XSELL_KAFKA_BROKERS is unset)"
        )


def producer(settings: Settings) -> AIOKafkaProducer:
    _check_plaintext(settings)
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka.broker_list,
        acks=1,
        linger_ms=0,
        enable_idempotence=False,
        max_batch_size=256 * 1024,
    )


def consumer(settings: Settings) -> AIOKafkaConsumer:
    _check_plaintext(settings)
    return AIOKafkaConsumer(
        settings.topic("suggestions"),
        bootstrap_servers=settings.kafka.broker_list,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=5,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )


class Collector:
    """Reads suggestions and records each awaited event's latency once."""

    def __init__(self, cons: AIOKafkaConsumer) -> None:
        self.consumer = cons
        self.sent_at: dict[str, tuple[float, int]] = {}  # event_id -> (sent time, lines)
        self.result = LoadResult()
        self.done = asyncio.Event()
        self.expected = -1  # set when sending is over

    async def run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=20, max_records=5000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    eid = None if record.value is None else event_id_of(record.value)
                    sent = self.sent_at.pop(eid, None) if eid is not None else None
                    if sent is None:
                        continue  # warm-up, duplicate after a rebalance, or not ours
                    self.result.latencies.append(now - sent[0])
                    self.result.received += 1
                    self.result.lines += sent[1]
                    self.result.last_received = now
            if self.expected >= 0 and self.result.received >= self.expected:
                self.done.set()


async def _send(
    prod: AIOKafkaProducer,
    settings: Settings,
    events: Sequence[BenchEvent],
    collector: Collector,
    rate: float,
    max_seconds: float,
) -> None:
    start = time.perf_counter()
    collector.result.first_sent = start
    pending: list[Any] = []
    for i, event in enumerate(events):
        if rate > 0:
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0.0005:
                await asyncio.sleep(delay)
        if time.perf_counter() - start > max_seconds:
            break
        collector.sent_at[event.event_id] = (time.perf_counter(), event.lines)
        pending.append(await prod.send(settings.topic(event.topic), event.value, key=event.key))
        collector.result.sent += 1
        if len(pending) >= 2000:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    collector.result.send_seconds = time.perf_counter() - start


async def run_load(
    settings: Settings,
    events: Sequence[BenchEvent],
    *,
    rate: float,
    max_seconds: float,
    drain_seconds: float,
) -> LoadResult:
    """Send ``events`` and collect their suggestions (see module doc)."""
    prod, cons = producer(settings), consumer(settings)
    await prod.start()
    await cons.start()
    deadline = time.perf_counter() + 30.0
    while True:  # until assigned and what is already there (warm-up) is read
        got = await cons.getmany(timeout_ms=100, max_records=10000)
        if cons.assignment() and not got:
            break
        if time.perf_counter() > deadline:
            raise XsellError("the suggestions consumer was not ready within 30 s")
    collector = Collector(cons)
    task = asyncio.ensure_future(collector.run())
    try:
        await _send(prod, settings, events, collector, rate, max_seconds)
        collector.expected = collector.result.sent
        remaining = max_seconds - (time.perf_counter() - collector.result.first_sent)
        try:
            await asyncio.wait_for(collector.done.wait(), max(remaining, 0.0) + drain_seconds)
        except TimeoutError:
            log.info(
                "%d of %d suggestions arrived in time",
                collector.result.received,
                collector.result.sent,
            )
        return collector.result
    finally:
        task.cancel()
        await prod.stop()
        await cons.stop()
