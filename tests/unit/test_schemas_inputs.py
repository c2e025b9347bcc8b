"""The input schemas (docs/schemas) and the worker's parser agree on valid and invalid values;
where a JSON Schema cannot say exactly what the parser checks, the difference is listed here
(GAPS) and in docs/contract.md. The id and ts patterns are checked exhaustively."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.schema_cases import (
    CART,
    INVALID,
    LIMITS,
    MAX_TS,
    STREAMS,
    VALID,
    parser_ok,
    schema,
    schema_ok,
    with_,
)


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
