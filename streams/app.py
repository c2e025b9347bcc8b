"""The Faust app of the worker: the topics of config/topics.py, one thin agent per batch input
(cart events, orders, catalogue, feedback: :class:`xsell.streams.batch_agent.BatchAgent`), the
notification agent and task (streams/notify.py) and the Kafka watchdog.

Each agent takes a micro-batch of records, hands it to :class:`xsell.streams.handler.BatchHandler`,
sends the suggestions and dead letters, and waits until Kafka has them; only then does Faust
acknowledge the batch (``take_events`` acks after the loop body), so nothing is committed
before its effects are durable in Redis and its outputs in Kafka. Redis and Kafka outages are
waited for, never turned into exceptions that would ack a batch whose outputs were not sent
(``Runner`` retries Redis; :func:`xsell.streams.resilience.deliver` retries the sends; a watchdog
task logs while Kafka does not answer). See docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import faust

from xsell.config.settings import Settings
from xsell.config.topics import BATCH_INPUTS, topic_spec
from xsell.engine import Engine
from xsell.kafka_clients import faust_credentials
from xsell.models.events import Limits
from xsell.store import Store
from xsell.streams import metrics
from xsell.streams.batch_agent import BatchAgent, KafkaOutputs, consumer_lag
from xsell.streams.fetch_wait import use_fetch_wait
from xsell.streams.handler import BatchHandler
from xsell.streams.notify import Notify
from xsell.streams.notify import install as install_notify
from xsell.streams.resilience import throttle_kafka_logs, watch_kafka
from xsell.streams.startup import announce_state
from xsell.streams.topics import Topics, declare_topics

log = logging.getLogger(__name__)


def faust_app(settings: Settings) -> faust.App:
    """The Faust app with xsell's Kafka settings (docs/reliability.md for the choices)."""
    app = faust.App(
        settings.kafka.app_id,
        broker=[f"kafka://{host}" for host in settings.kafka.broker_list],
        store="memory://",
        topic_partitions=settings.kafka.topic_partitions,
        broker_session_timeout=settings.kafka.session_timeout,
        broker_heartbeat_interval=settings.kafka.heartbeat_interval,
        broker_max_poll_interval=settings.kafka.max_poll_interval,
        broker_commit_interval=settings.kafka.commit_interval,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        producer_acks=-1,
        web_enabled=False,
        topic_allow_declare=False,
        topic_disable_leader=True,  # no leader-only work; avoids an extra internal topic
        broker_credentials=faust_credentials(settings),  # TLS / SASL (docs/security.md)
    )
    use_fetch_wait(app, settings.kafka.fetch_max_wait_ms)  # Faust has no setting for it
    return app


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
    """The worker's app: every topic of config/topics.py, one :class:`BatchAgent` per batch
    input, the notification agent and task (streams/notify.py), the Kafka watchdog."""
    app = faust_app(settings)
    topics = declare_topics(app, settings)
    runtime = Runtime(settings)
    notify = Notify(settings, runtime, topics)
    outputs = KafkaOutputs(topics.suggestions, topics.dead_letter)
    throttle_kafka_logs()
    metrics.serve(settings.worker.metrics_host, settings.worker.metrics_port)

    @app.task
    async def kafka_watchdog() -> None:
        await watch_kafka(app, settings.kafka.servers)

    for name in BATCH_INPUTS:
        agent = BatchAgent(
            name,
            functools.partial(_open_handler, runtime, name, settings.limits),
            outputs.send,
            notify.observe,
            brokers=settings.kafka.servers,
            batch_size=settings.worker.batch_size,
            batch_window=settings.worker.batch_window,
            record_lag=consumer_lag(app),
        )
        app.agent(topics.named(name), name=topic_spec(name).agent)(agent.consume)
    install_notify(app, settings, notify)  # the profiles agent, the due loop
    return app, topics


async def _open_handler(runtime: Runtime, stream: str, limits: Limits) -> BatchHandler:
    """The batch handler of ``stream``, on the engine opened inside the worker's loop."""
    return BatchHandler(await runtime.engine(), stream, limits)
