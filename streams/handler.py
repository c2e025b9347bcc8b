"""One micro-batch of raw records -> suggestion messages and dead letters (no Kafka here).

Steps: ``decode`` (parse and validate each record), ``process`` (engine: store + ranker), and
the error policy of :mod:`xsell.streams.errors` around them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from xsell.engine import Engine
from xsell.models.errors import InvalidEvent
from xsell.models.events import CatalogItem, Event, ForgetUser, Limits
from xsell.models.validate import parse_record
from xsell.store import Position
from xsell.streams.errors import FailureAction, failure_action

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    timestamp: float | None = None  # when Kafka got it (s), for the latency figures

    @property
    def where(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"

    @property
    def position(self) -> Position:
        """Where it was read, for the store's redelivery check (xsell/store/core/guards.py)."""
        return Position(f"{self.topic}:{self.partition}", self.offset, self.timestamp)


@dataclass(slots=True)
class Output:
    # (key, value); value None = a tombstone for a forgotten user (key = user_id)
    suggestions: list[tuple[str | None, dict[str, Any] | None]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    event_ts: dict[str, float] = field(default_factory=dict)  # event id -> event time
    # the batch's valid events in topic order, parsed once here and handed on (the
    # notification hook) so that nothing downstream parses a record again
    events: list[Event] = field(default_factory=list)


def dead_letter(record: Record, error: str, limits: Limits) -> dict[str, Any]:
    """The dead-letter value of the contract; the payload is kept as text, truncated to
    ``limits.dead_letter_payload_chars`` (XSELL_DEAD_LETTER_PAYLOAD_CHARS)."""
    payload = "" if record.value is None else record.value.decode("utf-8", errors="replace")
    keep = limits.dead_letter_payload_chars
    if len(payload) > keep:
        error += f" (payload truncated to {keep} characters)"
        payload = payload[:keep]
    return {
        "error": error,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "payload": payload,
    }


class BatchHandler:
    def __init__(self, engine: Engine, stream: str, limits: Limits) -> None:
        self.engine = engine
        self.stream = stream  # logical topic: cart-events | orders | catalog | feedback
        self.limits = limits

    def decode(self, records: Sequence[Record], out: Output) -> list[tuple[Record, Event]]:
        valid = []
        for record in records:
            try:
                valid.append((record, parse_record(self.stream, record.value, self.limits)))
            except InvalidEvent as exc:
                failure_action(exc, record.where)
                out.dead_letters.append(dead_letter(record, exc.reason, self.limits))
            except Exception as exc:
                log.error("parser failed at %s: %r", record.where, exc, exc_info=exc)
                out.dead_letters.append(
                    dead_letter(record, f"unparseable: {exc!r}"[:300], self.limits)
                )
        return valid

    async def handle(self, records: Sequence[Record]) -> Output:
        out = Output()
        valid = self.decode(records, out)
        out.events = [event for _, event in valid]
        out.event_ts = {e.event_id: e.ts for _, e in valid if not isinstance(e, CatalogItem)}
        # a forget_user ends a segment: its tombstone (key=user_id, value=None) follows the
        # user's earlier suggestions and precedes later ones, as compaction needs
        start = 0
        for end, (_, event) in enumerate(valid, 1):
            if isinstance(event, ForgetUser) or end == len(valid):
                await self._process(valid[start:end], out)
                start = end
        return out

    async def _process(self, valid: Sequence[tuple[Record, Event]], out: Output) -> None:
        try:
            events = [e for _, e in valid]
            self._collect(await self.engine.process(events, [r.position for r, _ in valid]), out)
            self._tombstones([e for _, e in valid], out)
        except Exception as exc:
            first, last = valid[0][0], valid[-1][0]
            self._apply(failure_action(exc, f"{first.where}..{last.offset}"), exc)
            for record, event in valid:
                try:
                    self._collect(await self.engine.process([event], [record.position]), out)
                    self._tombstones([event], out)
                except Exception as one:
                    self._apply(failure_action(one, record.where), one)
                    out.dead_letters.append(
                        dead_letter(record, f"internal error: {one!r}", self.limits)
                    )

    @staticmethod
    def _tombstones(events: Sequence[Event], out: Output) -> None:
        out.suggestions.extend((e.user_id, None) for e in events if isinstance(e, ForgetUser))

    @staticmethod
    def _apply(action: FailureAction, exc: BaseException) -> None:
        if action is FailureAction.FATAL:
            logging.shutdown()
            os._exit(70)  # no ack: the batch is redelivered after a restart

    @staticmethod
    def _collect(messages: list[dict[str, Any]], out: Output) -> None:
        out.suggestions.extend((m["user_id"], m) for m in messages)


def encode(value: dict[str, Any] | None) -> bytes | None:
    """A record value as compact UTF-8 JSON; None stays None (a tombstone)."""
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
