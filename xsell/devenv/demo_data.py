"""What ``xsell demo`` plays: a catalogue, past orders to learn from, and live events (JSON of
the input contracts) -- from the synthetic shop, or from an orders CSV."""

from __future__ import annotations

import dataclasses
import time
import zlib
from collections.abc import Iterator
from typing import Any

from xsell.config.settings import Settings
from xsell.devenv.simulated import simulated_user
from xsell.devenv.synthetic_shop import Shop, make_catalog
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.ops.orders_csv import load_orders, order_to_json

# Enough history that every phone has been bought a hundred times or more: with a few dozen
# orders a single stray basket made a camera "17% bought together" with a phone.
HISTORY_ORDERS = 12000
NOISE = 0.03  # baskets with one unrelated item (the evaluation's shop has 15%)
ANCHOR_SKEW = 0.3  # anchors almost equally popular: no phone with a handful of orders
Source = tuple[list[CatalogItem], list[PurchaseEvent], Iterator[dict[str, Any]]]


def synthetic(now: float | None = None) -> Source:
    """The synthetic shop, with its history ending an hour before ``now`` and the live
    shoppers starting at ``now``: a visitor's clicks on the demo page (wall-clock times) then
    fall in the same timeline, and the 30-day decay leaves the history's weight intact.

    Every shopper it makes up is a simulated user (:func:`simulated_user`), never one of the
    ids a person uses on the demo page or through the API."""
    now = time.time() if now is None else now
    catalog = make_catalog(seed=7)
    shop = Shop(
        catalog, seed=7, orders_per_day=HISTORY_ORDERS / 14, noise=NOISE, anchor_skew=ANCHOR_SKEW
    )
    history = shop.orders(HISTORY_ORDERS, seed=1)
    shift = float(int((now - 3600) - history[-1].ts))
    history = [_simulated(order, shift) for order in history]

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
                        "user_id": simulated_user(event.user_id),
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
                        "user_id": simulated_user(session[0].user_id),
                        "ts": session[-1].ts + 60,
                        "items": [{"item_id": i} for i in dict.fromkeys(items)],
                    }
            batch += 1

    return catalog, history, live()


def _simulated(order: PurchaseEvent, shift: float = 0.0) -> PurchaseEvent:
    """An order of the history, moved by ``shift`` seconds, placed by a simulated user."""
    user = None if order.user_id is None else simulated_user(order.user_id)
    return dataclasses.replace(order, user_id=user, ts=order.ts + shift)


def from_csv(path: str, map_text: str | None, skip_text: str | None, settings: Settings) -> Source:
    """A real orders file: its first 80% as history, the rest replayed item by item; its
    users are played as simulated users, as the synthetic ones are."""
    loaded, _ = load_orders(path, map_text, skip_text, settings.limits)
    orders = [_simulated(order) for order in loaded]
    cut = int(len(orders) * 0.8)

    def live() -> Iterator[dict[str, Any]]:
        for order in orders[cut:]:
            user = order.user_id or simulated_user(f"guest-{order.order_id}")
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
