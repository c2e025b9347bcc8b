"""The fetch-wait adapter (streams/fetch_wait.py): it works, it touches one app only, and it
fails loudly when upstream makes it unnecessary (Faust takes a setting or stops hard-coding
1500) or stops it working (aiokafka no longer reads the value when it starts)."""

from __future__ import annotations

import asyncio
import inspect

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from xsell.config.settings import Settings
from xsell.streams.app import faust_app
from xsell.streams.fetch_wait import FAUST_FETCH_MAX_WAIT_MS, use_fetch_wait


async def worker_consumer(app: faust.App) -> aiokafka.AIOKafkaConsumer:
    """The aiokafka consumer Faust builds for ``app``'s worker (not started: no broker)."""
    thread = app.consumer._thread
    consumer: aiokafka.AIOKafkaConsumer = thread._create_worker_consumer(app.transport)
    return consumer


def fresh_app(name: str) -> faust.App:
    return faust.App(name, broker="kafka://127.0.0.1:1", web_enabled=False)


def test_the_worker_consumer_waits_the_setting_and_other_apps_keep_faust_s_value() -> None:
    async def go() -> tuple[int, int]:
        ours, theirs = fresh_app("fetch-wait-ours"), fresh_app("fetch-wait-theirs")
        use_fetch_wait(ours, 42)
        a, b = await worker_consumer(ours), await worker_consumer(theirs)
        try:
            return a._fetch_max_wait_ms, b._fetch_max_wait_ms
        finally:
            await a.stop()
            await b.stop()

    assert asyncio.run(go()) == (42, FAUST_FETCH_MAX_WAIT_MS)
    assert aiokafka.AIOKafkaConsumer.__module__ == "aiokafka.consumer.consumer"  # not replaced


def test_faust_still_hard_codes_the_fetch_wait() -> None:
    """When this fails, Faust changed how it builds the worker consumer: if it now takes a
    setting, pass XSELL_KAFKA_FETCH_MAX_WAIT_MS to it and delete streams/fetch_wait.py."""
    source = inspect.getsource(faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer)
    assert f"fetch_max_wait_ms={FAUST_FETCH_MAX_WAIT_MS}," in source
    settings = faust.App("fetch-wait-settings", web_enabled=False).conf
    assert not [name for name in dir(settings) if "fetch_max_wait" in name]


def test_aiokafka_still_reads_the_wait_when_it_starts() -> None:
    """When this fails, setting the attribute before start() no longer reaches the fetcher."""
    source = inspect.getsource(aiokafka.AIOKafkaConsumer.start)
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in source


def test_the_worker_app_gets_the_setting() -> None:
    app = faust_app(Settings(kafka_fetch_max_wait_ms=77))
    assert app.transport.fetch_max_wait_ms == 77
