"""Strict parsing of input records into events: the worker's hot path.

Every input record goes through :func:`parse_record`; anything that is not a valid event raises
:class:`~xsell.models.errors.InvalidEvent` with a human-readable reason (which the worker sends to
the dead letter). Ids are strings; integers are accepted and turned into strings, since shops often
use numeric ids. Limits exist so that one hostile record cannot cost unbounded memory or time.

The messages are declared once, as pydantic models in :mod:`xsell.models.messages` (the JSON Schemas
of docs/schemas/ and the API's bodies come from them). This parser stays because it is faster
than validating those models (``python -m xsell.bench.parse_bench``; docs/benchmarks.md); it is
built from the same rule functions (:mod:`xsell.models.messages.rules`), and
tests/unit/test_messages.py runs both over the valid and hostile cases and asserts the same
verdicts and the same events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xsell.models.errors import InvalidEvent
from xsell.models.events import (
    CART_STREAM_TYPES,
    FEEDBACK_TYPES,
    CartEvent,
    CatalogItem,
    Event,
    FeedbackEvent,
    ForgetUser,
    Limits,
    OrderLine,
    PurchaseEvent,
)
from xsell.models.messages.rules import (
    MAX_NESTING,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_STOCK,
    MAX_TS,
    MIN_TS,
    decode_json,
    display_name,
    flag,
    kind,
    number,
    one_of,
    optional_id,
    order_lines,
    parse_id,
    parse_ts,
    required_id,
    tag_list,
)

__all__ = [
    "MAX_NESTING",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_TS",
    "MIN_TS",
    "PARSERS",
    "decode_json",
    "parse_cart",
    "parse_catalog",
    "parse_feedback",
    "parse_id",
    "parse_order",
    "parse_record",
    "parse_ts",
]


def parse_cart(obj: dict[str, Any], limits: Limits) -> CartEvent:
    return CartEvent(
        type=one_of(obj.get("type"), CART_STREAM_TYPES),
        event_id=required_id(obj.get("event_id"), "event_id", limits),
        user_id=required_id(obj.get("user_id"), "user_id", limits),
        item_id=required_id(obj.get("item_id"), "item_id", limits),
        ts=parse_ts(obj.get("ts")),
        quantity=number(obj.get("quantity"), "quantity", MAX_QUANTITY, 1.0) or 0.0,
        price=number(obj.get("price"), "price", MAX_PRICE, None),
        session_id=optional_id(obj.get("session_id"), "session_id", limits),
        suggestion_id=optional_id(obj.get("suggestion_id"), "suggestion_id", limits),
    )


def parse_line(index: int, line: Any, limits: Limits) -> OrderLine:
    """One order line; its reasons are prefixed with ``items[index].``."""
    if not isinstance(line, dict):
        raise InvalidEvent(f"items[{index}]: expected an object, got {kind(line)}")
    try:
        return OrderLine(
            item_id=required_id(line.get("item_id"), "item_id", limits),
            quantity=number(line.get("quantity"), "quantity", MAX_QUANTITY, 1.0) or 0.0,
            price=number(line.get("price"), "price", MAX_PRICE, None),
            suggestion_id=optional_id(line.get("suggestion_id"), "suggestion_id", limits),
            bundle_id=optional_id(line.get("bundle_id"), "bundle_id", limits),
        )
    except InvalidEvent as exc:
        raise InvalidEvent(f"items[{index}].{exc.reason}") from None


def parse_lines(items: Any, limits: Limits) -> tuple[OrderLine, ...]:
    """An order's 1..max_order_lines lines."""
    lines = order_lines(items, limits)
    return tuple(parse_line(index, line, limits) for index, line in enumerate(lines))


def parse_order(obj: dict[str, Any], limits: Limits) -> PurchaseEvent | ForgetUser:
    kind_ = obj.get("type")
    if kind_ == "forget_user":
        return ForgetUser(
            event_id=required_id(obj.get("event_id"), "event_id", limits),
            user_id=required_id(obj.get("user_id"), "user_id", limits),
            ts=parse_ts(obj.get("ts")),
        )
    if kind_ != "purchase":
        raise InvalidEvent(f"type: expected 'purchase' or 'forget_user', got {str(kind_)[:40]!r}")
    items = parse_lines(obj.get("items"), limits)
    return PurchaseEvent(
        event_id=required_id(obj.get("event_id"), "event_id", limits),
        order_id=required_id(obj.get("order_id"), "order_id", limits),
        user_id=optional_id(obj.get("user_id"), "user_id", limits),
        ts=parse_ts(obj.get("ts")),
        items=items,
    )


def parse_catalog(obj: dict[str, Any], limits: Limits) -> CatalogItem:
    one_of(obj.get("type"), ("item",))
    active = flag(obj.get("active", True), "active")
    category = optional_id(obj.get("category"), "category", limits)
    name = display_name(obj.get("name"), limits)
    item_id = required_id(obj.get("item_id"), "item_id", limits)
    price = number(obj.get("price"), "price", MAX_PRICE, None)
    stock = number(obj.get("stock"), "stock", MAX_STOCK, None)
    cost = number(obj.get("cost"), "cost", MAX_PRICE, None)
    # checked, not kept: brand (ranking does not read it yet)
    optional_id(obj.get("brand"), "brand", limits)
    tags = tag_list(obj.get("tags")) or ()  # kept: merchant rules boost and promote by tag
    return CatalogItem(
        item_id=item_id,
        category=category,
        price=price,
        stock=stock,
        active=active,
        name=name,
        tags=tags,
        cost=cost,
    )


def parse_feedback(obj: dict[str, Any], limits: Limits) -> FeedbackEvent:
    return FeedbackEvent(
        type=one_of(obj.get("type"), FEEDBACK_TYPES),
        event_id=required_id(obj.get("event_id"), "event_id", limits),
        suggestion_id=required_id(obj.get("suggestion_id"), "suggestion_id", limits),
        user_id=required_id(obj.get("user_id"), "user_id", limits),
        ts=parse_ts(obj.get("ts")),
        item_id=optional_id(obj.get("item_id"), "item_id", limits),
    )


PARSERS: dict[str, Callable[[dict[str, Any], Limits], Event]] = {
    "cart-events": parse_cart,
    "orders": parse_order,
    "catalog": parse_catalog,
    "feedback": parse_feedback,
}


def parse_record(stream: str, raw: bytes | str | None, limits: Limits) -> Event:
    """Parse one record value from the logical topic ``stream`` into an event."""
    parser = PARSERS.get(stream)
    if parser is None:
        raise InvalidEvent(f"no parser for topic {stream!r}")
    return parser(decode_json(raw, limits), limits)
