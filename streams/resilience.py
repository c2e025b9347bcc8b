"""Surviving Kafka outages in the worker: output delivery that never gives up, a watchdog that
says in the log what the worker is waiting for, and a throttle for aiokafka's reconnect spam.

Why ``deliver`` retries: Faust's ``take_events`` acknowledges a batch in a ``finally`` block,
even when the body raises, so an exception escaping the send of a batch's suggestions would
lose them (the batch is acked, the outputs never reach Kafka). ``deliver`` therefore keeps
re-sending (with backoff, logging what it waits for) until Kafka has acknowledged every output;
re-sent suggestions carry the same ``suggestion_id``, so consumers can drop the duplicates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from xsell.retrying import Backoff, Failure, RetryPolicy, retry_async

log = logging.getLogger(__name__)

SLOW_SECONDS = 3.0  # log while a delivery has waited this long
MAX_BACKOFF = 5.0
WATCH_INTERVAL = 1.0
WATCH_TIMEOUT = 3.0
WATCH_REPEAT = 10.0  # repeat "waiting for Kafka" this often while it lasts
THROTTLE_SECONDS = 10.0


async def deliver(send_all: Callable[[], Awaitable[None]], what: str, where: str) -> int:
    """Run ``send_all()`` (send every output of a batch and wait for Kafka's acks) until it
    succeeds; returns the number of failed attempts. Never raises except on cancellation.
    The loop is :func:`xsell.retrying.retry_async` with no budget (see the module doc)."""
    policy = RetryPolicy(retry_on=(Exception,), backoff=Backoff(0.1, MAX_BACKOFF))
    started = time.monotonic()

    def waiting(failure: Failure) -> None:
        log.warning(
            "waiting for Kafka at %s: sending %s failed (attempt %d, %.1fs so far): "
            "%r; sending again in %.1fs",
            where,
            what,
            failure.failures,
            failure.elapsed,
            failure.error,
            failure.delay,
        )

    outcome = await retry_async(lambda: _watched(send_all, what, where, started), policy, waiting)
    if outcome.failures or outcome.elapsed > SLOW_SECONDS:
        log.warning(
            "Kafka at %s acknowledged %s after %.1fs (%d failed attempts)",
            where,
            what,
            outcome.elapsed,
            outcome.failures,
        )
    return outcome.failures


async def _watched(
    send_all: Callable[[], Awaitable[None]], what: str, where: str, started: float
) -> None:
    """One attempt of :func:`deliver`, saying every ``SLOW_SECONDS`` that Kafka has not yet
    acknowledged (a hung broker would otherwise stay silent until aiokafka's own timeout;
    ``started``: when the delivery began). The send is a task of its own so that waiting for
    it can be logged; it is cancelled when the wait is (worker shutdown)."""
    task = asyncio.ensure_future(send_all())
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=SLOW_SECONDS)
            if done:
                return task.result()
            log.warning(
                "waiting for Kafka at %s to acknowledge %s (%.0fs so far)",
                where,
                what,
                time.monotonic() - started,
            )
    finally:
        if not task.done():
            task.cancel()


def _metadata_probe(app: Any) -> Callable[[], Awaitable[Any]] | None:
    """A metadata request through the app's own producer client (same brokers, same TLS /
    SASL settings); None while the producer is not started."""
    try:
        # faust offers no public handle on its producer's client (the same brokers, TLS, SASL)
        client = app.producer._ensure_producer().client  # noqa: SLF001
    except Exception:
        return None
    probe: Callable[[], Awaitable[Any]] = client.fetch_all_metadata
    return probe


async def watch_kafka(
    app: Any, where: str, *, interval: float = WATCH_INTERVAL, timeout: float = WATCH_TIMEOUT
) -> None:
    """Forever: ask Kafka for metadata every ``interval``; while it does not answer within
    ``timeout``, log that the worker is waiting for it (again every ``WATCH_REPEAT``), and
    log when it answers again. Consuming and sending resume by themselves (aiokafka
    reconnects); this only makes the outage plain in the log."""
    down_since: float | None = None
    last_log = 0.0
    while True:
        await asyncio.sleep(interval)
        probe = _metadata_probe(app)
        if probe is None:
            continue
        try:
            await asyncio.wait_for(probe(), timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            now = time.monotonic()
            if down_since is None:
                down_since = now - interval
            if now - last_log >= WATCH_REPEAT:
                last_log = now
                log.warning(
                    "waiting for Kafka at %s: no answer to a metadata request for "
                    "%.0fs (%s); consuming and sending resume when it is back",
                    where,
                    now - down_since,
                    type(exc).__name__ if not str(exc) else exc,
                )
            continue
        if down_since is not None:
            log.warning(
                "Kafka at %s answers again after %.1fs", where, time.monotonic() - down_since
            )
            down_since, last_log = None, 0.0


class Throttle(logging.Filter):
    """Lets one record per (logger, message template) through every ``seconds``, and says how
    many were suppressed in between (aiokafka logs a reconnect error every 50 ms while a
    broker is down, which buries the lines that matter)."""

    def __init__(self, seconds: float = THROTTLE_SECONDS) -> None:
        super().__init__()
        self.seconds = seconds
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        last, suppressed = self._seen.get(key, (-self.seconds, 0))
        if now - last < self.seconds:
            self._seen[key] = (last, suppressed + 1)
            return False
        self._seen[key] = (now, 0)
        if suppressed:  # said on a logger of ours: the record itself is left untouched
            log.warning(
                "%s: %d similar lines suppressed in the last %.0fs",
                record.name,
                suppressed,
                now - last,
            )
        return True


THROTTLED_LOGGERS = (
    "aiokafka",
    "aiokafka.conn",
    "aiokafka.consumer.fetcher",
    "aiokafka.consumer.group_coordinator",
    "aiokafka.producer.sender",
)


def throttle_kafka_logs(seconds: float = THROTTLE_SECONDS) -> None:
    """Install :class:`Throttle` on aiokafka's noisy loggers (once)."""
    for name in THROTTLED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Throttle) for f in logger.filters):
            logger.addFilter(Throttle(seconds))
