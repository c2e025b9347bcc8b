"""The body of the worker's batch agents, as a unit of its own (``streams/app.py`` wires one
per input topic of config/topics.py's ``BATCH_INPUTS``).

One micro-batch of one input topic, in the order that makes at-least-once safe:

1. decode and apply (:class:`xsell.streams.handler.BatchHandler`: the engine, hence the store);
2. the notification hook (``observe``: cart abandonment, post-purchase), given the events
   the handler parsed (a record is parsed once);
3. send the suggestions and dead letters and wait until Kafka has them
   (:func:`xsell.streams.resilience.deliver`: never gives up, never raises but on cancellation);
4. only then the post-acknowledgement writes (``record``: the latest suggestion, offers,
   counters, figures) and the Prometheus figures.

Faust acknowledges the batch after :meth:`BatchAgent.process` returns (``take_events`` acks
after the loop body), so nothing is committed before its effects are durable in Redis and its
outputs in Kafka. Every collaborator is an argument, so the order is unit-tested with fakes
(tests/unit/test_batch_agent.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from faust.types import TP

from xsell.models.events import Event
from xsell.store import Published, Store
from xsell.streams import metrics
from xsell.streams.handler import BatchHandler, Output, Record, encode
from xsell.streams.outputs import record_outputs
from xsell.streams.resilience import deliver

log = logging.getLogger(__name__)

OpenHandler = Callable[[], Awaitable[BatchHandler]]
SendOutputs = Callable[[Sequence[Published], Sequence[dict[str, Any]]], Awaitable[None]]
Observe = Callable[[str, Sequence[Event]], Awaitable[None]]
RecordOutputs = Callable[
    [Store, str, Sequence[Record], Output, Sequence[Published]], Awaitable[None]
]
RecordLag = Callable[[Sequence[Record]], None]


def record_of(event: Any) -> Record:
    """A Faust event as the handler's :class:`Record` (no Faust type past this point)."""
    m = event.message
    return Record(m.topic, m.partition, m.offset, m.value, m.timestamp)


def published_of(out: Output) -> list[Published]:
    """The suggestions records of a batch, as sent (tombstones have no placement)."""
    return [
        Published(key, None if v is None else v["placement"], _text(encode(v)))
        for key, v in out.suggestions
    ]


class KafkaOutputs:
    """Sends a batch's suggestions (keyed by user id) and dead letters, and waits for every
    acknowledgement; an error is raised to :func:`deliver`, which sends again."""

    def __init__(self, suggestions: Any, dead_letter: Any) -> None:
        self.suggestions = suggestions
        self.dead_letter = dead_letter

    async def send(self, published: Sequence[Published], dead: Sequence[dict[str, Any]]) -> None:
        futures = [
            await self.suggestions.send(
                key=None if p.user_id is None else p.user_id.encode(),
                value=None if p.payload is None else p.payload.encode(),
            )
            for p in published
        ]
        futures += [await self.dead_letter.send(value=encode(d)) for d in dead]
        await asyncio.gather(*futures)


def _ignore_lag(records: Sequence[Record]) -> None:
    """No consumer to ask (tests)."""


class BatchAgent:
    """One input topic's agent: decode, apply, send, record (module doc)."""

    def __init__(
        self,
        stream: str,
        open_handler: OpenHandler,
        send: SendOutputs,
        observe: Observe,
        *,
        brokers: str,
        batch_size: int = 200,
        batch_window: float = 0.02,
        record: RecordOutputs = record_outputs,
        record_lag: RecordLag = _ignore_lag,
    ) -> None:
        self.stream = stream  # the logical topic name: cart-events, orders, catalog, feedback
        self.open_handler = open_handler  # opened at the first batch, inside the event loop
        self.send = send
        self.observe = observe
        self.brokers = brokers  # where Kafka is, for the "waiting for Kafka" lines
        self.batch_size = batch_size  # XSELL_BATCH_SIZE records or
        self.batch_window = batch_window  # XSELL_BATCH_WINDOW seconds, whichever comes first
        self.record = record
        self.record_lag = record_lag
        self._handler: BatchHandler | None = None

    async def consume(self, stream: Any) -> None:
        """The Faust agent: every micro-batch of ``stream``, each acknowledged after it is
        done."""
        async for events in stream.take_events(self.batch_size, self.batch_window):
            await self.process([record_of(e) for e in events])

    async def process(self, records: Sequence[Record]) -> Output:
        """One micro-batch, start to end (module doc); returns what it sent."""
        started = time.monotonic()
        if self._handler is None:
            self._handler = await self.open_handler()
        handler = self._handler
        store = handler.engine.store
        duplicates = store.duplicate_events
        out = await handler.handle(records)
        await self.observe(self.stream, out.events)  # parsed once, by the handler
        published = published_of(out)
        if out.suggestions or out.dead_letters:
            what = (
                f"{len(out.suggestions)} suggestion(s) and {len(out.dead_letters)} "
                f"dead letter(s) of {records[0].where}.."
            )
            await deliver(lambda: self.send(published, out.dead_letters), what, self.brokers)
        await self.record(store, self.stream, records, out, published)
        placements = [p.placement for p in published if p.placement is not None]
        metrics.record_batch(
            self.stream,
            len(records),
            store.duplicate_events - duplicates,
            len(out.dead_letters),
            placements,
            time.monotonic() - started,
        )
        metrics.record_tuning(handler.engine.tuner)
        self.record_lag(records)
        return out


def consumer_lag(app: Any) -> RecordLag:
    """Records each partition's lag after its last record of a batch (Prometheus)."""

    def record(records: Sequence[Record]) -> None:
        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = r.offset
        for (topic, partition), offset in last.items():
            try:
                highwater = app.consumer.highwater(TP(topic, partition))
            except Exception:  # not known yet (no fetch answered), or no consumer
                highwater = None
            metrics.record_lag(topic, partition, highwater, offset)

    return record


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()
