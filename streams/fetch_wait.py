"""The one adapter between xsell and Faust's Kafka driver: the worker consumer's fetch wait.

Why it exists: Faust (faust-streaming 0.15, ``faust/transport/drivers/aiokafka.py``,
``AIOKafkaConsumerThread._create_worker_consumer``) creates the worker's aiokafka consumer
with a hard-coded ``fetch_max_wait_ms=1500`` and has no setting for it. Apache Kafka answers
a fetch as soon as records arrive, so there the wait only bounds idle polling; a broker that
always waits the full time (Tansu, which the demo and the tests run) adds it to every event's
latency. ``XSELL_KAFKA_FETCH_MAX_WAIT_MS`` (default 500) sets it instead.

How, without monkeypatching a library: :func:`use_fetch_wait` gives one app a Faust transport
of its own (``App.transport`` is a public setter) whose consumer thread builds the consumer
exactly as Faust does, then sets the wait on it before it starts (aiokafka reads it when
``start()`` creates its fetcher). Nothing else in the process changes: other apps, the API's
consumer and the commands' clients keep their own settings.

When to delete it: ``tests/unit/test_fetch_wait.py`` fails as soon as Faust stops
hard-coding the value (then pass the setting to Faust instead) or aiokafka stops reading it
at start (then this adapter no longer works).
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

log = logging.getLogger(__name__)

FAUST_FETCH_MAX_WAIT_MS = 1500  # what Faust hard-codes; the test checks it still does


class FetchWaitConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread; its worker consumer waits the transport's fetch wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka keeps the constructor's value here and hands it to its Fetcher in start(),
        # which has not run yet (on_start calls start() right after this returns)
        consumer._fetch_max_wait_ms = transport.fetch_max_wait_ms
        return consumer


class FetchWaitConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, on a :class:`FetchWaitConsumerThread`."""

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return FetchWaitConsumerThread(self, loop=self.loop, beacon=self.beacon)


class FetchWaitTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with a fetch wait of its own (see the module doc)."""

    Consumer = FetchWaitConsumer
    fetch_max_wait_ms: int = FAUST_FETCH_MAX_WAIT_MS


def use_fetch_wait(app: faust.App, ms: int) -> None:
    """Make ``app``'s worker consumer wait at most ``ms`` for records per fetch
    (``XSELL_KAFKA_FETCH_MAX_WAIT_MS``). Call it before anything touches ``app.transport``
    (declaring a topic does), i.e. right after creating the app."""
    transport = FetchWaitTransport(app.conf.broker_consumer, app)
    transport.fetch_max_wait_ms = ms
    app.transport = transport
    log.debug("worker consumer fetch wait: %d ms", ms)
