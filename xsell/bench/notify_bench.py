"""``xsell bench --notify``: what the notification triggers cost a worker (docs/benchmarks.md).

In one process, on a private redis-server and broker, over the synthetic shop's model:

- **schedule**: cart events applied by the engine a micro-batch (200) at a time, without and
  with the scheduler's hook (given the events the worker parsed, the schedule scripts), alternating;
  the added cost per cart event is the difference of the medians;
- **due**: ``events`` notifications made due at once (users who consented, carts of 3 items),
  then the sender's ticks until none is left: claimed, decided, ranked, prepared, published to
  the notifications topic (acknowledged), recorded and finished, per second; the baseline is
  publishing as many messages of the same size through the same producer, alone.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from xsell.config.settings import Settings, load_settings
from xsell.devenv import demo_data
from xsell.devenv.servers import LocalBroker, LocalRedis
from xsell.engine import Engine
from xsell.kafka_clients import create_topics
from xsell.models.events import CartEvent
from xsell.models.validate import parse_record
from xsell.notify.scheduler import Scheduler
from xsell.notify.sender import Sender
from xsell.ops.loading import backfill
from xsell.store import Store

BATCH = 200


def _carts(n: int, ts: float, tag: str) -> list[bytes]:
    """``n`` add-to-cart records: users of 3 items each, over the demo shop's catalogue."""
    items = [c.item_id for c in demo_data.synthetic()[0]][:60]
    out = []
    for i in range(n):
        event = {"event_id": f"{tag}-{i}", "type": "add_to_cart", "user_id": f"{tag}-u{i // 3}"}
        out.append(json.dumps({**event, "item_id": items[(i * 7) % len(items)], "ts": ts}).encode())
    return out


async def _apply(
    engine: Engine, scheduler: Scheduler | None, records: Sequence[bytes]
) -> tuple[float, float]:
    """(seconds to apply ``records`` and schedule when a scheduler is given, of which in the
    scheduler's hook), batch by batch."""
    limits = engine.settings.limits
    started, hook = time.perf_counter(), 0.0
    for i in range(0, len(records), BATCH):
        chunk = records[i : i + BATCH]
        events = [parse_record("cart-events", r, limits) for r in chunk]
        await engine.process(events)
        if scheduler is not None:
            before = time.perf_counter()
            await scheduler.observe("cart-events", events)
            hook += time.perf_counter() - before
    return time.perf_counter() - started, hook


async def _run(settings: Settings, events: int, repeat: int) -> dict[str, Any]:
    store = await Store.open(settings)
    catalog, history, _ = demo_data.synthetic()
    await backfill(store, history, catalog=catalog)
    engine = Engine(store, settings)
    scheduler = Scheduler(store, settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka.broker_list,
        acks="all",
        enable_idempotence=False,
        linger_ms=2,
    )
    await producer.start()
    topic = settings.topic("notifications")

    async def publish(messages: Sequence[tuple[str, bytes]]) -> None:
        futures = [await producer.send(topic, v, key=k.encode()) for k, v in messages]
        await asyncio.gather(*futures)

    sender = Sender(engine, publish)
    plain: list[float] = []
    hooked: list[float] = []
    in_hook: list[float] = []
    await _apply(engine, scheduler, _carts(events, time.time(), "warm"))
    due_rates: list[float] = []
    publish_rates: list[float] = []
    sizes: list[int] = []
    try:
        for r in range(repeat):
            now = time.time()
            for with_hook in (r % 2 == 0, r % 2 == 1):  # alternate which goes first
                tag = f"{'s' if with_hook else 'p'}{r}"
                total, hook = await _apply(
                    engine, scheduler if with_hook else None, _carts(events, now, tag)
                )
                (hooked if with_hook else plain).append(total / events)
                if with_hook:
                    in_hook.append(hook / events)
            # due: carts whose abandonment is due now, users who consented to push
            past = now - settings.notify.abandon_seconds - 1
            records = _carts(events * 3, past, f"d{r}")
            users = sorted({json.loads(x)["user_id"] for x in records})
            consents = store.notifications.writes()
            for user in users:
                consents.update_profile(user, None, {"push": True})
            await store.notifications.commit(consents)
            await _apply(engine, scheduler, records)
            started, sent = time.perf_counter(), 0
            while (claimed := await sender.tick()) > 0:
                sent += claimed
            due_rates.append(sent / (time.perf_counter() - started))
            sizes.append(len(users))
            payload = b"x" * 600
            started = time.perf_counter()
            await publish([(u, payload) for u in users])
            publish_rates.append(len(users) / (time.perf_counter() - started))
    finally:
        await producer.stop()
        await store.close()
    base, added = statistics.median(plain), statistics.median(hooked)
    return {
        "cart_events_per_run": events,
        "worker_us_per_cart_event_without_schedule": round(base * 1e6, 1),
        "worker_us_per_cart_event_with_schedule": round(added * 1e6, 1),
        "added_us_per_cart_event": round((added - base) * 1e6, 1),
        "us_per_cart_event_in_the_schedule_hook": round(statistics.median(in_hook) * 1e6, 1),
        "added_percent": round(100 * (added - base) / base, 1),
        "due_notifications_per_run": statistics.median(sizes),
        "due_notifications_per_second": round(statistics.median(due_rates)),
        "baseline_plain_publish_per_second": round(statistics.median(publish_rates)),
        "repeat": repeat,
    }


def run_notify_bench(env: dict[str, str], events: int, repeat: int) -> dict[str, Any]:
    """Start the servers, run the bench, stop them; the figures as a dict."""
    with LocalRedis() as redis_server, LocalBroker() as broker:
        settings = load_settings(
            **{
                **{k[len("XSELL_") :].lower(): v for k, v in env.items()},
                "redis_url": redis_server.url,
                "kafka_brokers": broker.bootstrap,
                "key_namespace": f"nb{uuid.uuid4().hex[:6]}",
                "topic_prefix": "nb.",
                "notify_quiet_hours": "",
                "notify_caps": "",
            }
        )
        create_topics(settings)
        return asyncio.run(_run(settings, events, repeat))


__all__ = ["CartEvent", "run_notify_bench"]
