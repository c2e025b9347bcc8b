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
from collections.abc import AsyncIterator
from typing import Any

import faust

from config.settings import Settings
from streams.handler import BatchHandler, Output, Record, encode
from streams.resilience import deliver, throttle_kafka_logs, watch_kafka
from streams.startup import announce_state
from streams.topics import Topics, declare_topics
from xsell.engine import Engine
from xsell.kafka_clients import faust_credentials
from xsell.store.apply import Store

log = logging.getLogger(__name__)


def faust_app(settings: Settings) -> faust.App:
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
            if handler is None:
                handler = BatchHandler(await runtime.engine(), name, limits)
            records = [
                Record(e.message.topic, e.message.partition, e.message.offset, e.message.value)
                for e in events
            ]
            out = await handler.handle(records)
            if out.suggestions or out.dead_letters:
                what = (
                    f"{len(out.suggestions)} suggestion(s) and {len(out.dead_letters)} "
                    f"dead letter(s) of {records[0].where}.."
                )
                await deliver(functools.partial(send_outputs, out), what, settings.kafka_brokers)
            yield None

    async def send_outputs(out: Output) -> None:
        futures = [
            await topics.suggestions.send(
                key=None if key is None else key.encode(), value=encode(value)
            )
            for key, value in out.suggestions
        ]
        futures += [await topics.dead_letter.send(value=encode(d)) for d in out.dead_letters]
        await asyncio.gather(*futures)

    throttle_kafka_logs()

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

    return app, topics
