"""Shopify webhooks as xsell records (docs/integrations.md, "Shopify").

Item ids: a variant's SKU where it has one, else the Shopify product id, in orders, carts and
the catalogue alike (variants without a SKU are one item: the lowest price, the summed stock).
User ids: the customer's id; a guest's order and every cart (Shopify sends carts without the
customer) use the cart token, which the storefront also knows (``/cart.js``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xsell.connect.common import (
    Record,
    amount,
    event_id,
    ident,
    items_of,
    obj,
    optional_ident,
    order_lines,
    tags_of,
    timestamp,
)
from xsell.models.events import purchase_event_id

PLATFORM = "shopify"
ORDER, CART_TOPICS = "orders/create", frozenset({"carts/create", "carts/update"})
PRODUCT_TOPICS = frozenset({"products/create", "products/update"})
DELETE, REDACT, DATA_REQUEST = "products/delete", "customers/redact", "customers/data_request"
TOPICS = frozenset({ORDER, DELETE, REDACT, DATA_REQUEST, *CART_TOPICS, *PRODUCT_TOPICS})


def item_of(line: dict[str, Any], where: str) -> str | None:
    """A line's item id: its SKU, else its product id; None for a custom line (no product)."""
    sku = optional_ident(line.get("sku"))
    if sku is not None:
        return sku
    product = line.get("product_id")
    return None if product is None else ident(product, f"{where}.product_id")


def order_records(payload: Any, now: float) -> list[Record]:
    """``orders/create``: one purchase (none when no line has a product)."""
    order = obj(payload, "body")
    order_id = ident(order.get("id"), "id")
    customer = order.get("customer")
    user = optional_ident(customer.get("id")) if isinstance(customer, dict) else None
    user = user or optional_ident(order.get("cart_token"))
    lines = order_lines(order.get("line_items"), item_of)
    if not lines:
        return []
    return [
        {
            "type": "purchase",
            "event_id": purchase_event_id(f"{PLATFORM}:{order_id}"),
            "order_id": f"{PLATFORM}:{order_id}",
            "user_id": user,
            "ts": timestamp(order.get("created_at"), "created_at", now),
            "items": lines,
        }
    ]


@dataclass(frozen=True, slots=True)
class Cart:
    """A Shopify cart as xsell needs it: who (the token), what (item -> quantity), when."""

    cart_id: str
    lines: dict[str, float]
    prices: dict[str, float]
    ts: float


def cart_of(payload: Any, now: float) -> Cart:
    """``carts/create`` and ``carts/update``: the cart's current lines."""
    cart = obj(payload, "body")
    cart_id = ident(cart.get("token") or cart.get("id"), "token")
    lines: dict[str, float] = {}
    prices: dict[str, float] = {}
    for index, raw in enumerate(items_of(cart.get("line_items"), "line_items")):
        line = obj(raw, f"line_items[{index}]")
        item = item_of(line, f"line_items[{index}]")
        quantity = amount(line.get("quantity"), f"line_items[{index}].quantity")
        if item is None or (quantity is not None and quantity <= 0):
            continue
        lines[item] = lines.get(item, 0.0) + (1.0 if quantity is None else quantity)
        price = amount(line.get("price"), f"line_items[{index}].price")
        if price is not None:
            prices[item] = price
    return Cart(cart_id, lines, prices, timestamp(cart.get("updated_at"), "updated_at", now))


def cart_records(cart: Cart, previous: dict[str, float], delivery: str) -> list[Record]:
    """The add and remove events that turn ``previous`` into ``cart``: an item new or with a
    higher quantity is added (by the increase), an item gone is removed; ids from the delivery."""
    out: list[Record] = []
    for item, quantity in cart.lines.items():
        more = quantity - previous.get(item, 0.0)
        if more > 0:
            record: Record = {
                "type": "add_to_cart",
                "event_id": event_id(PLATFORM, delivery, "add", item),
                "user_id": cart.cart_id,
                "item_id": item,
                "ts": cart.ts,
                "quantity": more,
            }
            if item in cart.prices:
                record["price"] = cart.prices[item]
            out.append(record)
    for item in previous:
        if item not in cart.lines:
            out.append(
                {
                    "type": "remove_from_cart",
                    "event_id": event_id(PLATFORM, delivery, "remove", item),
                    "user_id": cart.cart_id,
                    "item_id": item,
                    "ts": cart.ts,
                }
            )
    return out


def product_records(payload: Any) -> tuple[str, list[Record]]:
    """``products/create|update``: the product's id and one catalogue record per item."""
    product = obj(payload, "body")
    product_id = ident(product.get("id"), "id")
    status = product.get("status")
    common: dict[str, Any] = {
        "type": "item",
        "active": status is None or status == "active",
    }
    title = product.get("title")
    if isinstance(title, str) and title.strip():
        common["name"] = title.strip()
    named = (("category", product.get("product_type")), ("brand", product.get("vendor")))
    for field, value in named:
        if isinstance(value, str) and value.strip():
            common[field] = value.strip()
    tags = tags_of(product.get("tags"))
    if tags:
        common["tags"] = tags
    variants = items_of(product.get("variants", []), "variants")
    by_item: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(variants):
        variant = obj(raw, f"variants[{index}]")
        sku = optional_ident(variant.get("sku"))
        item = sku or product_id
        price = amount(variant.get("price"), f"variants[{index}].price")
        stock = amount(variant.get("inventory_quantity"), f"variants[{index}].inventory_quantity")
        record = by_item.setdefault(item, {**common, "item_id": item})
        if price is not None:
            record["price"] = min(price, record.get("price", price))
        if stock is not None:
            record["stock"] = max(0.0, stock) + record.get("stock", 0.0)
    if not by_item:
        by_item[product_id] = {**common, "item_id": product_id}
    return product_id, list(by_item.values())


def deleted_product(payload: Any) -> str:
    """``products/delete``: the deleted product's id."""
    return ident(obj(payload, "body").get("id"), "id")


def retired_records(items: list[str]) -> list[Record]:
    """Catalogue records that take ``items`` out of suggestions (a deleted product)."""
    return [{"type": "item", "item_id": item, "active": False} for item in items]


def customer_of(payload: Any) -> str:
    """``customers/redact`` and ``customers/data_request``: the customer's id."""
    body = obj(payload, "body")
    return ident(obj(body.get("customer"), "customer").get("id"), "customer.id")


def forget_record(user: str, delivery: str, now: float) -> Record:
    """``customers/redact``: the forget-user event of the customer."""
    return {
        "type": "forget_user",
        "event_id": event_id(PLATFORM, delivery, "forget", user),
        "user_id": user,
        "ts": now,
    }
