"""docs/schemas and docs/contract.md against the code: the shared part of the tests
test_schemas_contract.py, test_schemas_inputs.py and test_schemas_outputs.py (and
test_messages.py): the schema files, the contract's examples, and valid and invalid input values.

Every JSON example of docs/contract.md follows a line ``schema: [NAME](schemas/NAME.schema.json)``;
each must validate against that schema and, for the input topics, be accepted by the worker's
parser. Invalid values must be rejected by both. Where a JSON Schema cannot say exactly what the
parser checks, the difference is listed in test_schemas_inputs.py (GAPS) and in the contract.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits
from xsell.models.validate import parse_record

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "docs" / "schemas"
CONTRACT = ROOT / "docs" / "contract.md"
NAMES = (
    "cart-event",
    "order-event",
    "catalog-item",
    "suggestion",
    "dead-letter",
    "offers",
    "bundle",
    "recommendation-request",
    "feedback",
    "events-answer",
    "error",
    "profile",
    "notification",
)
STREAMS = {
    "cart-event": "cart-events",
    "order-event": "orders",
    "catalog-item": "catalog",
    "feedback": "feedback",
}
LIMITS = Limits()
MAX_TS = 4102444800  # 2100-01-01T00:00:00Z

EXAMPLE = re.compile(
    r"^schema: \[(?P<name>[a-z-]+)\]\(schemas/(?P<file>[a-z-]+)\.schema\.json\)\n"
    r"```json\n(?P<body>.*?)\n```$",
    re.MULTILINE | re.DOTALL,
)


# --- helpers -------------------------------------------------------------------------------------
@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(schema(name))


def schema_ok(name: str, value: Any) -> bool:
    return validator(name).is_valid(value)


def parser_ok(name: str, value: Any) -> bool:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    try:
        parse_record(STREAMS[name], raw, LIMITS)
    except InvalidEvent:
        return False
    return True


def contract_examples() -> list[tuple[str, Any]]:
    text = CONTRACT.read_text(encoding="utf-8")
    found = []
    for match in EXAMPLE.finditer(text):
        assert match["name"] == match["file"], f"schema line links another file: {match[0]}"
        found.append((match["name"], json.loads(match["body"])))
    return found


def example_ids() -> list[str]:
    seen: dict[str, int] = {}
    ids = []
    for name, _ in contract_examples():
        seen[name] = seen.get(name, 0) + 1
        ids.append(f"{name}-{seen[name]}")
    return ids


def examples_of(name: str) -> list[Any]:
    return [value for n, value in contract_examples() if n == name]


CART = {
    "event_id": "e-1",
    "type": "add_to_cart",
    "user_id": "u-1",
    "item_id": "i-1",
    "ts": "2024-06-01T10:15:00Z",
}
PURCHASE = {
    "event_id": "o-1",
    "type": "purchase",
    "order_id": "A-1",
    "user_id": "u-1",
    "ts": 1717236900,
    "items": [{"item_id": "i-1"}, {"item_id": "i-2", "quantity": 2}],
}
FORGET = {"event_id": "f-1", "type": "forget_user", "user_id": "u-1", "ts": 1717236900}
ITEM = {"type": "item", "item_id": "i-1"}
BASE = {"cart-event": CART, "order-event": PURCHASE, "catalog-item": ITEM}


def nested(levels: int) -> Any:
    """A JSON value nested exactly ``levels`` levels (0: a scalar)."""
    value: Any = 1
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not DROP}


DROP = object()


# --- valid and invalid values: schema and parser agree -----------------------------------------
VALID = [
    ("cart-event", CART),
    ("cart-event", with_(CART, type="remove_from_cart")),
    ("cart-event", with_(CART, type="view", quantity=DROP, price=DROP)),
    ("cart-event", with_(CART, user_id=18042, item_id=-7, event_id=0)),
    ("cart-event", with_(CART, user_id="u" * 128, item_id=int("9" * 128))),
    ("cart-event", with_(CART, item_id=-int("9" * 127))),
    ("cart-event", with_(CART, item_id="Kaffee Tasse \u00e4 \u4e2d \U0001f600 #1")),
    ("cart-event", with_(CART, ts=0)),
    ("cart-event", with_(CART, ts=MAX_TS)),
    ("cart-event", with_(CART, ts=1717236900.25)),
    ("cart-event", with_(CART, ts="1717236900")),
    ("cart-event", with_(CART, ts="1717236900.5")),
    ("cart-event", with_(CART, ts="4102444800.000")),
    ("cart-event", with_(CART, ts="2024-06-01T12:15:00.123+02:00")),
    ("cart-event", with_(CART, ts="2024-06-01t10:15:00-00:00")),
    ("cart-event", with_(CART, ts="2024-06-01 10:15:00Z")),
    ("cart-event", with_(CART, ts="1970-01-01T00:00:00Z")),
    ("cart-event", with_(CART, quantity=0, price=0)),
    ("cart-event", with_(CART, quantity=1e6, price=1e9)),
    ("cart-event", with_(CART, quantity=None, price=None, session_id=None)),
    ("cart-event", with_(CART, session_id=12, extra={"any": ["thing", None, True]})),
    ("cart-event", with_(CART, deep=nested(7))),
    ("cart-event", with_(CART, ts="2024-06-01T10:15:00z")),  # RFC 3339 allows a lower-case z
    ("order-event", PURCHASE),
    ("order-event", with_(PURCHASE, user_id=None)),
    ("order-event", with_(PURCHASE, user_id=DROP)),
    ("order-event", with_(PURCHASE, items=[{"item_id": i % 7, "price": 1} for i in range(1000)])),
    ("order-event", with_(PURCHASE, items=[{"item_id": "a", "note": nested(5)}])),
    ("order-event", with_(PURCHASE, deep=nested(7))),
    ("order-event", FORGET),
    ("order-event", with_(FORGET, items="ignored", deep=nested(7))),
    ("catalog-item", ITEM),
    ("catalog-item", with_(ITEM, category=3, price=9.5, stock=0, active=False, name="")),
    ("catalog-item", with_(ITEM, category=None, price=None, stock=None, name=None)),
    ("catalog-item", with_(ITEM, stock=1e9, name="\n\u0007" + "x" * 998)),
    ("catalog-item", with_(ITEM, extra=nested(7))),
    ("catalog-item", with_(ITEM, cost=3.5, brand="Acme", tags=["new", "5g"])),
    ("catalog-item", with_(ITEM, cost=None, brand=7, tags=None)),
    ("catalog-item", with_(ITEM, cost=1e9, tags=["t" * 64] * 32)),
]

INVALID = [
    ("cart-event", with_(CART, event_id=DROP)),
    ("cart-event", with_(CART, type="view", item_id=DROP)),
    ("cart-event", with_(CART, type="viewed")),
    ("cart-event", with_(CART, user_id=None)),
    ("cart-event", with_(CART, type="add")),
    ("cart-event", with_(CART, type=DROP)),
    ("cart-event", with_(CART, item_id="")),
    ("cart-event", with_(CART, item_id="x" * 129)),
    ("cart-event", with_(CART, item_id=10**128)),
    ("cart-event", with_(CART, item_id=-(10**127))),
    ("cart-event", with_(CART, item_id="a\nb")),
    ("cart-event", with_(CART, item_id="a\tb")),
    ("cart-event", with_(CART, item_id="a\u00a0b")),
    ("cart-event", with_(CART, item_id="a\u200bb")),
    ("cart-event", with_(CART, item_id="a\u2028b")),
    ("cart-event", with_(CART, item_id="\ufeffa")),
    ("cart-event", with_(CART, item_id="a\U000e0041")),
    ("cart-event", with_(CART, item_id="a\ue000")),
    ("cart-event", with_(CART, item_id="a\ud800")),
    ("cart-event", with_(CART, item_id=1.5)),
    ("cart-event", with_(CART, item_id=True)),
    ("cart-event", with_(CART, item_id=["i-1"])),
    ("cart-event", with_(CART, session_id="")),
    ("cart-event", with_(CART, ts=DROP)),
    ("cart-event", with_(CART, ts=None)),
    ("cart-event", with_(CART, ts=True)),
    ("cart-event", with_(CART, ts=-1)),
    ("cart-event", with_(CART, ts=MAX_TS + 1)),
    ("cart-event", with_(CART, ts="4102444801")),
    ("cart-event", with_(CART, ts="-5")),
    ("cart-event", with_(CART, ts="2024-06-01T10:15:00")),
    ("cart-event", with_(CART, ts="2024-06-01")),
    ("cart-event", with_(CART, ts="1969-12-31T23:59:59Z")),
    ("cart-event", with_(CART, ts="2200-01-01T00:00:00Z")),
    ("cart-event", with_(CART, ts="2024-13-01T10:15:00Z")),
    ("cart-event", with_(CART, ts="2024-06-01T24:00:00Z")),
    ("cart-event", with_(CART, ts="2024-06-01T10:15:60Z")),
    ("cart-event", with_(CART, ts="2024-06-01T10:15:00+24:00")),
    ("cart-event", with_(CART, ts="yesterday")),
    ("cart-event", with_(CART, quantity=-1)),
    ("cart-event", with_(CART, quantity=1e6 + 1)),
    ("cart-event", with_(CART, quantity="2")),
    ("cart-event", with_(CART, quantity=False)),
    ("cart-event", with_(CART, price=1e9 + 1)),
    ("cart-event", with_(CART, price=-0.01)),
    ("cart-event", with_(CART, deep=nested(8))),
    ("order-event", with_(PURCHASE, items=[])),
    ("order-event", with_(PURCHASE, items=DROP)),
    ("order-event", with_(PURCHASE, items={"item_id": "i-1"})),
    ("order-event", with_(PURCHASE, items=[{"item_id": "a"}] * 1001)),
    ("order-event", with_(PURCHASE, items=["i-1"])),
    ("order-event", with_(PURCHASE, items=[{"sku": "i-1"}])),
    ("order-event", with_(PURCHASE, items=[{"item_id": "a", "quantity": -2}])),
    ("order-event", with_(PURCHASE, items=[{"item_id": "a", "price": 2e9}])),
    ("order-event", with_(PURCHASE, items=[{"item_id": "a", "note": nested(6)}])),
    ("order-event", with_(PURCHASE, order_id=DROP)),
    ("order-event", with_(PURCHASE, user_id="")),
    ("order-event", with_(PURCHASE, type="refund")),
    ("order-event", with_(PURCHASE, type=DROP)),
    ("order-event", with_(PURCHASE, deep=nested(8))),
    ("order-event", with_(FORGET, user_id=DROP)),
    ("order-event", with_(FORGET, user_id=None)),
    ("order-event", with_(FORGET, event_id=DROP)),
    ("order-event", with_(FORGET, ts="soon")),
    ("catalog-item", with_(ITEM, type=DROP)),
    ("catalog-item", with_(ITEM, type="product")),
    ("catalog-item", with_(ITEM, item_id=DROP)),
    ("catalog-item", with_(ITEM, active="yes")),
    ("catalog-item", with_(ITEM, active=None)),
    ("catalog-item", with_(ITEM, category="")),
    ("catalog-item", with_(ITEM, category="a\u0000b")),
    ("catalog-item", with_(ITEM, stock=1e9 + 1)),
    ("catalog-item", with_(ITEM, stock=-1)),
    ("catalog-item", with_(ITEM, price="9.99")),
    ("catalog-item", with_(ITEM, name=42)),
    ("catalog-item", with_(ITEM, cost=-1)),
    ("catalog-item", with_(ITEM, cost="1.50")),
    ("catalog-item", with_(ITEM, brand="")),
    ("catalog-item", with_(ITEM, brand=5.5)),
    ("catalog-item", with_(ITEM, tags="a,b")),
    ("catalog-item", with_(ITEM, tags=[""])),
    ("catalog-item", with_(ITEM, tags=["x" * 65])),
    ("catalog-item", with_(ITEM, tags=["a"] * 33)),
    ("catalog-item", with_(ITEM, tags=[1])),
    ("catalog-item", with_(ITEM, name="x" * 1001)),
    ("catalog-item", with_(ITEM, extra=nested(8))),
]
