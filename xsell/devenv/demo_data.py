"""What ``xsell demo`` plays: a catalogue, past orders to learn from, and live events (JSON of
the input contracts) -- from the synthetic shop, or from an orders CSV."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from typing import Any

from xsell.config.settings import Settings
from xsell.devenv.synthetic_shop import DEFAULT_START_TS, Shop, make_catalog
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.ops.orders_csv import load_orders, order_to_json

HISTORY_ORDERS = 3000
Source = tuple[list[CatalogItem], list[PurchaseEvent], Iterator[dict[str, Any]]]


def synthetic(now: float | None = None) -> Source:
    """The synthetic shop, with its history ending an hour before ``now`` and the live
    shoppers starting at ``now``: a visitor's clicks on the demo page (wall-clock times) then
    fall in the same timeline, and the 30-day decay leaves the history's weight intact."""
    now = time.time() if now is None else now
    catalog = make_catalog(seed=7)
    shop = Shop(catalog, seed=7)
    history = shop.orders(HISTORY_ORDERS, seed=1)
    shift = (now - 3600) - history[-1].ts
    history = shop.orders(HISTORY_ORDERS, seed=1, start_ts=DEFAULT_START_TS + shift)

    def live() -> Iterator[dict[str, Any]]:
        batch = 0
        while True:
            sessions = shop.cart_sessions(
                50, seed=100 + batch, start_ts=time.time(), first_session=batch * 50
            )
            for session in sessions:
                for event in session:
                    yield {
                        "event_id": event.event_id,
                        "type": event.type,
                        "user_id": event.user_id,
                        "item_id": event.item_id,
                        "ts": event.ts,
                    }
                adds = [e for e in session if e.type == "add_to_cart"]
                removed = {e.item_id for e in session if e.type == "remove_from_cart"}
                items = [e.item_id for e in adds if e.item_id not in removed]
                # two sessions in three end in a purchase (the session id decides: every
                # first event id ends in -e00, so its last digit would never buy)
                if items and zlib.crc32(session[0].event_id.encode()) % 3:
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


def from_csv(path: str, map_text: str | None, skip_text: str | None, settings: Settings) -> Source:
    """A real orders file: its first 80% as history, the rest replayed item by item."""
    orders, _ = load_orders(path, map_text, skip_text, settings.limits)
    cut = int(len(orders) * 0.8)

    def live() -> Iterator[dict[str, Any]]:
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
