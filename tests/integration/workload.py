"""A deterministic shop workload for the scale-out and cluster tests: the synthetic catalogue,
purchases, and cart sessions of shoppers who do not buy in it (so per-user order within one
topic is all that state depends on, whatever worker or partition handles what)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from xsell.devenv.synthetic_shop import Shop, make_catalog
from xsell.models.events import CartEvent, CatalogItem, Event, PurchaseEvent
from xsell.ops.orders_csv import catalog_to_json, order_to_json
from xsell.store import Store


@dataclass
class Workload:
    catalog: list[CatalogItem]
    orders: list[PurchaseEvent]
    carts: list[CartEvent]

    @property
    def triggers(self) -> int:
        """Events that each give one suggestion."""
        return len(self.orders) + sum(e.type == "add_to_cart" for e in self.carts)

    def records(self) -> list[tuple[str, str | None, bytes]]:
        """(logical topic, key, value) of every event: catalogue first, then orders and carts
        interleaved."""
        out: list[tuple[str, str | None, bytes]] = [
            ("catalog", i.item_id, json.dumps(catalog_to_json(i)).encode()) for i in self.catalog
        ]
        carts = iter(self.carts)
        for order in self.orders:
            out.append(("orders", order.user_id, json.dumps(order_to_json(order)).encode()))
            for event in (next(carts, None), next(carts, None)):
                if event is not None:
                    out.append(("cart-events", event.user_id, cart_json(event)))
        out.extend(("cart-events", e.user_id, cart_json(e)) for e in carts)
        return out


def cart_json(event: CartEvent) -> bytes:
    value: dict[str, Any] = {
        "event_id": event.event_id,
        "type": event.type,
        "user_id": event.user_id,
        "item_id": event.item_id,
        "ts": event.ts,
        "quantity": event.quantity,
        "price": event.price,
        "session_id": event.session_id,
    }
    return json.dumps(value).encode()


def make_workload(orders: int, sessions: int, seed: int = 5) -> Workload:
    catalog = make_catalog(seed)
    shop = Shop(catalog, seed=seed)
    carts = [
        replace(e, user_id="c-" + e.user_id)
        for s in shop.cart_sessions(sessions, seed=seed)
        for e in s
    ]
    return Workload(catalog, shop.orders(orders, seed=seed), carts)


async def apply_all(store: Store, events: Sequence[Event], batch: int = 200) -> None:
    for start in range(0, len(events), batch):
        await store.apply(events[start : start + batch])


async def apply_workload(store: Store, work: Workload, batch: int = 200) -> None:
    """Straight into Redis: catalogue, orders, then carts (each in event order)."""
    await apply_all(store, work.catalog, batch)
    await apply_all(store, work.orders, batch)
    await apply_all(store, work.carts, batch)
