"""The batch agent's order (streams/batch_agent.py), with fakes for every collaborator:
apply, notify, send until acknowledged, and only then the post-acknowledgement writes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from xsell.models.events import CartEvent, Event
from xsell.store import Published
from xsell.streams import resilience
from xsell.streams.batch_agent import BatchAgent, published_of, record_of
from xsell.streams.handler import Output, Record

RECORDS = [Record("xsell.cart-events", 0, 7, b"{}", 1.0), Record("xsell.cart-events", 0, 8, b"x")]
SUGGESTION = {"placement": "cart", "user_id": "u1", "suggestion_id": "s1"}
EVENT = CartEvent("e1", "add_to_cart", "u1", "i1", 1717236900.0)  # the handler parsed it


class FakeHandler:
    """Decodes and applies nothing: answers one suggestion and one dead letter."""

    def __init__(self, steps: list[str]) -> None:
        self.steps = steps
        self.engine = SimpleNamespace(store=SimpleNamespace(duplicate_events=0), tuner=None)

    async def handle(self, records: Sequence[Record]) -> Output:
        self.steps.append(f"handle {len(records)}")
        return Output(
            suggestions=[("u1", SUGGESTION), ("u2", None)], dead_letters=[{"e": 1}], events=[EVENT]
        )


def agent(steps: list[str], send_failures: int = 0) -> BatchAgent:
    handler = FakeHandler(steps)
    opened: list[int] = []

    async def open_handler() -> Any:
        opened.append(1)
        steps.append(f"open {len(opened)}")
        return handler

    async def send(published: Sequence[Published], dead: Sequence[dict[str, Any]]) -> None:
        if steps.count("send failed") < send_failures:
            steps.append("send failed")
            raise TimeoutError("no ack")
        steps.append(f"send {len(published)}+{len(dead)}")

    async def observe(stream: str, events: Sequence[Event]) -> None:
        assert list(events) == [EVENT], "the handler's parsed events, not the records again"
        steps.append(f"observe {stream} {len(events)}")

    async def record(
        store: Any, stream: str, records: Any, out: Output, published: Sequence[Published]
    ) -> None:
        steps.append(f"record {stream} {[p.placement for p in published]}")

    return BatchAgent(
        "cart-events",
        open_handler,
        send,
        observe,
        brokers="k:1",
        record=record,
        record_lag=lambda records: steps.append(f"lag {len(records)}"),
    )


def test_one_batch_is_applied_sent_then_recorded() -> None:
    steps: list[str] = []
    a = agent(steps)
    asyncio.run(a.process(RECORDS))
    assert steps == [
        "open 1",
        "handle 2",
        "observe cart-events 1",
        "send 2+1",
        "record cart-events ['cart', None]",
        "lag 2",
    ]
    asyncio.run(a.process(RECORDS[:1]))
    assert "open 2" not in steps  # the handler is opened once


def test_nothing_is_recorded_before_kafka_acknowledged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resilience, "MAX_BACKOFF", 0.001)
    steps: list[str] = []
    asyncio.run(agent(steps, send_failures=2).process(RECORDS))
    sent = steps.index("send 2+1")
    assert steps[sent - 2 : sent] == ["send failed", "send failed"]
    assert all(not s.startswith("record") for s in steps[:sent])


def test_records_and_published_keep_what_went_to_kafka() -> None:
    message = SimpleNamespace(topic="t", partition=1, offset=2, value=b"v", timestamp=3.0)
    assert record_of(SimpleNamespace(message=message)) == Record("t", 1, 2, b"v", 3.0)
    out = Output(suggestions=[("u1", SUGGESTION), ("u2", None)])
    first, tombstone = published_of(out)
    assert first.user_id == "u1" and first.placement == "cart"
    assert first.payload == '{"placement":"cart","user_id":"u1","suggestion_id":"s1"}'
    assert tombstone == Published("u2", None, None)
