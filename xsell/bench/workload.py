"""Benchmark event mixes drawn from real orders.

- ``cart``: add-to-cart heavy. Each order is replayed item by item as add-to-cart events of its
  user (guests get ``guest-ORDER``), then sent as the purchase that empties the cart: about 23
  add-to-carts per purchase on Online Retail II.
- ``purchase``: purchase heavy: every order is one purchase event, no add-to-carts.

Orders are taken from the end of the file (the most recent, whose items the backfilled state
knows), oldest first, cycling when more are needed. Every event gets a fresh ``event_id``
(``TAG-N``), so the store's exactly-once guard never turns a benchmark event into a no-op.
Order lines: an add-to-cart is one line, a purchase all its lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from xsell.models.events import PurchaseEvent
from xsell.ops.orders_csv import order_to_json

MIXES = ("cart", "purchase")
AGENTS = ("xsell", "passthrough", "naive")  # worker modes (xsell/bench/agents.py)
# on request only (--agents): xsell with XSELL_ATTRIBUTION=false, the cost of the report
EXTRA_AGENTS = ("xsell-noattr", "xsell-notune")


@dataclass(frozen=True, slots=True)
class BenchEvent:
    topic: str  # logical topic: cart-events | orders
    key: bytes | None
    value: bytes
    event_id: str
    lines: int


def _recent(orders: Sequence[PurchaseEvent]) -> Iterator[PurchaseEvent]:
    """Orders from the most recent backwards, forever (the caller stops)."""
    if not orders:
        raise ValueError("no orders to draw benchmark events from")
    while True:
        yield from reversed(orders)


def _encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _purchase(order: PurchaseEvent, event_id: str, user: str | None, ts: float) -> BenchEvent:
    value = {**order_to_json(order), "event_id": event_id, "user_id": user, "ts": ts}
    return BenchEvent(
        "orders",
        None if user is None else user.encode(),
        _encode(value),
        event_id,
        len(order.items),
    )


def _cart_session(order: PurchaseEvent, tag: str, start: int) -> list[BenchEvent]:
    user = order.user_id or f"guest-{order.order_id}"
    out = []
    items = order.distinct_items()
    for n, item in enumerate(items):
        event_id = f"{tag}-{start + n}"
        value = {
            "event_id": event_id,
            "type": "add_to_cart",
            "user_id": user,
            "item_id": item,
            "ts": order.ts + n,
        }
        out.append(BenchEvent("cart-events", user.encode(), _encode(value), event_id, 1))
    out.append(_purchase(order, f"{tag}-{start + len(items)}", user, order.ts + len(items)))
    return out


def make_events(mix: str, orders: Sequence[PurchaseEvent], n: int, tag: str) -> list[BenchEvent]:
    """``n`` events of ``mix`` (see module doc), in the order they are to be sent."""
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}; one of {', '.join(MIXES)}")
    chosen: list[PurchaseEvent] = []
    needed = 0
    for order in _recent(orders):
        if needed >= n:
            break
        chosen.append(order)
        needed += len(order.distinct_items()) + 1 if mix == "cart" else 1
    chosen.reverse()  # oldest first, as they happened
    events: list[BenchEvent] = []
    for order in chosen:
        if mix == "cart":
            events.extend(_cart_session(order, tag, len(events)))
        else:
            events.append(_purchase(order, f"{tag}-{len(events)}", order.user_id, order.ts))
    return events[:n]


def event_id_of(value: bytes) -> str | None:
    """The trigger's event id of a suggestions-topic record: xsell's and the naive agent's
    ``trigger.event_id``, or the passthrough's copy of the event (``event_id``)."""
    try:
        message = json.loads(value)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    trigger = message.get("trigger")
    found = trigger.get("event_id") if isinstance(trigger, dict) else message.get("event_id")
    return found if isinstance(found, str) else None
