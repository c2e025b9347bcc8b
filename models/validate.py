"""Strict parsing of input records into events.

Every input record goes through :func:`parse_record`; anything that is not a valid event raises
:class:`~models.errors.InvalidEvent` with a human-readable reason (which the worker sends to the
dead letter). Ids are strings; integers are accepted and turned into strings, since shops often
use numeric ids. Limits exist so that one hostile record cannot cost unbounded memory or time.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from models.errors import InvalidEvent
from models.events import (
    CART_TYPES,
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

MAX_NESTING = 8  # deeper JSON than this is rejected before use
MAX_PRICE = 1e9
MAX_QUANTITY = 1e6
MIN_TS = 0.0  # 1970
MAX_TS = 4102444800.0  # 2100-01-01


def parse_ts(value: Any) -> float:
    """Epoch seconds from RFC 3339 text or an epoch number."""
    if isinstance(value, bool):
        raise InvalidEvent("ts: expected RFC 3339 text or epoch seconds, got a boolean")
    if isinstance(value, int | float):
        ts = _float(value, "ts")
    elif isinstance(value, str):
        text = value.strip()
        try:
            ts = float(text)
        except ValueError:
            if text[-1:] in ("Z", "z"):
                text = text[:-1] + "+00:00"
            try:
                parsed = datetime.fromisoformat(text)
            except (ValueError, OverflowError):
                raise InvalidEvent(f"ts: not RFC 3339 or epoch seconds: {value[:40]!r}") from None
            if parsed.tzinfo is None:
                raise InvalidEvent("ts: RFC 3339 time needs a UTC offset (e.g. 'Z')") from None
            ts = parsed.timestamp()
    else:
        raise InvalidEvent(f"ts: expected RFC 3339 text or epoch seconds, got {_kind(value)}")
    if not (MIN_TS <= ts <= MAX_TS) or math.isnan(ts):
        raise InvalidEvent("ts: outside 1970..2100")
    return ts


def _float(value: int | float, name: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise InvalidEvent(f"{name}: number too large") from None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _id(obj: dict[str, Any], key: str, limits: Limits, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise InvalidEvent(f"{key}: missing")
        return None
    return parse_id(value, key, limits)


def parse_id(value: Any, key: str, limits: Limits) -> str:
    """An id as the contract defines it (a string of 1..max_id_length printable characters,
    or an integer), for a record's field or an API's path and query parameters alike."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidEvent(f"{key}: expected a string id, got {_kind(value)}")
    text = str(value)
    if not text:
        raise InvalidEvent(f"{key}: empty")
    if len(text) > limits.max_id_length:
        raise InvalidEvent(f"{key}: longer than {limits.max_id_length} characters")
    if not text.isprintable():
        raise InvalidEvent(f"{key}: contains control or non-printable characters")
    return text


def _number(obj: dict[str, Any], key: str, upper: float, default: float | None) -> float | None:
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEvent(f"{key}: expected a number, got {_kind(value)}")
    number = _float(value, key)
    if not math.isfinite(number) or number < 0 or number > upper:
        raise InvalidEvent(f"{key}: must be a finite number in [0, {upper:g}]")
    return number


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a decoded JSON value, stopping once ``limit`` is exceeded."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def decode_json(raw: bytes | str | None, limits: Limits) -> dict[str, Any]:
    """Decode one record value into a JSON object, or raise InvalidEvent."""
    if raw is None:
        raise InvalidEvent("empty record value")
    if len(raw) > limits.max_payload_bytes:
        raise InvalidEvent(f"payload larger than {limits.max_payload_bytes} bytes")
    try:
        obj = json.loads(raw, parse_constant=_reject_constant)
    except InvalidEvent:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidEvent(f"not JSON: {str(exc)[:120]}") from None
    if not isinstance(obj, dict):
        raise InvalidEvent(f"expected a JSON object, got {_kind(obj)}")
    if _depth(obj, MAX_NESTING) > MAX_NESTING:
        raise InvalidEvent(f"JSON nested deeper than {MAX_NESTING} levels")
    return obj


def _reject_constant(name: str) -> Any:
    raise InvalidEvent(f"not JSON: {name} is not a valid JSON number")


def parse_cart(obj: dict[str, Any], limits: Limits) -> CartEvent:
    kind = obj.get("type")
    if kind not in CART_TYPES:
        raise InvalidEvent(f"type: expected one of {list(CART_TYPES)}, got {str(kind)[:40]!r}")
    return CartEvent(
        event_id=_id(obj, "event_id", limits) or "",
        type=str(kind),
        user_id=_id(obj, "user_id", limits) or "",
        item_id=_id(obj, "item_id", limits) or "",
        ts=parse_ts(obj.get("ts")),
        quantity=_number(obj, "quantity", MAX_QUANTITY, 1.0) or 0.0,
        price=_number(obj, "price", MAX_PRICE, None),
        session_id=_id(obj, "session_id", limits, required=False),
        suggestion_id=_id(obj, "suggestion_id", limits, required=False),
    )


def parse_order(obj: dict[str, Any], limits: Limits) -> PurchaseEvent | ForgetUser:
    kind = obj.get("type")
    if kind == "forget_user":
        return ForgetUser(
            event_id=_id(obj, "event_id", limits) or "",
            user_id=_id(obj, "user_id", limits) or "",
            ts=parse_ts(obj.get("ts")),
        )
    if kind != "purchase":
        raise InvalidEvent(f"type: expected 'purchase' or 'forget_user', got {str(kind)[:40]!r}")
    items = obj.get("items")
    if not isinstance(items, list):
        raise InvalidEvent(f"items: expected a list, got {_kind(items)}")
    if not items:
        raise InvalidEvent("items: empty order")
    if len(items) > limits.max_order_lines:
        raise InvalidEvent(f"items: {len(items)} lines, more than {limits.max_order_lines}")
    lines = []
    for index, line in enumerate(items):
        if not isinstance(line, dict):
            raise InvalidEvent(f"items[{index}]: expected an object, got {_kind(line)}")
        try:
            lines.append(
                OrderLine(
                    item_id=_id(line, "item_id", limits) or "",
                    quantity=_number(line, "quantity", MAX_QUANTITY, 1.0) or 0.0,
                    price=_number(line, "price", MAX_PRICE, None),
                    suggestion_id=_id(line, "suggestion_id", limits, required=False),
                )
            )
        except InvalidEvent as exc:
            raise InvalidEvent(f"items[{index}].{exc.reason}") from None
    return PurchaseEvent(
        event_id=_id(obj, "event_id", limits) or "",
        order_id=_id(obj, "order_id", limits) or "",
        user_id=_id(obj, "user_id", limits, required=False),
        ts=parse_ts(obj.get("ts")),
        items=tuple(lines),
    )


def parse_catalog(obj: dict[str, Any], limits: Limits) -> CatalogItem:
    kind = obj.get("type")
    if kind != "item":
        raise InvalidEvent(f"type: expected 'item', got {str(kind)[:40]!r}")
    active = obj.get("active", True)
    if not isinstance(active, bool):
        raise InvalidEvent(f"active: expected true or false, got {_kind(active)}")
    category = obj.get("category")
    if category is not None:
        category = _id(obj, "category", limits)
    name = obj.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 1000):
        raise InvalidEvent("name: expected text of at most 1000 characters")
    return CatalogItem(
        item_id=_id(obj, "item_id", limits) or "",
        category=category,
        price=_number(obj, "price", MAX_PRICE, None),
        stock=_number(obj, "stock", MAX_QUANTITY * 1000, None),
        active=active,
        name=name,
    )


def parse_feedback(obj: dict[str, Any], limits: Limits) -> FeedbackEvent:
    kind = obj.get("type")
    if kind not in FEEDBACK_TYPES:
        raise InvalidEvent(f"type: expected one of {list(FEEDBACK_TYPES)}, got {str(kind)[:40]!r}")
    return FeedbackEvent(
        event_id=_id(obj, "event_id", limits) or "",
        type=str(kind),
        suggestion_id=_id(obj, "suggestion_id", limits) or "",
        user_id=_id(obj, "user_id", limits) or "",
        ts=parse_ts(obj.get("ts")),
        item_id=_id(obj, "item_id", limits, required=False),
    )


PARSERS = {
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
