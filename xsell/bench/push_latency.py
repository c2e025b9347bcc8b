"""Live-push latency for ``xsell bench api``: from a POST to ``/v1/events`` to the suggestion
on the user's open stream, and the same POSTs through a passthrough agent to a plain consumer
(the two broker hops without xsell's work)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from xsell.bench import probes
from xsell.bench.http_load import listen

posting: set[asyncio.Task[None]] = set()  # POSTs under way (the loop keeps weak references)


async def _post(client: httpx.AsyncClient, event: dict[str, Any], auth: dict[str, str]) -> None:
    answer = await client.post("/v1/events", json=event, headers=auth)
    answer.raise_for_status()


async def push_latency(
    api_url: str, opts: Any, tag: str, items: list[str], auth: dict[str, str]
) -> dict[str, Any]:
    """Streams open for ``opts.streams`` users; add-to-carts posted at ``events_rate``; the
    time from each POST to its suggestion on the user's stream."""
    users = [f"bench-{tag}-{n}" for n in range(opts.streams)]
    sent: dict[str, float] = {}
    got: list[float] = []

    def arrived(message: dict[str, Any], at: float) -> None:
        event_id = message.get("trigger", {}).get("event_id")
        if event_id in sent:
            got.append(at - sent.pop(event_id))

    ready = [asyncio.Event() for _ in users]
    tasks = [
        asyncio.create_task(listen(api_url, f"/v1/users/{u}/suggestions/stream", auth, arrived, r))
        for u, r in zip(users, ready, strict=True)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 60)
    rng = random.Random(1)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        started = time.perf_counter()
        n = 0
        while time.perf_counter() - started < opts.seconds:
            user = rng.choice(users)
            event_id = f"push-{tag}-{n}"
            event = {
                "event_id": event_id,
                "type": "add_to_cart",
                "user_id": user,
                "item_id": rng.choice(items),
                "ts": time.time(),
            }
            sent[event_id] = time.perf_counter()
            posting.add(task := asyncio.create_task(_post(client, event, auth)))
            task.add_done_callback(posting.discard)
            n += 1
            await asyncio.sleep(max(0.0, started + n / opts.events_rate - time.perf_counter()))
        deadline = time.perf_counter() + 10
        while sent and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    return _latency_summary(got, n)


async def passthrough_latency(
    api_url: str, settings: Any, opts: Any, tag: str, items: list[str], auth: dict[str, str]
) -> dict[str, Any]:
    """The same POSTs, forwarded by the passthrough agent; timed on a plain consumer."""
    consumer = AIOKafkaConsumer(
        settings.topic("suggestions"),
        bootstrap_servers=settings.kafka.broker_list,
        group_id=None,
        auto_offset_reset="latest",
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=500)
    sent: dict[str, float] = {}
    got: list[float] = []

    async def read() -> None:
        while True:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for record in records:
                    event_id = json.loads(record.value).get("event_id")
                    if event_id in sent:
                        got.append(time.perf_counter() - sent.pop(event_id))

    reader = asyncio.create_task(read())
    n = 0
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        started = time.perf_counter()
        while time.perf_counter() - started < opts.seconds:
            event_id = f"pass-{tag}-{n}"
            event = {
                "event_id": event_id,
                "type": "add_to_cart",
                "user_id": f"p{n % 500}",
                "item_id": items[n % len(items)],
                "ts": time.time(),
            }
            sent[event_id] = time.perf_counter()
            posting.add(task := asyncio.create_task(_post(client, event, auth)))
            task.add_done_callback(posting.discard)
            n += 1
            await asyncio.sleep(max(0.0, started + n / opts.events_rate - time.perf_counter()))
        deadline = time.perf_counter() + 10
        while sent and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
    reader.cancel()
    await consumer.stop()
    return _latency_summary(got, n)


def _latency_summary(got: list[float], sent: int) -> dict[str, Any]:
    lat = sorted(got)
    out: dict[str, Any] = {"sent": sent, "arrived": len(lat)}
    for q in (50, 95, 99):
        value = probes.percentile(lat, q)
        out[f"p{q}_ms"] = None if value is None else round(value * 1000, 1)
    return out
