"""The Faust app: three thin agents (cart events, orders, catalogue).

Each agent takes a micro-batch of records, hands it to :class:`streams.handler.BatchHandler`,
sends the suggestions and dead letters, and waits until Kafka has them; only then does Faust
acknowledge the batch (``take_events`` acks after the loop body), so nothing is committed
before its effects are durable in Redis and its outputs in Kafka. Redis and Kafka outages are
waited for, never turned into exceptions that would ack a batch whose outputs were not sent
(``Runner`` retries Redis; :func:`streams.resilience.deliver` retries the sends; a watchdog
task logs while Kafka does not answer). See docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import faust
from faust.types import TP

from config.settings import Settings
from streams import metrics
from streams.handler import BatchHandler, Record, encode
from streams.notify import install as install_notify
from streams.outputs import record_outputs
from streams.resilience import deliver, throttle_kafka_logs, watch_kafka
from streams.startup import announce_state
from streams.topics import Topics, declare_topics
from xsell.engine import Engine
from xsell.kafka_clients import faust_credentials, use_fetch_wait
from xsell.store import Published, Store

log = logging.getLogger(__name__)


def faust_app(settings: Settings) -> faust.App:
    """The Faust app with xsell's Kafka settings (docs/reliability.md for the choices)."""
    use_fetch_wait(settings.kafka_fetch_max_wait_ms)
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{host}" for host in settings.broker_list],
        store="memory://",
        topic_partitions=settings.topic_partitions,
        broker_session_timeout=settings.kafka_session_timeout,
        broker_heartbeat_interval=settings.kafka_heartbeat_interval,
        broker_max_poll_interval=settings.kafka_max_poll_interval,
        broker_commit_interval=settings.kafka_commit_interval,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        producer_acks=-1,
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,  # no leader-only work; avoids an extra internal topic
        broker_credentials=faust_credentials(settings),  # TLS / SASL (docs/security.md)
    )


class Runtime:
    """The engine, opened lazily inside the worker's event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._engine: Engine | None = None
        self._lock = asyncio.Lock()

    async def engine(self) -> Engine:
        async with self._lock:
            if self._engine is None:
                store = await Store.open(self.settings)
                await announce_state(store)  # remembers the state epoch: loss detection
                self._engine = Engine(store, self.settings)
            return self._engine


def create_app(settings: Settings) -> tuple[faust.App, Topics]:
    app = faust_app(settings)
    topics = declare_topics(app, settings)
    runtime = Runtime(settings)
    limits = settings.limits

    async def run(stream: Any, name: str) -> AsyncIterator[None]:
        handler: BatchHandler | None = None
        async for events in stream.take_events(settings.batch_size, settings.batch_window):
            started = time.monotonic()
            if handler is None:
                handler = BatchHandler(await runtime.engine(), name, limits)
            store = handler.engine.store
            duplicates = store.duplicate_events
            records = [
                Record(
                    e.message.topic,
                    e.message.partition,
                    e.message.offset,
                    e.message.value,
                    e.message.timestamp,
                )
                for e in events
            ]
            out = await handler.handle(records)
            await notify.observe(name, records)  # notification triggers (streams/notify.py)
            published = [
                Published(key, None if v is None else v["placement"], _text(encode(v)))
                for key, v in out.suggestions
            ]
            if out.suggestions or out.dead_letters:
                what = (
                    f"{len(out.suggestions)} suggestion(s) and {len(out.dead_letters)} "
                    f"dead letter(s) of {records[0].where}.."
                )
                send = functools.partial(send_outputs, published, out.dead_letters)
                await deliver(send, what, settings.kafka_brokers)
            await record_outputs(store, name, records, out, published)
            placements = [p.placement for p in published if p.placement is not None]
            metrics.record_batch(
                name,
                len(records),
                store.duplicate_events - duplicates,
                len(out.dead_letters),
                placements,
                time.monotonic() - started,
            )
            metrics.record_tuning(handler.engine.tuner)
            _record_lag(app, records)
            yield None

    async def send_outputs(published: list[Published], dead: list[dict[str, Any]]) -> None:
        futures = [
            await topics.suggestions.send(
                key=None if p.user_id is None else p.user_id.encode(),
                value=None if p.payload is None else p.payload.encode(),
            )
            for p in published
        ]
        futures += [await topics.dead_letter.send(value=encode(d)) for d in dead]
        await asyncio.gather(*futures)

    throttle_kafka_logs()
    metrics.serve(settings.metrics_host, settings.metrics_port)

    @app.task
    async def kafka_watchdog() -> None:
        await watch_kafka(app, settings.kafka_brokers)

    @app.agent(topics.cart_events, name="xsell.cart")
    async def cart_agent(stream: Any) -> None:
        async for _ in run(stream, "cart-events"):
            pass

    @app.agent(topics.orders, name="xsell.orders")
    async def order_agent(stream: Any) -> None:
        async for _ in run(stream, "orders"):
            pass

    @app.agent(topics.catalog, name="xsell.catalog")
    async def catalog_agent(stream: Any) -> None:
        async for _ in run(stream, "catalog"):
            pass

    @app.agent(topics.feedback, name="xsell.feedback")
    async def feedback_agent(stream: Any) -> None:
        async for _ in run(stream, "feedback"):
            pass

    notify = install_notify(app, settings, runtime, topics.dead_letter)  # profiles, due loop
    return app, topics


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _record_lag(app: faust.App, records: list[Record]) -> None:
    """Each partition's lag after its last record of the batch (Prometheus)."""
    last: dict[tuple[str, int], int] = {}
    for r in records:
        last[(r.topic, r.partition)] = r.offset
    for (topic, partition), offset in last.items():
        try:
            highwater = app.consumer.highwater(TP(topic, partition))
        except Exception:  # not known yet (no fetch answered), or no consumer
            highwater = None
        metrics.record_lag(topic, partition, highwater, offset)
