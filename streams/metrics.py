"""The worker's Prometheus metrics (``XSELL_METRICS_PORT``; off when 0).

Names and labels are part of the contract (docs/contract.md, "Metrics"):

- ``xsell_worker_events_total{topic, outcome}``: input records by outcome ``applied``,
  ``duplicate`` (already applied: redelivered or re-sent) and ``dead_letter``;
- ``xsell_worker_suggestions_total{placement}`` and ``xsell_worker_dead_letters_total{topic}``;
- ``xsell_worker_batch_seconds{topic}``: one micro-batch, from its records to Kafka's
  acknowledgement of its outputs;
- ``xsell_worker_consumer_lag{topic, partition}``: records behind the partition's high
  watermark after the last batch (as the broker reports it; Tansu's is approximate);
- ``xsell_worker_tuning_recency_decay``, ``xsell_worker_tuning_hit_rate{recency_decay}`` and
  ``xsell_worker_tuning_cases``: self-tuning's choice, each candidate's decayed hit rate and
  the decayed cases behind them, as of this worker's last recorded batch;
  ``xsell_worker_tuning_popularity_prior`` and ``xsell_worker_tuning_similarity{similarity}``
  (1 for the one in use): the rest of the choice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from xsell.engine import SelfTuning

log = logging.getLogger(__name__)

EVENTS = Counter("xsell_worker_events", "Input records by outcome.", ["topic", "outcome"])
SUGGESTIONS = Counter("xsell_worker_suggestions", "Suggestions published.", ["placement"])
DEAD_LETTERS = Counter("xsell_worker_dead_letters", "Records sent to the dead letter.", ["topic"])
BATCH_SECONDS = Histogram(
    "xsell_worker_batch_seconds",
    "Seconds per micro-batch, records in to outputs acknowledged.",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LAG = Gauge(
    "xsell_worker_consumer_lag", "Records behind the high watermark.", ["topic", "partition"]
)
TUNING_CHOICE = Gauge("xsell_worker_tuning_recency_decay", "Self-tuning: recency weight in use.")
TUNING_HIT_RATE = Gauge(
    "xsell_worker_tuning_hit_rate",
    "Self-tuning: a candidate's decayed rate of cases the cart went on to hit.",
    ["recency_decay"],
)
TUNING_CASES = Gauge("xsell_worker_tuning_cases", "Self-tuning: decayed test cases.")
TUNING_PRIOR = Gauge(
    "xsell_worker_tuning_popularity_prior", "Self-tuning: popularity-prior strength in use."
)
TUNING_SIMILARITY = Gauge(
    "xsell_worker_tuning_similarity",
    "Self-tuning: 1 for the pair similarity in use, 0 for the other candidates.",
    ["similarity"],
)


def record_tuning(tuner: SelfTuning | None) -> None:
    """Self-tuning's gauges from the worker's last recorded counts (no Redis read)."""
    if tuner is None:
        return
    stats = tuner.stats
    TUNING_CHOICE.set(tuner.params.recency_decay)
    TUNING_PRIOR.set(tuner.params.popularity_prior)
    for name in dict.fromkeys(c.similarity for c in tuner.candidates):
        TUNING_SIMILARITY.labels(name).set(1.0 if name == tuner.params.similarity else 0.0)
    TUNING_CASES.set(stats.cases)
    for c in range(len(tuner.candidates)):  # labelled as in xsell status (tuner.label)
        TUNING_HIT_RATE.labels(tuner.label(c)).set(stats.rate(c))


def serve(host: str, port: int) -> bool:
    """Start the metrics endpoint on ``host:port`` (a thread); False when ``port`` is 0."""
    if not port:
        return False
    start_http_server(port, addr=host)
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return True


def record_batch(
    topic: str,
    records: int,
    duplicates: int,
    dead_letters: int,
    placements: Iterable[str],
    seconds: float,
) -> None:
    """Count one micro-batch of the logical ``topic``."""
    EVENTS.labels(topic, "dead_letter").inc(dead_letters)
    EVENTS.labels(topic, "duplicate").inc(duplicates)
    EVENTS.labels(topic, "applied").inc(max(records - dead_letters - duplicates, 0))
    DEAD_LETTERS.labels(topic).inc(dead_letters)
    for placement in placements:
        SUGGESTIONS.labels(placement).inc()
    BATCH_SECONDS.labels(topic).observe(seconds)


def record_lag(topic: str, partition: int, highwater: int | None, offset: int) -> None:
    """Lag of a partition whose record ``offset`` was the batch's last."""
    if highwater is not None and highwater >= 0:
        LAG.labels(topic, str(partition)).set(max(highwater - offset - 1, 0))
