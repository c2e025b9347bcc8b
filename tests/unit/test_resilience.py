"""Output delivery retries and the log throttle (streams/resilience.py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from xsell.streams import resilience
from xsell.streams.resilience import Throttle, deliver


def test_deliver_retries_failed_sends_until_kafka_takes_them(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resilience, "MAX_BACKOFF", 0.01)
    calls = []

    async def send_all() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("KafkaTimeoutError: batch expired")

    with caplog.at_level(logging.WARNING):
        failures = asyncio.run(deliver(send_all, "2 suggestion(s)", "kafka:9092"))
    assert failures == 2 and len(calls) == 3
    assert caplog.text.count("waiting for Kafka at kafka:9092: sending 2 suggestion(s) failed") == 2
    assert "acknowledged 2 suggestion(s)" in caplog.text


def test_deliver_logs_while_kafka_does_not_acknowledge(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resilience, "SLOW_SECONDS", 0.05)

    async def slow() -> None:
        await asyncio.sleep(0.2)

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(deliver(slow, "1 suggestion(s)", "k:1")) == 0
    assert "waiting for Kafka at k:1 to acknowledge 1 suggestion(s)" in caplog.text


def test_deliver_cancellation_cancels_the_send() -> None:
    started = asyncio.Event()
    cancelled = []

    async def never() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(1)
            raise

    async def go() -> None:
        task = asyncio.ensure_future(deliver(never, "x", "k"))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert cancelled == [1]


def test_throttle_lets_one_line_through_per_period_and_counts_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.throttled")
    logger.addFilter(Throttle(seconds=60))
    with caplog.at_level(logging.ERROR, logger="test.throttled"):
        for n in range(50):
            logger.error("Unable connect to node with id %s: refused", n)
        logger.error("another message")
    messages = [r.getMessage() for r in caplog.records if r.name == "test.throttled"]
    assert messages == ["Unable connect to node with id 0: refused", "another message"]
