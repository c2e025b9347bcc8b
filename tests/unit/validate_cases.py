"""The records and helpers shared by test_validate_valid.py and test_validate_invalid.py
(xsell.models.validate.parse_record)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits
from xsell.models.validate import parse_record

LIMITS = Limits()
JAN_1_2024 = 1704067200.0  # 2024-01-01T00:00:00Z


def cart(**fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "event_id": "e1",
        "type": "add_to_cart",
        "user_id": "u1",
        "item_id": "i1",
        "ts": "2024-01-01T00:00:00Z",
    }
    obj.update(fields)
    return obj


def order(**fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "event_id": "e2",
        "type": "purchase",
        "order_id": "o1",
        "user_id": "u1",
        "ts": JAN_1_2024,
        "items": [{"item_id": "a"}, {"item_id": "b", "quantity": 2, "price": 9.5}],
    }
    obj.update(fields)
    return obj


def item(**fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "item", "item_id": "sku1"}
    obj.update(fields)
    return obj


def raw(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()


def reject(stream: str, value: bytes | str | None, limits: Limits = LIMITS) -> str:
    with pytest.raises(InvalidEvent) as info:
        parse_record(stream, value, limits)
    assert str(info.value) == info.value.reason
    return info.value.reason
