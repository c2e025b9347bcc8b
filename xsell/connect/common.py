"""What every connector shares: signatures, stable event ids, and reading a platform's
payload field by field with a reason that names the field."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from xsell.models.errors import InvalidEvent

Record = dict[str, Any]  # one record of the input contract ({"type": ...}), not yet validated


class Malformed(InvalidEvent):
    """A payload without a field the mapping needs, or with one of the wrong kind (400)."""


def signature(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of ``body``: what Shopify and WooCommerce send with a webhook."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed(secret: str, body: bytes, presented: str | None) -> bool:
    """True when ``presented`` is the signature of ``body``; compared in constant time."""
    if not presented:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), presented.strip().encode())


def event_id(platform: str, delivery: str, *parts: str) -> str:
    """An event id derived from the platform's delivery id (and what the delivery made): the
    same webhook delivered again gives the same ids, which the workers apply once."""
    text = "\x1f".join((platform, delivery, *parts))
    return f"{platform}-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{where}: expected an object")
    return value


def items_of(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise Malformed(f"{where}: expected an array")
    return value


def ident(value: Any, where: str) -> str:
    """An id as text (platforms send numbers or strings); refused when missing or empty."""
    if isinstance(value, bool) or value is None or not isinstance(value, int | str):
        raise Malformed(f"{where}: expected an id (a number or a text)")
    text = str(value).strip()
    if not text:
        raise Malformed(f"{where}: empty")
    return text


def optional_ident(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value).strip()
    return text or None


def amount(value: Any, where: str) -> float | None:
    """A price or quantity: platforms send ``"199.00"`` as text; None when absent or blank."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Malformed(f"{where}: expected a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Malformed(f"{where}: expected a number, got {str(value)[:40]!r}") from None


def order_lines(
    value: Any, item_of: Callable[[dict[str, Any], str], str | None]
) -> list[dict[str, Any]]:
    """An order's ``line_items`` as purchase lines (item id, quantity, price when given), the
    same for every platform; ``item_of`` reads a line's item id (None: a line to skip)."""
    lines: list[dict[str, Any]] = []
    for index, raw in enumerate(items_of(value, "line_items")):
        where = f"line_items[{index}]"
        line = obj(raw, where)
        item = item_of(line, where)
        if item is None:
            continue
        quantity = amount(line.get("quantity"), f"{where}.quantity")
        out: dict[str, Any] = {"item_id": item, "quantity": 1.0 if quantity is None else quantity}
        price = amount(line.get("price"), f"{where}.price")
        if price is not None:
            out["price"] = price
        lines.append(out)
    return lines


def timestamp(value: Any, where: str, default: float) -> float:
    """Epoch seconds of an ISO 8601 time (``2021-12-31T19:00:00-05:00``); ``default`` when
    absent. A time without a zone is taken as UTC (WooCommerce's ``*_gmt`` fields)."""
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise Malformed(f"{where}: expected an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"{where}: expected an ISO 8601 time, got {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def tags_of(value: Any, max_tags: int = 32, max_chars: int = 64) -> list[str]:
    """Tags from ``"a, b"`` (Shopify), ``"a|b"`` (xsell's CSV) or a list; short and few."""
    if isinstance(value, str):
        sep = "|" if "|" in value else ","
        parts: list[Any] = value.split(sep)
    elif isinstance(value, list):
        parts = [p.get("name") if isinstance(p, dict) else p for p in value]
    else:
        return []
    out = [str(p).strip()[:max_chars] for p in parts if p is not None and str(p).strip()]
    return list(dict.fromkeys(out))[:max_tags]
