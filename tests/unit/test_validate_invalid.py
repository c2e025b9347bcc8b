"""xsell.models.validate.parse_record: every way for a record to be invalid."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.validate_cases import LIMITS, cart, item, order, raw, reject
from xsell.models.events import CartEvent, Limits
from xsell.models.validate import MAX_NESTING, parse_record

# --- invalid records -----------------------------------------------------------------------


@pytest.mark.parametrize("stream", ["cart-events", "orders", "catalog"])
def test_not_json(stream: str) -> None:
    assert "not JSON" in reject(stream, b"{not json")
    assert "not JSON" in reject(stream, b"")


@pytest.mark.parametrize("stream", ["cart-events", "orders", "catalog"])
def test_json_array_or_scalar(stream: str) -> None:
    assert "JSON object" in reject(stream, b"[1, 2]")
    assert "JSON object" in reject(stream, b'"text"')
    assert "JSON object" in reject(stream, b"null")


def test_none_value_and_unknown_stream() -> None:
    assert "empty" in reject("orders", None)
    assert "no parser" in reject("clicks", raw(cart()))


def test_invalid_utf8() -> None:
    assert "not JSON" in reject("cart-events", b'{"event_id": "\xff\xfe"}')


@pytest.mark.parametrize(
    ("stream", "obj", "field"),
    [
        ("cart-events", cart(event_id=None), "event_id"),
        ("cart-events", {k: v for k, v in cart().items() if k != "event_id"}, "event_id"),
        ("cart-events", {k: v for k, v in cart().items() if k != "user_id"}, "user_id"),
        ("cart-events", {k: v for k, v in cart().items() if k != "item_id"}, "item_id"),
        ("cart-events", {k: v for k, v in cart().items() if k != "ts"}, "ts"),
        ("orders", {k: v for k, v in order().items() if k != "event_id"}, "event_id"),
        ("orders", {k: v for k, v in order().items() if k != "order_id"}, "order_id"),
        ("orders", {k: v for k, v in order().items() if k != "items"}, "items"),
        ("orders", order(items=[{"quantity": 1}]), "items[0].item_id"),
        ("catalog", {"type": "item"}, "item_id"),
    ],
)
def test_missing_fields(stream: str, obj: dict[str, Any], field: str) -> None:
    reason = reject(stream, raw(obj))
    assert reason.startswith(field)
    assert "missing" in reason or "got null" in reason


@pytest.mark.parametrize(
    ("stream", "obj", "field"),
    [
        ("cart-events", cart(user_id=["u1"]), "user_id"),
        ("cart-events", cart(user_id={"id": 1}), "user_id"),
        ("cart-events", cart(item_id=1.5), "item_id"),
        ("cart-events", cart(item_id=True), "item_id"),
        ("cart-events", cart(price="9.99"), "price"),
        ("cart-events", cart(quantity=True), "quantity"),
        ("cart-events", cart(ts=True), "ts"),
        ("cart-events", cart(ts=[2024]), "ts"),
        ("orders", order(items="a,b"), "items"),
        ("orders", order(items=["a"]), "items[0]"),
        ("orders", order(items=[{"item_id": "a", "quantity": True}]), "items[0].quantity"),
        (
            "orders",
            order(items=[{"item_id": "a"}, {"item_id": "b", "price": "1"}]),
            "items[1].price",
        ),
        ("catalog", item(active="yes"), "active"),
        ("catalog", item(category=3.5), "category"),
        ("catalog", item(name=5), "name"),
        ("catalog", item(name="n" * 1001), "name"),
        ("catalog", item(stock="4"), "stock"),
    ],
)
def test_wrong_types(stream: str, obj: dict[str, Any], field: str) -> None:
    assert reject(stream, raw(obj)).startswith(field)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_literals(literal: str) -> None:
    value = raw(cart()).decode().replace('"ts"', f'"price": {literal}, "ts"')
    # rejected while decoding, so the reason names the literal rather than the field
    assert literal in reject("cart-events", value.encode())


@pytest.mark.parametrize(
    ("stream", "obj", "field"),
    [
        ("cart-events", cart(price=-0.01), "price"),
        ("cart-events", cart(price=1e10), "price"),
        ("cart-events", cart(quantity=-1), "quantity"),
        ("cart-events", cart(quantity=1e7), "quantity"),
        ("orders", order(items=[{"item_id": "a", "price": -5}]), "items[0].price"),
        ("orders", order(items=[{"item_id": "a", "quantity": 2e6}]), "items[0].quantity"),
        ("catalog", item(price=-1), "price"),
        ("catalog", item(stock=-1), "stock"),
    ],
)
def test_out_of_range_numbers(stream: str, obj: dict[str, Any], field: str) -> None:
    assert reject(stream, raw(obj)).startswith(field)


def test_bounds_are_inclusive() -> None:
    event = parse_record("cart-events", raw(cart(price=1e9, quantity=1e6)), LIMITS)
    assert isinstance(event, CartEvent)
    assert (event.price, event.quantity) == (1e9, 1e6)
    event = parse_record("cart-events", raw(cart(price=0, quantity=0)), LIMITS)
    assert isinstance(event, CartEvent)
    assert (event.price, event.quantity) == (0.0, 0.0)


BIG_INT = "1" + "0" * 400  # a valid JSON number too large for a float


@pytest.mark.parametrize("field", ["ts", "price", "quantity"])
def test_huge_json_integer_is_invalid_event(field: str) -> None:
    value = raw(cart(**{field: "BIG"})).replace(b'"BIG"', BIG_INT.encode())
    assert reject("cart-events", value).startswith(field)


def test_empty_items() -> None:
    assert reject("orders", raw(order(items=[]))).startswith("items")


def test_too_many_order_lines() -> None:
    items = [{"item_id": f"i{n}"} for n in range(11)]
    reason = reject("orders", raw(order(items=items)), Limits(max_order_lines=10))
    assert reason == "items: 11 lines, more than 10"


@pytest.mark.parametrize("field", ["event_id", "user_id", "item_id", "session_id"])
def test_id_longer_than_max_id_length(field: str) -> None:
    reason = reject("cart-events", raw(cart(**{field: "x" * 129})))
    assert reason == f"{field}: longer than 128 characters"
    short = Limits(max_id_length=4)
    assert reject("cart-events", raw(cart(**{field: "abcde"})), short).startswith(field)


@pytest.mark.parametrize("bad", ["a\u0000b", "a\nb", "a\tb", "a\x1bb", "a\u2028b"])
def test_ids_with_control_characters(bad: str) -> None:
    assert reject("cart-events", raw(cart(user_id=bad))).startswith("user_id")
    assert reject("orders", raw(order(items=[{"item_id": bad}]))).startswith("items[0].item_id")


def test_empty_id() -> None:
    assert reject("cart-events", raw(cart(item_id=""))) == "item_id: empty"


@pytest.mark.parametrize(
    ("stream", "obj"),
    [
        ("cart-events", cart(type="purchase")),
        ("cart-events", cart(type=None)),
        ("orders", order(type="refund")),
        ("orders", order(type="add_to_cart")),
        ("catalog", item(type="product")),
    ],
)
def test_unknown_type(stream: str, obj: dict[str, Any]) -> None:
    assert reject(stream, raw(obj)).startswith("type")


@pytest.mark.parametrize(
    "ts",
    [
        "2024-01-01T00:00:00",  # no offset
        "2024-01-01 00:00:00",  # no offset
        "1969-12-31T23:59:59Z",  # before 1970
        -1,
        "-1",
        "2100-01-01T00:00:01Z",  # after 2100
        "yesterday",
        "",
        "nan",
        None,
    ],
)
def test_bad_timestamps(ts: Any) -> None:
    assert reject("cart-events", raw(cart(ts=ts))).startswith("ts")


def test_payload_larger_than_max_payload_bytes() -> None:
    limits = Limits(max_payload_bytes=300)
    small = raw(cart(pad="x" * 100))
    assert len(small) <= 300
    assert isinstance(parse_record("cart-events", small, limits), CartEvent)
    big = raw(cart(pad="x" * 300))
    assert len(big) > 300
    assert reject("cart-events", big, limits) == "payload larger than 300 bytes"


def nested(levels: int) -> dict[str, Any]:
    """A cart event whose total JSON depth (the event itself counting 1) is ``levels``."""
    value: Any = {}
    for _ in range(levels - 2):
        value = {"n": value}
    return cart(extra=value)


def test_nesting_limit() -> None:
    assert MAX_NESTING == 8
    assert isinstance(parse_record("cart-events", raw(nested(8)), LIMITS), CartEvent)
    assert "nested deeper than 8" in reject("cart-events", raw(nested(9)))
    lists = cart(extra=[[[[[[[[1]]]]]]]])  # 1 object + 8 lists
    assert "nested deeper than 8" in reject("cart-events", raw(lists))


def test_very_deep_nesting_is_invalid_not_a_crash() -> None:
    value = "[" * 100_000 + "]" * 100_000
    assert "not JSON" in reject("orders", value.encode(), Limits(max_payload_bytes=1 << 20))
