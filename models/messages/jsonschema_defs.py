"""The JSON Schema definitions every input schema shares (``$defs``): an id, an event time,
a quantity, a price and JSON values of bounded depth.

The worker checks these rules in Python (:mod:`xsell.models.messages.rules`); JSON Schema can only
approximate some of them, and these fragments are that approximation, word for word what
docs/schemas/ has always published (the gaps are listed in docs/contract.md and tested by
tests/unit/test_schemas_inputs.py). They are data, kept beside the rules so both change together.
"""

from __future__ import annotations

from typing import Any

# every assigned code point of categories Cc, Cf, Cs, Co, Zl, Zp, Zs but U+0020 (Unicode 14)
NOT_PRINTABLE = "[\\u0000-\\u001f\\u007f-\\u00a0\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890-\\u0891\\u08e2\\u1680\\u180e\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u2064\\u2066-\\u206f\\u3000\\ud800-\\uf8ff\\ufeff\\ufff9-\\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\U000f0000-\U000ffffd\U00100000-\U0010fffd]"
ID: dict[str, Any] = {
    "description": 'An id: a string of 1..128 printable characters, or an integer whose decimal text (sign included) has at most 128 characters, written without fraction or exponent. An integer is the same id as its decimal text (42 and "42"). 128 is the default of XSELL_MAX_ID_LENGTH.',
    "anyOf": [
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 128,
            "not": {"pattern": NOT_PRINTABLE},
            "$comment": "Printable as Python's str.isprintable(): the class lists every assigned code point of categories Cc, Cf, Cs, Co, Zl, Zp and Zs (except U+0020) as of Unicode 14.0.0. BMP code points are regex escapes, the few astral ones are literal characters (a JSON surrogate pair each), so the pattern needs a Unicode-aware regex engine (ECMA-262 'u' flag, Python re). Unassigned code points are also rejected by the worker but not by this pattern.",
        },
        {
            "type": "integer",
            "minimum": -9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999,
            "maximum": 99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999,
        },
    ],
}
TS: dict[str, Any] = {
    "description": "Event time: RFC 3339 text with a UTC offset ('Z', +hh:mm or -hh:mm; the separator may be 'T', 't' or a space), or epoch seconds as a JSON number or a numeric string (decimal digits, optional fraction). The instant must lie in 1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z. The pattern checks years 1970..2099 and field ranges; calendar validity (no 2024-02-30) and the exact bounds of times with an offset on 1970-01-01 are checked by the worker only.",
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 4102444800},
        {
            "type": "string",
            "pattern": "^0*(?:(?:[0-9]{1,9}|[0-3][0-9]{9}|40[0-9]{8}|410[01][0-9]{6}|4102[0-3][0-9]{5}|41024[0-3][0-9]{4}|410244[0-3][0-9]{3}|4102444[0-7][0-9]{2})(?:\\.[0-9]*)?|4102444800(?:\\.0*)?|\\.[0-9]+)$",
            "$comment": "Epoch seconds as text, 0 .. 4102444800.",
        },
        {
            "type": "string",
            "pattern": "^(?:19[7-9][0-9]|20[0-9]{2})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$",
            "$comment": "RFC 3339 date-time; lower-case 'z' is not accepted.",
        },
    ],
}
QUANTITY: dict[str, Any] = {
    "description": "Units: a finite number in [0, 1e6]; null or absent means 1.",
    "type": ["number", "null"],
    "minimum": 0,
    "maximum": 1000000,
    "default": 1,
}
PRICE: dict[str, Any] = {
    "description": "Unit price: a finite number in [0, 1e9]; null or absent: unknown.",
    "type": ["number", "null"],
    "minimum": 0,
    "maximum": 1000000000,
}


def json_depth_defs(levels: int = 7) -> dict[str, dict[str, Any]]:
    """``json_0`` .. ``json_<levels>``: any JSON value nested at most that many levels (the
    worker rejects records nested deeper than 8 levels; a property of the top object sits at
    level 2, so its value may nest 7 more)."""
    defs: dict[str, dict[str, Any]] = {
        "json_0": {"description": "A JSON scalar.", "type": ["null", "boolean", "number", "string"]}
    }
    for n in range(1, levels + 1):
        inner = {"$ref": f"#/$defs/json_{n - 1}"}
        defs[f"json_{n}"] = {
            "description": f"Any JSON value nested at most {n} level{'s' if n > 1 else ''}.",
            "items": inner,
            "additionalProperties": inner,
        }
    return defs


def input_defs() -> dict[str, dict[str, Any]]:
    """The ``$defs`` every input schema shares, in their published order."""
    return {"id": ID, "ts": TS, "quantity": QUANTITY, "price": PRICE, **json_depth_defs()}
