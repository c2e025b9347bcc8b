"""Hostile input end to end: 10,000 generated bad records (xsell.verify.hostile_cases) through
Kafka and an
`xsell worker`, with valid records with awkward ids in between. Every bad record lands in the
dead letter with its reason, the worker never crashes, every valid record is processed, and
Redis holds exactly the keys (and values) that the valid records alone give."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from kafka.errors import MessageSizeTooLargeError
from redis.cluster import key_slot

from tests.conftest import Pipeline
from tests.helpers import run
from xsell.config.settings import Settings
from xsell.kafka_clients import consumer, producer
from xsell.store import Store
from xsell.verify.hostile_cases import Case, generate
from xsell.verify.hostile_check import (
    check_parse,
    comparable,
    dump,
    expected_suggestions,
    layout_error,
    replace_ns,
    run_local,
    send_cases,
    valid_events,
)

pytestmark = pytest.mark.integration
COUNT = int(os.environ.get("XSELL_HOSTILE_COUNT", "10000"))


def drain(
    settings: Settings, topic: str, done: Callable[[list[Any]], bool], timeout: float
) -> list[Any]:
    """Records (value as JSON, None for a tombstone) of ``topic`` until ``done(records)``."""
    cons = consumer(settings, topic, auto_offset_reset="earliest", group_id=None)
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while not done(out) and time.monotonic() < deadline:
            for records in cons.poll(timeout_ms=500, max_records=5000).values():
                out.extend(None if r.value is None else json.loads(r.value) for r in records)
    finally:
        cons.close()
    return out


def reference_state(settings: Settings, cases: list[Case]) -> dict[str, Any]:
    """The state the valid cases alone give, applied straight to Redis in a second namespace."""
    ref = replace_ns(settings, settings.redis.key_namespace + "-ref")

    async def go() -> dict[str, Any]:
        store = await Store.open(ref)
        try:
            for stream in ("catalog", "orders", "cart-events"):
                events = [e for s, e in valid_events(cases, settings) if s == stream]
                for start in range(0, len(events), 200):
                    await store.apply(events[start : start + 200])
            return await dump(store)
        finally:
            await store.flush_namespace()
            await store.close()

    return run(go())


def state_of(settings: Settings) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        store = await Store.open(settings)
        try:
            return await dump(store)
        finally:
            await store.close()

    return run(go())


def test_generator_cases_parse_as_they_claim(make_settings: Callable[..., Settings]) -> None:
    cases = list(generate(COUNT))
    assert check_parse(cases, make_settings()) == []
    kinds = {c.kind for c in cases if not c.valid}
    assert len(kinds) >= 40
    assert sum(not c.valid for c in cases) == COUNT


def test_bad_records_go_to_the_dead_letter_and_valid_ones_are_processed(pipeline: Pipeline) -> None:
    settings = pipeline.settings
    cases = list(generate(COUNT))
    bad = [n for n, c in enumerate(cases) if not c.valid]
    started = time.monotonic()
    where = send_cases(settings, cases)
    sent = time.monotonic()

    dead = drain(settings, "dead-letter", lambda out: len(out) >= len(bad), timeout=240)
    assert len(dead) == len(bad), f"{len(dead)} dead letters for {len(bad)} bad records"
    by_place = {(d["topic"], d["partition"], d["offset"]): d for d in dead}
    for n in bad:
        case = cases[n]
        place = (settings.topic(case.stream), *where[n])
        assert place in by_place, f"no dead letter for case {n} ({case.kind})"
        reason = by_place[place]["error"]
        assert case.matches(reason), f"case {n} ({case.kind}): {reason!r} lacks {case.expect!r}"
        assert not reason.startswith(("internal error", "unparseable")), reason
    assert len(by_place) == len(bad)  # so no valid record was dead-lettered

    valid = valid_events(cases, settings)
    wanted = expected_suggestions([e for _, e in valid])
    forgets = sum(c.kind == "valid_forget" for c in cases)
    out = drain(settings, "suggestions", lambda out: len(out) >= len(wanted) + forgets, timeout=120)
    done = time.monotonic()
    assert {m["suggestion_id"] for m in out if m is not None} == wanted
    assert sum(m is None for m in out) == forgets  # one tombstone per forget_user
    assert pipeline.worker.proc is not None and pipeline.worker.proc.poll() is None

    state = state_of(settings)
    ns = settings.redis.key_namespace
    assert [k for k in state if layout_error(ns, ns + k)] == []
    # no garbage keys, no missing ones (category counts depend on timing: timing_dependent)
    assert comparable(state) == comparable(reference_state(settings, cases))
    print(
        f"\nhostile via Kafka: {len(cases)} records ({len(bad)} bad), sent in "
        f"{sent - started:.1f}s, all dead letters and suggestions in {done - started:.1f}s"
    )


def test_awkward_valid_ids_stay_in_their_own_slot(make_settings: Callable[..., Settings]) -> None:
    """The handler run of `xsell hostile` (no Kafka): valid records with { } : * ids."""
    settings = make_settings()
    cases = list(generate(2000, seed=7, big=False, valid_every=2))
    figures = run(run_local(settings, cases, keep=True))
    assert figures["dead_letters"] == figures["bad"] == 2000
    for name in (
        "wrong_or_missing_reason",
        "valid_dead_lettered",
        "garbage_keys",
        "missing_keys",
        "layout_violations",
    ):
        assert not figures[name], (name, figures[name])
    assert figures["crashes"] == figures["internal_errors"] == figures["values_differ"] == 0
    assert figures["missing_suggestions"] == 0
    state = state_of(settings)
    items = {k.split("}")[0] for k in state if k.startswith(":{i:")}
    for tag in (":{i:%7Bx%7D", ":{i:xs:%7Bg%7D:pop", ":{i:%7Bi:victim%7D:p", ":{i:a:b:*"):
        assert tag in items, tag
    for key in state:  # an item's keys share the slot of its own tag, nothing else
        if key.startswith(":{i:"):
            tag = key.split("}")[0] + "}"
            assert key_slot(key.encode()) == key_slot(tag.encode())


def test_a_100k_item_order_needs_a_bigger_producer_limit(pipeline: Pipeline) -> None:
    """kafka-python's default max_request_size (1 MiB, like Kafka's message.max.bytes) refuses
    the ~2 MB record at the producer; with a higher limit Tansu takes it and the worker
    dead-letters it (payload over XSELL_MAX_PAYLOAD_BYTES)."""
    settings = pipeline.settings
    items = [{"item_id": f"i{k}", "quantity": 1} for k in range(100_000)]
    value = json.dumps(
        {"event_id": "big", "type": "purchase", "order_id": "big", "ts": 1, "items": items}
    ).encode()
    assert len(value) > 2_000_000
    prod = producer(settings)
    try:
        with pytest.raises(MessageSizeTooLargeError):
            prod.send(settings.topic("orders"), value=value).get(30)
    finally:
        prod.close()
    where = send_cases(settings, [Case("big", "orders", None, value, "payload larger than")])
    (letter,) = drain(settings, "dead-letter", lambda out: len(out) >= 1, timeout=60)
    assert letter["offset"] == where[0][1]
    assert letter["error"].startswith(
        f"payload larger than {settings.inputs.max_payload_bytes} bytes"
    )
    assert "truncated to 100000 characters" in letter["error"]
    assert len(letter["payload"]) == 100_000
