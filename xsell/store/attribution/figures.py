"""The worker's figures per wall-clock minute, kept in Redis for the dashboard (the API has no
access to the workers' Prometheus endpoints, and several workers must add up): events by
topic, suggestions, dead letters, and a histogram of the time from a record reaching Kafka to
its outputs being acknowledged. One HINCRBY pipeline per micro-batch, in a round trip the
worker makes anyway."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

from xsell.store.backend.client import Call
from xsell.store.core.keys import Keys

LATENCY_BUCKETS_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


def minute_of(now: float) -> int:
    return int(now // 60)


def latency_bucket(ms: float) -> str:
    """The histogram field of a latency: the smallest bound it is under (``inf`` beyond)."""
    for bound in LATENCY_BUCKETS_MS:
        if ms <= bound:
            return f"lat:{bound}"
    return "lat:inf"


def batch_calls(
    keys: Keys,
    topic: str,
    records: int,
    suggestions: int,
    dead_letters: int,
    latencies_ms: Iterable[float],
    now: float | None = None,
    *,
    lifetime_seconds: int,
) -> list[Call]:
    """The increments of one micro-batch to the current minute's figures, which expire after
    ``lifetime_seconds`` (XSELL_MINUTE_FIGURES_RETENTION_DAYS)."""
    now = time.time() if now is None else now
    key = keys.minute(minute_of(now))
    counts: dict[str, int] = {f"events:{topic}": records}
    if suggestions:
        counts["suggestions"] = suggestions
    if dead_letters:
        counts["dead_letters"] = dead_letters
    for ms in latencies_ms:
        if math.isfinite(ms) and ms >= 0:
            field = latency_bucket(ms)
            counts[field] = counts.get(field, 0) + 1
    calls: list[Call] = [("HINCRBY", key, field, n) for field, n in counts.items()]
    return [*calls, ("EXPIRE", key, lifetime_seconds)]
