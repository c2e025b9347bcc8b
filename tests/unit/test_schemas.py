"""docs/schemas and docs/contract.md against the code.

Every JSON example of docs/contract.md follows a line ``schema: [NAME](schemas/NAME.schema.json)``;
each must validate against that schema and, for the input topics, be accepted by the worker's
parser. Invalid values must be rejected by both. Where a JSON Schema cannot say exactly what the
parser checks, the difference is listed here (GAPS) and in the contract.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import unicodedata
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from config.settings import FLAT, flat_defaults, load_settings
from models.errors import InvalidEvent
from models.events import (
    CartEvent,
    CatalogItem,
    ForgetUser,
    Limits,
    OrderLine,
    PurchaseEvent,
    purchase_event_id,
)
from models.ranking import Because, Neighbours, Offer, RankInput
from models.validate import parse_record
from streams.handler import DEAD_LETTER_PAYLOAD_CHARS, BatchHandler, Output, Record, dead_letter
from xsell.engine import Engine, offer_json, suggestion_id
from xsell.store.core.apply import Effect

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


# --- the schema files ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_schema_file_is_valid_draft_2020_12(name: str) -> None:
    doc = schema(name)
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == f"https://xsell.dev/schemas/{name}.json"
    assert doc["title"] and doc["description"]
    assert jsonschema.validators.validator_for(doc) is jsonschema.Draft202012Validator


def test_input_schemas_share_their_definitions() -> None:
    shared = ["id", "ts", "quantity", "price", *(f"json_{n}" for n in range(8))]
    first = schema("cart-event")["$defs"]
    for name in ("order-event", "catalog-item"):
        defs = schema(name)["$defs"]
        assert {k: defs[k] for k in shared} == {k: first[k] for k in shared}, name


# --- the examples of docs/contract.md ------------------------------------------------------------
def test_every_json_block_of_the_contract_names_its_schema() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    assert text.count("```json") == len(contract_examples())
    assert {name for name, _ in contract_examples()} == set(NAMES)
    kinds = {(n, v.get("type")) for n, v in contract_examples()}
    for kind in [
        ("cart-event", "add_to_cart"),
        ("cart-event", "remove_from_cart"),
        ("order-event", "purchase"),
        ("order-event", "forget_user"),
        ("catalog-item", "item"),
    ]:
        assert kind in kinds


@pytest.mark.parametrize(("name", "value"), contract_examples(), ids=example_ids())
def test_contract_example_is_valid(name: str, value: Any) -> None:
    validator(name).validate(value)
    if name in STREAMS:
        parse_record(STREAMS[name], json.dumps(value).encode(), LIMITS)


def test_contract_examples_agree_with_the_code() -> None:
    events = {
        v["event_id"]: v for n, v in contract_examples() if n in ("cart-event", "order-event")
    }
    for purchase in (v for v in events.values() if v["type"] == "purchase"):
        assert purchase["event_id"] == purchase_event_id(purchase["order_id"])
    for message in examples_of("suggestion"):
        trigger = message["trigger"]
        event = events[trigger["event_id"]]
        parsed = parse_record(
            "cart-events" if message["placement"] == "cart" else "orders",
            json.dumps(event).encode(),
            LIMITS,
        )
        tag = "c" if message["placement"] == "cart" else "o"
        assert message["suggestion_id"] == suggestion_id(tag, trigger["event_id"])
        assert message["user_id"] == parsed.user_id  # type: ignore[union-attr]
        if isinstance(parsed, PurchaseEvent):
            assert trigger["item_ids"] == parsed.distinct_items()
        else:
            assert isinstance(parsed, CartEvent)
            assert trigger["item_ids"] == [parsed.item_id]
    for letter in examples_of("dead-letter"):
        prefix, stream = letter["topic"].split(".", 1)
        assert prefix + "." == flat_defaults()["topic_prefix"]
        with pytest.raises(InvalidEvent) as info:
            parse_record(stream, letter["payload"].encode(), LIMITS)
        assert info.value.reason == letter["error"]


def test_contract_names_only_real_settings() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    named = set(re.findall(r"XSELL_([A-Z0-9_]+)", text)) - {"CONFIG"}
    assert named, "the contract names its variables"
    nested = {f"{group}__{field}" for group, field in FLAT.values()}  # XSELL_REDIS__URL
    assert {n.lower() for n in named} <= set(FLAT) | nested
    for name in [
        "KAFKA_BROKERS",
        "REDIS_URL",
        "TOPIC_PREFIX",
        "KAFKA_SESSION_TIMEOUT",
        "KAFKA_HEARTBEAT_INTERVAL",
        "KAFKA_MAX_POLL_INTERVAL",
        "HALF_LIFE_DAYS",
        "MAX_SUGGESTIONS",
    ]:
        default = flat_defaults()[name.lower()]
        assert f"| `XSELL_{name}` | `{default}` |" in text, name


# --- valid and invalid values: schema and parser agree -----------------------------------------
VALID = [
    ("cart-event", CART),
    ("cart-event", with_(CART, type="remove_from_cart")),
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
]

INVALID = [
    ("cart-event", with_(CART, event_id=DROP)),
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
    ("catalog-item", with_(ITEM, name="x" * 1001)),
    ("catalog-item", with_(ITEM, extra=nested(8))),
]


@pytest.mark.parametrize(("name", "value"), VALID)
def test_valid_for_schema_and_parser(name: str, value: Any) -> None:
    assert schema_ok(name, value)
    assert parser_ok(name, value)


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_invalid_for_schema_and_parser(name: str, value: Any) -> None:
    assert not schema_ok(name, value)
    assert not parser_ok(name, value)


@pytest.mark.parametrize(
    "raw", [b"[]", b'"text"', b"null", b"{", b"", b"NaN", b'{"ts": NaN}', b"\xff\xfe\x00"]
)
@pytest.mark.parametrize("name", list(STREAMS))
def test_non_objects_and_bad_json_are_rejected(name: str, raw: bytes) -> None:
    assert not parser_ok(name, raw)
    try:
        value = json.loads(raw)
    except ValueError:
        return  # not JSON at all: no schema can apply
    assert not schema_ok(name, value)


# Where the schemas cannot be exact: (schema, value, schema accepts, why). The parser's verdict
# is always the opposite one. docs/contract.md ("Input values") lists the same cases.
GAPS = [
    ("cart-event", with_(CART, ts="1.7e9"), False, "exponent in a numeric string"),
    ("cart-event", with_(CART, ts="+1717236900"), False, "sign in a numeric string"),
    ("cart-event", with_(CART, ts="1_717_236_900"), False, "underscores in a numeric string"),
    ("cart-event", with_(CART, ts=" 1717236900 "), False, "spaces around a numeric string"),
    ("cart-event", with_(CART, ts="\u0661\u0667\u0661\u0667"), False, "non-ASCII digits"),
    ("cart-event", with_(CART, ts="2024-06-01T10:15Z"), False, "ISO 8601, not RFC 3339"),
    ("cart-event", with_(CART, ts="2100-01-01T00:00:00Z"), False, "a time in 2100"),
    ("cart-event", with_(CART, item_id=1.0), True, "1.0 is an integer in JSON Schema"),
    ("cart-event", with_(CART, ts="2024-02-30T10:15:00Z"), True, "impossible date"),
    ("cart-event", with_(CART, ts="1970-01-01T00:30:00+01:00"), True, "before 1970 in UTC"),
    ("cart-event", with_(CART, item_id="a\U000e0080"), True, "unassigned code point"),
]


@pytest.mark.parametrize(("name", "value", "accepted", "why"), GAPS, ids=[why for *_, why in GAPS])
def test_known_gaps_between_schema_and_parser(
    name: str, value: Any, accepted: bool, why: str
) -> None:
    assert schema_ok(name, value) is accepted
    assert parser_ok(name, value) is not accepted


def test_payload_size_is_checked_by_the_parser_only() -> None:
    value = with_(CART, pad="x" * LIMITS.max_payload_bytes)
    assert schema_ok("cart-event", value)
    assert not parser_ok("cart-event", json.dumps(value).encode())


@pytest.mark.parametrize("field", ["ts", "quantity", "price"])
def test_huge_integers_are_invalid_events(field: str) -> None:
    value = with_(CART, **{field: 10**400})
    assert not schema_ok("cart-event", value)
    assert not parser_ok("cart-event", value)


# --- the id and ts patterns, exhaustively ------------------------------------------------------
def id_string_schema() -> dict[str, Any]:
    return schema("cart-event")["$defs"]["id"]["anyOf"][0]


def test_id_pattern_is_str_isprintable() -> None:
    """Every code point: the schema forbids it iff the parser does (unassigned ones aside)."""
    string_schema = id_string_schema()
    forbidden = re.compile(string_schema["not"]["pattern"])
    match = re.search(r"as of Unicode (\d+\.\d+\.\d+)", string_schema["$comment"])
    assert match, "the $comment names the Unicode version of the pattern"
    same_unicode = match[1] == unicodedata.unidata_version
    for cp in range(sys.maxunicode + 1):
        char = chr(cp)
        if forbidden.search(char):
            assert not char.isprintable(), f"U+{cp:04X} is printable but forbidden"
        elif same_unicode and not char.isprintable():
            assert unicodedata.category(char) == "Cn", f"U+{cp:04X} should be forbidden"
    # and the validator reads the pattern the same way
    for char in ["\u0000", "\u0085", "\u00a0", "\u061c", "\u3000", "\U000e0001", "\U0010fffd"]:
        assert not schema_ok("cart-event", with_(CART, item_id=f"a{char}b")), repr(char)
    for char in [" ", "~", "\u00a1", "\u00ae", "\U0001f600", "\U00020000"]:
        assert schema_ok("cart-event", with_(CART, item_id=f"a{char}b")), repr(char)


def numeric_strings() -> list[str]:
    out = [
        "0",
        "00",
        "000.",
        ".0",
        ".",
        "",
        "1.",
        ".5",
        "4102444800",
        "04102444800",
        "4102444800.",
        "4102444800.0000",
        "4102444800.0001",
        "4102444799.9999",
        "4102444801",
        "4102444810",
        "4102445000",
        "4199999999",
        "5000000000",
        "9999999999",
        "10000000000",
        "3999999999.99",
        "999999999",
        "1717236900.123456",
        "1..2",
        "1.2.3",
    ]
    bound = "4102444800"
    for i, digit in enumerate(bound):  # one digit above or below the bound, at every place
        for d in "0123456789":
            if d != digit:
                out.append(bound[:i] + d + bound[i + 1 :])
                out.append(bound[:i] + d + "9" * (len(bound) - i - 1))
    return out


@pytest.mark.parametrize("text", numeric_strings())
def test_numeric_ts_strings(text: str) -> None:
    value = with_(CART, ts=text)
    exact = bool(re.fullmatch(r"(\d+\.?\d*|\.\d+)", text)) and 0 <= Decimal(text) <= MAX_TS
    assert schema_ok("cart-event", value) is exact
    assert parser_ok("cart-event", value) is exact


# --- suggestions and dead letters built by the real code ---------------------------------------
async def fake_rank_inputs(
    self: Any, requests: Any, params: Any, tuned: Any = frozenset()
) -> tuple[list[RankInput], dict[int, Any]]:
    """The engine's read-and-score step, with fixed statistics (no Redis)."""
    neighbours = {
        "A": Neighbours({"B": 6.0, "C": 3.0, "D": 2.0}, {"C": 1.0}),
        "X": Neighbours({"B": 2.0}),
    }
    counts = {"A": 10.0, "B": 8.0, "C": 5.0, "D": 4.0, "X": 7.0}
    catalog = {
        "A": CatalogItem("A", category="mugs", price=5.0),
        "D": CatalogItem("D", category="mugs", price=9.0),
        "C": CatalogItem("C", stock=0),
    }
    popular = [(f"P{i}", 100.0 - i) for i in range(80)]
    inputs = [
        RankInput(
            anchors=list(req.anchors),
            exclude=req.exclude,
            neighbours=neighbours,
            counts=counts,
            total=100.0,
            catalog=catalog,
            history={},
            popular=popular,
            now=req.now,
        )
        for req in requests
    ]
    return inputs, {}


EFFECTS = [
    Effect(CartEvent("c-1", "add_to_cart", "u-1", "A", 1717236900.0), cart=["X"]),
    Effect(CartEvent("c-2", "remove_from_cart", "u-1", "X", 1717236901.0)),
    Effect(
        PurchaseEvent(
            "o-1",
            "ord-1",
            None,
            1717236902.0,
            (OrderLine("A"), OrderLine("X", 2.0), OrderLine("A")),
        )
    ),
    Effect(CatalogItem("A", category="mugs")),
    Effect(ForgetUser("f-1", "u-1", 1717236903.0)),
    Effect(CartEvent("c-1", "add_to_cart", "u-1", "A", 1717236900.0), duplicate=True),
]


def suggest(monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> list[dict[str, Any]]:
    monkeypatch.setattr(Engine, "rank_inputs", fake_rank_inputs)
    # no store: self-tuning (which reads and writes Redis) is tested on a real one
    settings = load_settings(self_tuning=False, **overrides)
    engine = Engine(store=None, settings=settings)  # type: ignore[arg-type]
    return asyncio.run(engine.suggest(EFFECTS))


def test_engine_messages_are_valid_suggestions(monkeypatch: pytest.MonkeyPatch) -> None:
    messages = suggest(monkeypatch, exclude_upsell=False)
    for message in messages:
        validator("suggestion").validate(message)
    # one per add_to_cart (a redelivery too, with the same id) and per purchase; none otherwise
    assert [(m["placement"], m["trigger"]["event_id"]) for m in messages] == [
        ("cart", "c-1"),
        ("post_purchase", "o-1"),
        ("cart", "c-1"),
    ]
    assert messages[0]["suggestion_id"] == messages[2]["suggestion_id"]
    assert messages[1]["user_id"] is None
    assert messages[1]["trigger"]["item_ids"] == ["A", "X"]
    kinds = {offer["kind"] for m in messages for offer in m["items"]}
    assert kinds == {"cross_sell", "upsell", "popular"}
    assert all(len(m["items"]) == 3 for m in messages)


def test_engine_messages_at_the_largest_k(monkeypatch: pytest.MonkeyPatch) -> None:
    messages = suggest(monkeypatch, max_suggestions=50)
    for message in messages:
        assert len(message["items"]) == 50
        validator("suggestion").validate(message)


def test_offer_json_shapes() -> None:
    offer_schema = schema("suggestion")["properties"]["items"]["items"]
    check = jsonschema.Draft202012Validator(offer_schema)
    check.validate(offer_json(Offer("B", 0.1234567, "cross_sell", Because("A", 3.0, 0.3))))
    check.validate(offer_json(Offer("P", 1.0, "popular", None)))
    assert not check.is_valid(offer_json(Offer("B", 0.5, "popular", Because("A", 1.0, 0.1))))
    assert not check.is_valid(offer_json(Offer("B", 0.5, "cross_sell", None)))
    assert not check.is_valid(offer_json(Offer("B", 0.5, "other", None)))


def broken(message: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(message))
    *parents, last = path.split(".")
    node = copy
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is DROP:
        del node[last]
    else:
        node[last] = value
    return copy


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("suggestion_id", "sug-1"),
        ("suggestion_id", DROP),
        ("user_id", None),  # a cart suggestion always has its user
        ("placement", "checkout"),
        ("trigger.type", "purchase"),
        ("trigger.item_ids", []),
        ("trigger.item_ids", ["85123A", "21232"]),
        ("items", [{"item_id": "P", "score": 1, "kind": "popular", "because": None}] * 51),
        ("items.0.kind", "popular"),
        ("items.0.score", -1),
        ("items.0.because", None),
        ("items.1.because", {"item_id": "A", "together": 1, "confidence": 1}),
        ("items.0.because.together", DROP),
        ("created_at", "2024-06-01T10:15:00+00:00"),
        ("created_at", DROP),
    ],
)
def test_suggestion_schema_rejects(path: str, value: Any) -> None:
    message = examples_of("suggestion")[0]
    assert message["placement"] == "cart" and len(message["items"]) == 2
    assert schema_ok("suggestion", message)
    assert not schema_ok("suggestion", broken(message, path, value))


def test_purchase_suggestion_must_have_a_purchase_trigger() -> None:
    message = examples_of("suggestion")[1]
    assert message["placement"] == "post_purchase"
    assert schema_ok("suggestion", broken(message, "user_id", None))
    assert not schema_ok("suggestion", broken(message, "trigger.type", "add_to_cart"))


def test_dead_letters_of_the_handler_are_valid() -> None:
    big = json.dumps(with_(CART, pad="x" * (LIMITS.max_payload_bytes + 10))).encode()
    values = [
        None,
        b"",
        b"not json",
        b"[]",
        b"\xff\xfe{",
        big,
        *(json.dumps(v).encode() for n, v in INVALID if n == "cart-event"),
    ]
    records = [Record("xsell.cart-events", 3, offset, value) for offset, value in enumerate(values)]
    out = Output()
    handler = BatchHandler(engine=None, stream="cart-events", limits=LIMITS)  # type: ignore[arg-type]
    assert handler.decode(records, out) == []
    assert len(out.dead_letters) == len(values)
    for letter in out.dead_letters:
        validator("dead-letter").validate(letter)
    truncated = out.dead_letters[values.index(big)]
    assert len(truncated["payload"]) == DEAD_LETTER_PAYLOAD_CHARS
    assert "truncated" in truncated["error"]
    assert out.dead_letters[values.index(b"\xff\xfe{")]["payload"].startswith("\ufffd")


def test_dead_letter_schema_rejects() -> None:
    letter = dead_letter(Record("xsell.orders", 0, 5, b"{}"), "type: expected ...")
    assert schema_ok("dead-letter", letter)
    for key, value in [
        ("partition", -1),
        ("offset", 1.5),
        ("payload", None),
        ("error", ""),
        ("payload", "x" * (DEAD_LETTER_PAYLOAD_CHARS + 1)),
    ]:
        assert not schema_ok("dead-letter", {**letter, key: value}), key
    assert not schema_ok("dead-letter", {k: v for k, v in letter.items() if k != "topic"})
