"""``xsell demo``: the whole pipeline on one machine, with live suggestions in the terminal.

Starts a private Kafka-protocol broker and redis-server unless XSELL_KAFKA_BROKERS /
XSELL_REDIS_URL are set, creates the topics, starts a worker, loads a catalogue and order
history (the synthetic shop, or ``--orders FILE``: its first 80% as history, the rest live),
then plays shoppers' carts and purchases into Kafka and prints each suggestion as it arrives.
Ctrl-C (or ``--seconds``) stops everything it started, by PID.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from kafka import KafkaConsumer

from config.settings import Settings
from models.events import CartEvent, CatalogItem, PurchaseEvent
from xsell.devenv.stack import LocalStack
from xsell.devenv.synthetic_shop import Shop, make_catalog
from xsell.kafka_clients import producer, send_json
from xsell.ops.loading import backfill
from xsell.ops.orders_csv import load_orders, order_to_json
from xsell.store.apply import Store

HISTORY_ORDERS = 3000


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _cart_json(event: CartEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "type": event.type,
        "user_id": event.user_id,
        "item_id": event.item_id,
        "ts": event.ts,
    }


def _synthetic() -> tuple[list[CatalogItem], list[PurchaseEvent], Iterator[Any]]:
    catalog = make_catalog(seed=7)
    shop = Shop(catalog, seed=7)
    history = shop.orders(HISTORY_ORDERS, seed=1)
    start = history[-1].ts + 3600

    def live() -> Iterator[Any]:
        batch = 0
        while True:
            sessions = shop.cart_sessions(
                50, seed=100 + batch, start_ts=start + batch * 86400, first_session=batch * 50
            )
            for session in sessions:
                yield from session
                adds = [e for e in session if e.type == "add_to_cart"]
                removed = {e.item_id for e in session if e.type == "remove_from_cart"}
                items = [e.item_id for e in adds if e.item_id not in removed]
                if items and int(session[0].event_id[-1], 16) % 3:
                    yield {
                        "event_id": f"buy-{session[0].event_id}",
                        "type": "purchase",
                        "order_id": f"demo-{session[0].event_id}",
                        "user_id": session[0].user_id,
                        "ts": session[-1].ts + 60,
                        "items": [{"item_id": i} for i in dict.fromkeys(items)],
                    }
            batch += 1

    return catalog, history, live()


def _from_csv(
    options: DemoOptions, settings: Settings
) -> tuple[list[CatalogItem], list[PurchaseEvent], Iterator[Any]]:
    assert options.orders is not None
    orders, _ = load_orders(options.orders, options.map, options.skip_items, settings.limits)
    cut = int(len(orders) * 0.8)

    def live() -> Iterator[Any]:
        for order in orders[cut:]:
            user = order.user_id or f"guest-{order.order_id}"
            for n, item in enumerate(order.distinct_items()):
                yield {
                    "event_id": f"{order.event_id}-add{n}",
                    "type": "add_to_cart",
                    "user_id": user,
                    "item_id": item,
                    "ts": order.ts + n,
                }
            yield order_to_json(order)

    return [], orders[:cut], live()


def _show(message: dict[str, Any], names: dict[str, str]) -> str:
    trigger = message["trigger"]
    what = "added" if message["placement"] == "cart" else "bought"
    items = ", ".join(names.get(i, i) for i in trigger["item_ids"][:3])
    offers = []
    for offer in message["items"]:
        text = names.get(offer["item_id"], offer["item_id"])
        because = offer["because"]
        if because:
            text += f" ({because['confidence']:.0%} of buyers of {because['item_id']})"
        else:
            text += f" ({offer['kind']})"
        offers.append(text)
    return f"{message['user_id'] or 'guest'} {what} {items}  ->  " + ("; ".join(offers) or "-")


@dataclass(frozen=True)
class DemoOptions:
    """``xsell demo``'s arguments."""

    orders: str | None = None  # an orders CSV instead of the synthetic shop
    map: str | None = None
    skip_items: str | None = None
    seconds: float = 0.0  # 0 = until Ctrl-C
    rate: float = 20.0  # events per second shown


def run_demo(options: DemoOptions) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    stack = LocalStack()
    try:
        print("xsell demo: starting broker, Redis and a worker (Ctrl-C stops)...", flush=True)
        settings = stack.start()
        print("started: " + ", ".join(f"{k} pid {v}" for k, v in stack.pids().items()), flush=True)
        catalog, history, live = _from_csv(options, settings) if options.orders else _synthetic()
        names = {c.item_id: c.name or c.item_id for c in catalog}
        prod = producer(settings)
        for item in catalog:
            send_json(
                prod,
                settings.topic("catalog"),
                item.item_id,
                {
                    "type": "item",
                    "item_id": item.item_id,
                    "category": item.category,
                    "price": item.price,
                    "stock": item.stock,
                    "active": item.active,
                    "name": item.name,
                },
            )
        prod.flush()

        async def load() -> None:
            store = await Store.open(settings)
            try:
                await backfill(store, history, total=len(history))
            finally:
                await store.close()

        asyncio.run(load())
        print(
            f"loaded {len(catalog)} catalogue items and {len(history)} past orders; "
            "playing shoppers...",
            flush=True,
        )
        _play(options, settings, prod, live, names)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        stack.stop()
        print("stopped: " + ", ".join(stack.pids()) + " (all processes it started)", flush=True)
    return 0


def _play(
    options: DemoOptions, settings: Settings, prod: Any, live: Iterator[Any], names: dict[str, str]
) -> None:
    consumer = KafkaConsumer(
        settings.topic("suggestions"),
        bootstrap_servers=settings.broker_list,
        auto_offset_reset="earliest",
        group_id=None,
    )
    deadline = time.monotonic() + options.seconds if options.seconds else float("inf")
    interval = 1.0 / max(options.rate, 0.1)
    shown = 0
    while time.monotonic() < deadline:
        event = next(live, None)
        if event is not None:
            value = _cart_json(event) if isinstance(event, CartEvent) else event
            topic = "cart-events" if value["type"] != "purchase" else "orders"
            send_json(prod, settings.topic(topic), value["user_id"], value)
            prod.flush()
        for records in consumer.poll(timeout_ms=int(interval * 1000)).values():
            for record in records:
                print(_show(json.loads(record.value), names), flush=True)
                shown += 1
    consumer.close()
    print(f"{shown} suggestions shown", flush=True)
