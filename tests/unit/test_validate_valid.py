"""xsell.models.validate.parse_record: valid events of each stream (cart events, orders, catalog
items)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.unit.validate_cases import JAN_1_2024, LIMITS, cart, item, order, raw
from xsell.models.events import (
    CartEvent,
    CatalogItem,
    ForgetUser,
    Limits,
    OrderLine,
    PurchaseEvent,
    purchase_event_id,
)
from xsell.models.validate import parse_record

# --- valid cart events ---------------------------------------------------------------------


def test_cart_minimal_gets_defaults() -> None:
    event = parse_record("cart-events", raw(cart()), LIMITS)
    assert event == CartEvent(
        event_id="e1",
        type="add_to_cart",
        user_id="u1",
        item_id="i1",
        ts=JAN_1_2024,
        quantity=1.0,
        price=None,
        session_id=None,
    )


def test_cart_with_optional_fields() -> None:
    obj = cart(type="remove_from_cart", quantity=2, price=9.99, session_id="s-1")
    event = parse_record("cart-events", raw(obj), LIMITS)
    assert event == CartEvent(
        event_id="e1",
        type="remove_from_cart",
        user_id="u1",
        item_id="i1",
        ts=JAN_1_2024,
        quantity=2.0,
        price=9.99,
        session_id="s-1",
    )


def test_integer_ids_become_strings() -> None:
    event = parse_record(
        "cart-events", raw(cart(event_id=7, user_id=42, item_id=1001, session_id=0)), LIMITS
    )
    assert isinstance(event, CartEvent)
    assert (event.event_id, event.user_id, event.item_id, event.session_id) == (
        "7",
        "42",
        "1001",
        "0",
    )


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2024-01-01T00:00:00Z", JAN_1_2024),
        ("2024-01-01T07:00:00+07:00", JAN_1_2024),
        ("2023-12-31T19:00:00-05:00", JAN_1_2024),
        ("2024-01-01T00:00:00.250Z", JAN_1_2024 + 0.25),
        (1704067200, JAN_1_2024),
        (1704067200.5, JAN_1_2024 + 0.5),
        ("1704067200", JAN_1_2024),
        ("1704067200.5", JAN_1_2024 + 0.5),
        (0, 0.0),
    ],
)
def test_timestamps(ts: Any, expected: float) -> None:
    event = parse_record("cart-events", raw(cart(ts=ts)), LIMITS)
    assert isinstance(event, CartEvent)
    assert event.ts == expected


def test_lower_case_z_is_rfc3339() -> None:
    event = parse_record("cart-events", raw(cart(ts="2024-01-01T00:00:00z")), LIMITS)
    assert isinstance(event, CartEvent)
    assert event.ts == JAN_1_2024


def test_str_and_bytes_payloads_are_equivalent() -> None:
    text = json.dumps(cart())
    assert parse_record("cart-events", text, LIMITS) == parse_record(
        "cart-events", text.encode(), LIMITS
    )


def test_hostile_but_valid_ids_are_accepted() -> None:
    hostile = ["{a}", "}", "x:y", "*", "{}:*", "xs:{i:1}:nb", "café ☕"]
    for ident in hostile:
        event = parse_record("cart-events", raw(cart(user_id=ident, item_id=ident)), LIMITS)
        assert isinstance(event, CartEvent)
        assert event.user_id == ident
        assert event.item_id == ident


def test_id_at_max_length_is_accepted() -> None:
    event = parse_record("cart-events", raw(cart(item_id="x" * 128)), LIMITS)
    assert isinstance(event, CartEvent)
    assert event.item_id == "x" * 128


# --- valid orders --------------------------------------------------------------------------


def test_purchase() -> None:
    event = parse_record("orders", raw(order(order_id=99)), LIMITS)
    assert event == PurchaseEvent(
        event_id="e2",
        order_id="99",
        user_id="u1",
        ts=JAN_1_2024,
        items=(OrderLine("a", 1.0, None), OrderLine("b", 2.0, 9.5)),
    )


def test_purchase_user_is_optional() -> None:
    obj = order()
    del obj["user_id"]
    event = parse_record("orders", raw(obj), LIMITS)
    assert isinstance(event, PurchaseEvent)
    assert event.user_id is None


def test_purchase_integer_item_ids() -> None:
    event = parse_record("orders", raw(order(items=[{"item_id": 5}, {"item_id": 6}])), LIMITS)
    assert isinstance(event, PurchaseEvent)
    assert [line.item_id for line in event.items] == ["5", "6"]


def test_forget_user() -> None:
    obj = {"event_id": "f1", "type": "forget_user", "user_id": 42, "ts": "2024-01-01T00:00:00Z"}
    assert parse_record("orders", raw(obj), LIMITS) == ForgetUser(
        event_id="f1", user_id="42", ts=JAN_1_2024
    )


def test_max_order_lines_is_inclusive() -> None:
    limits = Limits(max_order_lines=10)
    items = [{"item_id": f"i{n}"} for n in range(10)]
    event = parse_record("orders", raw(order(items=items)), limits)
    assert isinstance(event, PurchaseEvent)
    assert len(event.items) == 10


def test_purchase_event_id_is_deterministic_and_per_order() -> None:
    first = purchase_event_id("order-1")
    assert first == purchase_event_id("order-1")
    assert first != purchase_event_id("order-2")
    assert first.startswith("order-")
    assert len(first) == len("order-") + 24
    assert purchase_event_id("536365") == ("order-" + hashlib.sha256(b"536365").hexdigest()[:24])


def test_distinct_items_keeps_first_seen_order() -> None:
    event = PurchaseEvent(
        event_id="e",
        order_id="o",
        user_id=None,
        ts=0.0,
        items=tuple(OrderLine(i) for i in ["c", "a", "c", "b", "a"]),
    )
    assert event.distinct_items() == ["c", "a", "b"]


# --- valid catalog items -------------------------------------------------------------------


def test_catalog_minimal() -> None:
    assert parse_record("catalog", raw(item()), LIMITS) == CatalogItem(
        item_id="sku1", category=None, price=None, stock=None, active=True, name=None
    )


def test_catalog_full() -> None:
    obj = item(item_id=12, category="cameras", price=499.0, stock=0, active=False, name="Cam X")
    assert parse_record("catalog", raw(obj), LIMITS) == CatalogItem(
        item_id="12", category="cameras", price=499.0, stock=0.0, active=False, name="Cam X"
    )
