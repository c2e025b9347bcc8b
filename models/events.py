"""The events of the external contract as checked, immutable values: what the rest of xsell
works with once :mod:`xsell.models.validate` has parsed and validated a record."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits (from Settings) applied while parsing."""

    max_id_length: int = 128
    max_order_lines: int = 1000
    max_payload_bytes: int = 1 << 20
    max_name_length: int = 1000  # characters of a catalogue item's display name
    dead_letter_payload_chars: int = 100_000  # a dead letter's payload is cut to this


@dataclass(frozen=True, slots=True)
class OrderLine:
    item_id: str
    quantity: float = 1.0
    price: float | None = None
    suggestion_id: str | None = None  # the suggestion the line came from, when the shop knows
    bundle_id: str | None = None  # the bundle the line was bought in ("buy all three")


@dataclass(frozen=True, slots=True)
class CartEvent:
    event_id: str
    type: str  # "add_to_cart" | "remove_from_cart" | "view" (an item page seen: VIEW)
    user_id: str
    item_id: str
    ts: float
    quantity: float = 1.0
    price: float | None = None
    session_id: str | None = None
    suggestion_id: str | None = None  # the suggestion the item was added from (a recommId)


@dataclass(frozen=True, slots=True)
class PurchaseEvent:
    event_id: str
    order_id: str
    user_id: str | None
    ts: float
    items: tuple[OrderLine, ...]
    type: str = "purchase"

    def distinct_items(self) -> list[str]:
        """Distinct item ids in first-seen order (the order's add-to-cart order)."""
        return list(dict.fromkeys(line.item_id for line in self.items))


@dataclass(frozen=True, slots=True)
class ForgetUser:
    event_id: str
    user_id: str
    ts: float
    type: str = "forget_user"


@dataclass(frozen=True, slots=True)
class CatalogItem:
    item_id: str
    category: str | None = None
    price: float | None = None
    stock: float | None = None
    active: bool = True
    name: str | None = None
    type: str = "item"
    extra: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()  # merchant rules boost and promote by tag (docs/rules.md)
    cost: float | None = None  # what the item costs the shop: the bundles' margin floor


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    """What the storefront saw happen to a suggestion: shown, clicked, dismissed."""

    event_id: str
    type: str  # "impression" | "click" | "dismiss"
    suggestion_id: str
    user_id: str
    ts: float
    item_id: str | None = None  # the offer clicked or dismissed; None: the whole suggestion


Event = CartEvent | PurchaseEvent | ForgetUser | CatalogItem | FeedbackEvent
CART_TYPES = ("add_to_cart", "remove_from_cart")
VIEW = "view"  # a cart-events record of an item page seen: never a cart change nor a purchase
CART_STREAM_TYPES = (*CART_TYPES, VIEW)  # the types the cart-events topic carries


def is_view(event: object) -> bool:
    """A view (an item page seen) travels on the cart-events topic as a CartEvent, but it
    changes no cart, pairs no co-adds and earns no attribution: every cart path asks this."""
    return isinstance(event, CartEvent) and event.type == VIEW


FEEDBACK_TYPES = ("impression", "click", "dismiss")


def purchase_event_id(order_id: str) -> str:
    """Event id of a purchase derived from its order id, so re-sending an order is a no-op."""
    return "order-" + hashlib.sha256(order_id.encode()).hexdigest()[:24]
