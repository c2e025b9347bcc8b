"""``xsell demo``: the whole pipeline on one machine, live in the terminal and in a browser.

Starts a private Kafka-protocol broker and redis-server unless XSELL_KAFKA_BROKERS /
XSELL_REDIS_URL are set, creates the topics, starts a worker and the API (with keys it makes
up), serves the demo shop page (xsell/devenv/shop_page.py), loads a catalogue and order
history (the synthetic shop, or ``--orders FILE``: its first 80% as history, the rest live),
then plays shoppers' carts and purchases into Kafka and prints each suggestion as it arrives.
A person can meanwhile shop on the page and see the offers appear without reloading. Ctrl-C
(or ``--seconds``) stops everything it started, by PID.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from kafka import KafkaConsumer

from xsell.api.tokens import mint
from xsell.config.settings import Settings
from xsell.config.strength import new_secret
from xsell.devenv import demo_data
from xsell.devenv.servers import LocalApi, free_port
from xsell.devenv.shop_page import ShopConfig, ShopPage
from xsell.devenv.simulated import ACCEPT, Shoppers, is_simulated
from xsell.devenv.stack import LocalStack
from xsell.kafka_clients import producer, send_json
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.ops.loading import load_history
from xsell.ops.orders_csv import catalog_to_json
from xsell.store import Store

log = logging.getLogger(__name__)
VISITOR = "visitor"
DEMO_ENV = {
    "XSELL_KAFKA_FETCH_MAX_WAIT_MS": "20",
    "XSELL_BATCH_WINDOW": "0.01",
    # notifications within a minute: a cart is abandoned 30 s after its last activity
    "XSELL_NOTIFY_ABANDON_SECONDS": "30",
    "XSELL_NOTIFY_POST_PURCHASE_SECONDS": "20",
    "XSELL_NOTIFY_QUIET_HOURS": "",
    "XSELL_NOTIFY_CAPS": "push=3/300,email=1/600",
    "XSELL_NOTIFY_POLL_SECONDS": "0.5",
    # a control group of 20%: their orders are counted, they are shown no offers
    "XSELL_AB_HOLDOUT_PERCENT": "20",
}
CONSENT = {"push": True}  # the demo's shoppers and its visitor consent to push


@dataclass(frozen=True)
class DemoOptions:
    """``xsell demo``'s arguments."""

    orders: str | None = None  # an orders CSV instead of the synthetic shop
    map: str | None = None
    skip_items: str | None = None
    seconds: float = 0.0  # 0 = until Ctrl-C
    rate: float = 20.0  # events per second shown


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def show(message: dict[str, Any], names: dict[str, str]) -> str:
    """One line of the terminal view."""
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


def show_notification(message: dict[str, Any], names: dict[str, str]) -> str:
    """One line of the terminal view per notification sent."""
    items = ", ".join(names.get(o["item_id"], o["item_id"]) for o in message["items"])
    why = "left a cart" if message["reason"] == "cart_abandoned" else "bought"
    return f"notification: {message['user_id']} ({why}) on {message['channel']}: {items}"


def run_demo(options: DemoOptions) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    page_port = free_port()
    keys = {
        "secret": "sk-" + new_secret(),  # the prefixes tell a reader which is which
        "public": "pk-" + new_secret(),
        "token": new_secret(),
    }
    stack = LocalStack(
        {
            **DEMO_ENV,
            "XSELL_API_KEYS": keys["secret"],
            "XSELL_API_PUBLIC_KEYS": keys["public"],
            "XSELL_API_USER_TOKEN_SECRET": keys["token"],
            "XSELL_API_CORS_ORIGINS": f"http://127.0.0.1:{page_port}",
        }
    )
    api: LocalApi | None = None
    page: ShopPage | None = None
    try:
        print(
            "xsell demo: starting broker, Redis, a worker and the API (Ctrl-C stops)...", flush=True
        )
        settings = stack.start()
        api = LocalApi(stack.env)
        api.start(timeout=60)
        print(
            "started: "
            + ", ".join(f"{k} pid {v}" for k, v in {**stack.pids(), "api": api.pid}.items()),
            flush=True,
        )
        print(
            "its random ports, for `xsell status`, `xsell report` ... in another shell:\n  "
            + "\n  ".join(stack.exports()),
            flush=True,
        )
        catalog, history, live = (
            demo_data.from_csv(options.orders, options.map, options.skip_items, settings)
            if options.orders
            else demo_data.synthetic()
        )
        _load(settings, catalog, history)
        token = mint(keys["token"].encode(), VISITOR, int(time.time()) + 86400)
        page = ShopPage(
            ShopConfig(api.url, keys["secret"], keys["public"], VISITOR, token, tuple(catalog)),
            page_port,
        )
        _consent(settings, [VISITOR])
        page.start()
        print(f"loaded {len(catalog)} catalogue items and {len(history)} past orders", flush=True)
        print(
            f"demo shop: {page.url}/  (open it in a browser: add items to the cart and watch "
            f"the offers arrive; API {api.url}, docs {api.url}/docs)",
            flush=True,
        )
        print(
            f"dashboard: {api.url}/dashboard  (sign in with the demo's secret key "
            f"{keys['secret']}; live plots of the offers' acceptance and the uplift)",
            flush=True,
        )
        print(
            f"playing shoppers (simulated: each accepts a cart offer with probability "
            f"{ACCEPT:.0%}; the {DEMO_ENV['XSELL_AB_HOLDOUT_PERCENT']}% holdout is shown none)...",
            flush=True,
        )
        names = {c.item_id: c.name or c.item_id for c in catalog}
        shoppers = Shoppers({c.item_id: c.price for c in catalog if c.price is not None})
        _play(options, settings, live, names, page.notifications, shoppers)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        if page is not None:
            page.stop()
        if api is not None:
            api.stop()
        stack.stop()
        print(
            "stopped: " + ", ".join([*stack.pids(), "api"]) + " (all processes it started)",
            flush=True,
        )
    return 0


def _load(settings: Settings, catalog: list[CatalogItem], history: list[PurchaseEvent]) -> None:
    prod = producer(settings)
    try:
        for item in catalog:
            send_json(prod, settings.topic("catalog"), item.item_id, catalog_to_json(item))
        prod.flush()
    finally:
        prod.close()

    async def load() -> None:
        store = await Store.open(settings)
        try:
            # bulk into an empty namespace (seconds for the synthetic 12,000 orders), else
            # through the worker's scripts
            summary = await load_history(store, history)
            log.info("history loaded: %s", summary.as_dict())
        finally:
            await store.close()

    asyncio.run(load())


def _consent(settings: Settings, users: list[str]) -> None:
    prod = producer(settings)
    try:
        for user in users:
            profile = {"type": "user", "user_id": user, "consent": CONSENT}
            send_json(prod, settings.topic("profiles"), user, profile)
        prod.flush()
    finally:
        prod.close()


def _play(
    options: DemoOptions,
    settings: Settings,
    live: Iterator[dict[str, Any]],
    names: dict[str, str],
    visitor_notes: list[dict[str, Any]],
    shoppers: Shoppers,
) -> None:
    prod = producer(settings)
    consumer = KafkaConsumer(
        settings.topic("suggestions"),
        settings.topic("notifications"),
        bootstrap_servers=settings.kafka.broker_list,
        auto_offset_reset="earliest",
        group_id=None,
    )
    deadline = time.monotonic() + options.seconds if options.seconds else float("inf")
    interval = 1.0 / max(options.rate, 0.1)
    shown = notified = 0
    consented: set[str] = set()
    try:
        while time.monotonic() < deadline:
            value = next(live, None)
            if value is not None and not is_simulated(value["user_id"]):
                raise ValueError(f"the demo plays simulated users only: {value['user_id']!r}")
            if value is not None:
                value = {**value, "ts": time.time()}  # played now: abandonment is in seconds
                topic = "orders" if value["type"] == "purchase" else "cart-events"
                if topic == "orders":
                    value = shoppers.priced(value)
                if value["user_id"] not in consented:
                    consented.add(value["user_id"])
                    profile = {"type": "user", "user_id": value["user_id"], "consent": CONSENT}
                    send_json(prod, settings.topic("profiles"), value["user_id"], profile)
                send_json(prod, settings.topic(topic), value["user_id"], value)
                prod.flush()
            for records in consumer.poll(timeout_ms=int(interval * 1000)).values():
                for record in records:
                    if record.value is None:
                        continue
                    message = json.loads(record.value)
                    if record.topic == settings.topic("notifications"):
                        print(show_notification(message, names), flush=True)
                        notified += 1
                        if message["user_id"] == VISITOR:
                            visitor_notes.insert(0, message)
                    else:
                        print(show(message, names), flush=True)
                        shown += 1
                        for answer_topic, answer in shoppers.react(message, time.time()):
                            send_json(prod, settings.topic(answer_topic), answer["user_id"], answer)
    finally:
        consumer.close()
        prod.close()
    print(
        f"{shown} suggestions shown, {notified} notifications sent, {shoppers.answers} offers "
        "accepted by the simulated shoppers",
        flush=True,
    )
