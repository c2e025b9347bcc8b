"""``xsell eval --through-kafka``: the same protocol, with every event going through the broker
and a running worker. Training orders are replayed to the orders topic; each test add-to-cart is
sent and its suggestion awaited (matched by suggestion_id) before the next, and each finished
cart's checkout (protocol.session_checkout) is sent to the orders topic and awaited (applied)
before the next cart, so the worker sees the events in exactly the order the in-process path
applies them with one shopper at a time."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from kafka import KafkaConsumer

from xsell.config.settings import Settings
from xsell.devenv.stack import LocalStack
from xsell.engine import suggestion_id
from xsell.evaluation.protocol import EvalData, Metrics, session_checkout, session_events
from xsell.kafka_clients import producer, send_json
from xsell.models.errors import XsellError
from xsell.ops.loading import progress_bar
from xsell.ops.orders_csv import order_to_json
from xsell.store import Store, Stream

WAIT_SECONDS = 60.0


def _env(settings: Settings) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    env = {
        "XSELL_TOPIC_PREFIX": f"eval-{tag}.",
        "XSELL_APP_ID": f"xsell-eval-{tag}",
        "XSELL_KEY_NAMESPACE": f"eval-{tag}",
    }
    for name, value in settings.model_dump().items():
        if name in ("topic_prefix", "app_id", "key_namespace") or value is None:
            continue
        if isinstance(value, tuple):
            value = json.dumps(list(value))
        elif hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env.setdefault(f"XSELL_{name.upper()}", str(value))
    return env


async def _applied_orders(settings: Settings) -> int:
    """Orders the worker has applied: one popularity marker each (fresh namespace)."""
    store = await Store.open(settings)
    try:
        return await store.ops.applied_orders()
    finally:
        await store.close()


def run_through_kafka(
    settings: Settings, data: EvalData, *, private_broker: bool, private_redis: bool
) -> Metrics:
    """Run xsell's side of the protocol through Kafka and an ``xsell worker`` process."""
    env = _env(settings)
    stack = LocalStack(env, private_broker=private_broker, private_redis=private_redis)
    metrics = Metrics(settings.ranking.max_suggestions)
    with stack:
        live = stack.settings()
        prod = producer(live)
        for order in data.train:
            send_json(prod, live.topic("orders"), order.user_id, order_to_json(order))
        prod.flush()
        expected = len({o.event_id for o in data.train})
        _await_applied(live, expected, WAIT_SECONDS + len(data.train) / 50)
        consumer = KafkaConsumer(
            live.topic("suggestions"),
            bootstrap_servers=live.kafka.broker_list,
            auto_offset_reset="latest",
            group_id=None,
        )
        consumer.poll(timeout_ms=500)  # join and position at the end before sending
        try:
            with progress_bar("eval (kafka)", data.triggers, "triggers") as bar:
                for order, items in data.sessions:
                    events = session_events(order, items)
                    for n, event in enumerate(events):
                        send_json(
                            prod,
                            live.topic("cart-events"),
                            event.user_id,
                            {
                                "event_id": event.event_id,
                                "type": event.type,
                                "user_id": event.user_id,
                                "item_id": event.item_id,
                                "ts": event.ts,
                            },
                        )
                        prod.flush()
                        message = _await(consumer, suggestion_id(Stream.CART, event.event_id))
                        if n < len(events) - 1:
                            metrics.add(
                                [i["item_id"] for i in message["items"]], set(items[n + 1 :])
                            )
                            bar.update()
                    checkout = session_checkout(order, items)
                    send_json(prod, live.topic("orders"), checkout.user_id, order_to_json(checkout))
                    prod.flush()
                    expected += 1
                    _await_applied(live, expected, WAIT_SECONDS)
        finally:
            consumer.close()
            prod.close()
    return metrics


def _await_applied(settings: Settings, expected: int, seconds: float) -> None:
    """Wait until the worker has applied ``expected`` orders."""
    deadline = time.monotonic() + seconds
    while asyncio.run(_applied_orders(settings)) < expected:
        if time.monotonic() > deadline:
            raise XsellError(f"the worker did not apply {expected} orders within {seconds:.0f}s")
        time.sleep(0.05)


def _await(consumer: KafkaConsumer, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=100).values():
            for record in records:
                message: dict[str, Any] = json.loads(record.value)
                if message["suggestion_id"] == wanted:
                    return message
    raise XsellError(f"no suggestion {wanted} within {WAIT_SECONDS}s")
