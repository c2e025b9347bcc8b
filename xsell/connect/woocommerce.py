"""WooCommerce webhooks as xsell records (docs/integrations.md, "WooCommerce").

Item ids: the product's SKU where it has one, else its WooCommerce product id (a line's
``variation_id`` when it is a variation without a SKU). User ids: the customer id, or for a
guest (customer id 0) none.
"""

from __future__ import annotations

from typing import Any

from xsell.connect.common import (
    Record,
    amount,
    ident,
    obj,
    optional_ident,
    order_lines,
    tags_of,
    timestamp,
)
from xsell.models.events import purchase_event_id

PLATFORM = "woocommerce"
ORDER = "order.created"
PRODUCT_TOPICS = frozenset({"product.created", "product.updated"})
TOPICS = frozenset({ORDER, *PRODUCT_TOPICS})


def _line_item(line: dict[str, Any], where: str) -> str | None:
    sku = optional_ident(line.get("sku"))
    if sku is not None:
        return sku
    variation = line.get("variation_id")
    if variation not in (None, 0, "0", ""):
        return ident(variation, f"{where}.variation_id")
    product = line.get("product_id")
    if product in (None, 0, "0", ""):
        return None  # a line of a product since deleted
    return ident(product, f"{where}.product_id")


def order_records(payload: Any, now: float) -> list[Record]:
    """``order.created``: one purchase (none when no line has a product)."""
    order = obj(payload, "body")
    order_id = ident(order.get("id"), "id")
    customer = optional_ident(order.get("customer_id"))
    lines = order_lines(order.get("line_items"), _line_item)
    if not lines:
        return []
    created = order.get("date_created_gmt") or order.get("date_created")
    return [
        {
            "type": "purchase",
            "event_id": purchase_event_id(f"{PLATFORM}:{order_id}"),
            "order_id": f"{PLATFORM}:{order_id}",
            "user_id": None if customer in (None, "0") else customer,
            "ts": timestamp(created, "date_created_gmt", now),
            "items": lines,
        }
    ]


def product_records(payload: Any) -> list[Record]:
    """``product.created|updated``: the product's catalogue record."""
    product = obj(payload, "body")
    product_id = ident(product.get("id"), "id")
    item = optional_ident(product.get("sku")) or product_id
    record: Record = {
        "type": "item",
        "item_id": item,
        "active": product.get("status", "publish") == "publish",
    }
    name = product.get("name")
    if isinstance(name, str) and name.strip():
        record["name"] = name.strip()
    categories = product.get("categories")
    if isinstance(categories, list) and categories:
        first = obj(categories[0], "categories[0]")
        category = first.get("slug") or first.get("name")
        if isinstance(category, str) and category.strip():
            record["category"] = category.strip()
    price = amount(product.get("price"), "price")
    if price is not None:
        record["price"] = price
    stock = amount(product.get("stock_quantity"), "stock_quantity")
    if stock is not None:
        record["stock"] = max(0.0, stock)
    elif product.get("stock_status") == "outofstock":
        record["stock"] = 0.0
    tags = tags_of(product.get("tags"))
    if tags:
        record["tags"] = tags
    brands = product.get("brands")  # WooCommerce 9.6+ (the Brands taxonomy)
    if isinstance(brands, list) and brands and isinstance(brands[0], dict):
        brand = brands[0].get("name")
        if isinstance(brand, str) and brand.strip():
            record["brand"] = brand.strip()
    return [record]
