"""The two readers of a record agree: the worker's fast parser (models/validate.py,
models/profile.py) and the message declarations (models/messages/, read with pydantic's
model_validate_json). Same verdict on every valid, invalid and hostile case, the same event
when valid, and a reason naming the same field when not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.schema_cases import INVALID, STREAMS, VALID
from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits
from xsell.models.messages.reader import read_message
from xsell.models.profile import parse_profile
from xsell.models.validate import parse_record
from xsell.verify.hostile_cases import generate

LIMITS = Limits()
SMALL = Limits(max_id_length=8, max_order_lines=3, max_payload_bytes=4096)


def fast(stream: str, raw: bytes | None, limits: Limits) -> Any:
    if stream == "profiles":
        return parse_profile(raw, limits)
    return parse_record(stream, raw, limits)


def outcome(read: Any, stream: str, raw: bytes | None, limits: Limits) -> tuple[bool, Any]:
    try:
        return True, read(stream, raw, limits)
    except InvalidEvent as exc:
        return False, exc.reason


def assert_agree(stream: str, raw: bytes | None, limits: Limits = LIMITS) -> None:
    ok_fast, fast_out = outcome(fast, stream, raw, limits)
    ok_decl, decl_out = outcome(read_message, stream, raw, limits)
    assert ok_fast == ok_decl, (raw, fast_out, decl_out)
    if ok_fast:
        assert fast_out == decl_out


CASES = [(STREAMS[name], json.dumps(value).encode()) for name, value in VALID + INVALID]


@pytest.mark.parametrize(("stream", "raw"), CASES)
def test_schema_cases(stream: str, raw: bytes) -> None:
    assert_agree(stream, raw)


def test_hostile_cases() -> None:
    cases = list(generate(3000, seed=7))
    assert sum(c.valid for c in cases) > 200
    for case in cases:
        assert_agree(case.stream, case.value)


@pytest.mark.parametrize(
    "value",
    [
        {"event_id": "123456789", "type": "add_to_cart", "user_id": "u", "item_id": "i", "ts": 1},
        {
            "event_id": "e",
            "type": "purchase",
            "order_id": "o",
            "ts": 1,
            "items": [{"item_id": 1}] * 4,
        },
        {
            "event_id": "e",
            "type": "purchase",
            "order_id": "o",
            "ts": 1,
            "items": [{"item_id": 1}] * 3,
        },
        {"type": "item", "item_id": "x" * 9},
        {"pad": "x" * 5000, "type": "item", "item_id": "i"},
    ],
)
def test_limits_from_the_settings(value: dict[str, Any]) -> None:
    stream = (
        "orders"
        if "order_id" in value
        else ("catalog" if value["type"] == "item" else "cart-events")
    )
    assert_agree(stream, json.dumps(value).encode(), SMALL)


PROFILES = [
    {"type": "user", "user_id": "u1", "timezone": "Asia/Ho_Chi_Minh", "consent": {"push": True}},
    {"type": "user", "user_id": 7, "consent": {"zalo": None, "sms": False}},
    {"type": "user", "user_id": "u1", "timezone": None, "consent": None, "x": [1, {"y": 2}]},
    {"type": "user", "user_id": "u1", "timezone": "Mars/Olympus"},
    {"type": "user", "user_id": "u1", "timezone": 5},
    {"type": "user", "user_id": "u1", "consent": {"fax": True}},
    {"type": "user", "user_id": "u1", "consent": {"push": "yes"}},
    {"type": "user", "user_id": "u1", "consent": []},
    {"type": "person", "user_id": "u1"},
    {"type": "user"},
    {"type": "user", "user_id": "a\nb"},
]


@pytest.mark.parametrize("value", PROFILES)
def test_profiles(value: dict[str, Any]) -> None:
    assert_agree("profiles", json.dumps(value).encode())


@pytest.mark.parametrize(
    "raw", [None, b"", b"[]", b"nope", b'{"type": "user", "user_id": "u", "n": NaN}', b"\xff{"]
)
def test_not_objects(raw: bytes | None) -> None:
    for stream in ("cart-events", "orders", "catalog", "feedback", "profiles"):
        assert_agree(stream, raw)
