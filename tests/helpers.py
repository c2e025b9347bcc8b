"""Shared helpers of the integration tests: state dumps and a small Kafka test client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from kafka import KafkaConsumer

from xsell.config.settings import Settings
from xsell.kafka_clients import producer, send_json
from xsell.store import Store
from xsell.store.core.keys import is_bookkeeping, is_output

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def dump_state(store: Store, *, include_users: bool = True) -> dict[str, Any]:
    """Every model key of the namespace and its value; dedup markers, bookkeeping and
    published outputs (the latest suggestions) excluded."""
    state: dict[str, Any] = {}
    async for key in store.client.scan_iter(match=store.keys.pattern(), count=1000):
        if is_bookkeeping(key) or is_output(key):
            continue
        if not include_users and ":{u:" in key:
            continue
        kind = await store.client.type(key)
        if kind == "zset":
            state[key] = dict(await store.client.zrange(key, 0, -1, withscores=True))
        elif kind == "hash":
            value = await store.client.hgetall(key)
            value.pop("created", None)
            state[key] = value
        else:
            state[key] = await store.client.get(key)
    return state


async def open_store(settings: Settings) -> Store:
    return await Store.open(settings)


def snapshot(settings: Settings, **kwargs: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        store = await Store.open(settings)
        try:
            return await dump_state(store, **kwargs)
        finally:
            await store.close()

    return run(go())


class Bus:
    """Produce JSON to, and collect JSON from, the xsell topics of one test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.producer = producer(settings)
        self.consumers: dict[str, KafkaConsumer] = {}

    def send(self, topic: str, key: str | None, value: Any) -> None:
        send_json(self.producer, self.settings.topic(topic), key, value)
        self.producer.flush()

    def collect(self, topic: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The next ``count`` records of ``topic`` (fails the test on timeout)."""
        consumer = self.consumers.get(topic)
        if consumer is None:
            consumer = KafkaConsumer(
                self.settings.topic(topic),
                bootstrap_servers=self.settings.kafka.broker_list,
                auto_offset_reset="earliest",
                group_id=None,
            )
            self.consumers[topic] = consumer
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200, max_records=count - len(out)).values():
                out.extend(json.loads(r.value) for r in records)
        assert len(out) >= count, f"{topic}: got {len(out)} of {count} records in {timeout}s"
        return out

    def close(self) -> None:
        self.producer.close()
        for consumer in self.consumers.values():
            consumer.close()


def catalogue_size(settings: Settings) -> int:
    """Catalogue entries applied. Tests apply the catalogue before any order: an order's
    category counts depend on the categories its items had when it was applied, and the
    catalogue and the orders are two topics with no order between them."""

    async def size() -> int:
        store = await Store.open(settings)
        try:
            return (await store.ops.summary()).catalog
        finally:
            await store.close()

    return run(size())


def wait_until(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def without_pair_guards(state: dict[str, Any]) -> dict[str, Any]:
    """A dumped state (xsell.verify.hostile_check.dump) without its pair guards: the per-item
    marker zsets of a Redis Cluster, or the single pair-guard zset ``{g}:mp`` of a single Redis
    (xsell/store/core/guards.py). Asserts it had some; compare the guards' members with
    :func:`pair_guard_markers`."""
    guards = {k for k in state if _is_pair_guard(k)}
    assert guards
    return {k: v for k, v in state.items() if k not in guards}


def pair_guard_markers(state: dict[str, Any]) -> set[str]:
    """Every pair guard's marker of a dumped state (the same set on a cluster and a single
    Redis: one per event whose pairs were applied)."""
    return {m for k, v in state.items() if _is_pair_guard(k) for m in v}


def without_spend_moves(state: dict[str, Any]) -> dict[str, Any]:
    """A dumped Redis Cluster state without the spend histogram's move guards (``{g}:ms``): a
    single Redis moves the histogram inside the segment script and has none
    (xsell/store/core/segments.py)."""
    return {k: v for k, v in state.items() if k != ":{g}:ms"}


def _is_pair_guard(key: str) -> bool:
    return (key.startswith(":{i:") and key.endswith("}:m")) or key == ":{g}:mp"
