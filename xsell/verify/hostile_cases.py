"""Hostile input: a deterministic generator of bad records (and valid but awkward ones).

Every bad :class:`Case` names the fragment of the reason the worker must give in the dead
letter (``expect``); a valid case (``expect is None``) must be processed, never dead-lettered.
Valid cases use ids with ``{ } : * %``, key-layout look-alikes (``xs:{g}:pop``), spaces,
non-ASCII and 128-character ids: valid by the contract, they must land in their own slot.
Run them through the handler with ``xsell hostile`` (:mod:`xsell.verify.hostile_check`) or through
Kafka and a worker (``tests/integration/test_hostile.py``). Limits: docs/security.md.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

STREAMS = ("orders", "cart-events", "catalog")
ITEMS: tuple[Any, ...] = (
    "{x}",
    "}",
    "{",
    "a:b",
    "*",
    "a:b:*",
    "xs:{g}:pop",
    "{i:victim}:p",
    "}{",
    "%7B",
    "%",
    "%7D",
    "ü€😀",
    "x y",
    "I" * 128,
    42,
    "42x",
    "{u:victim}",
    "[a-z]?",
    "\\",
    '"q"',
)
ORDER_USERS: tuple[Any, ...] = ("{u}", "u:*", "}{", "%7B", "victim", 7, "o" * 128, "ユーザー")
CART_USERS: tuple[Any, ...] = ("c{1}", "c:*", "{c}", "%", "c" * 128, 8, "カート")
BAD_IDS = ("\x00", "a\nb", "\x1b[31m", "\u200b", "\x7f", "\u2028", "a\tb", "\ud800")
BAD_CATALOG: list[tuple[str, Any, str]] = [
    ("active", "yes", "active: expected true or false"),
    ("price", "cheap", "price: expected a number"),
    ("name", "n" * 1001, "name: expected text"),
    ("stock", -1, "stock: must be a finite"),
    ("item_id", "k\x00", "item_id: contains control"),
    ("item_id", None, "item_id: missing"),
    ("category", ["c"], "category: expected a string id"),
]
BIG_EVERY = 1000  # one case in BIG_EVERY is a megabyte-size one
TS = 1_700_000_000
# deep JSON: the decoder's recursion limit ("not JSON"), or, where a Python's limit is higher,
# the nesting check
DEEP = "not JSON|nested deeper"


@dataclass(frozen=True, slots=True)
class Case:
    kind: str
    stream: str  # logical topic: orders | cart-events | catalog
    key: str | None  # record key (user id, item id) as the shop would send it
    value: bytes | None
    expect: str | None  # fragment of the dead-letter reason; None = valid

    @property
    def valid(self) -> bool:
        return self.expect is None

    def matches(self, reason: str) -> bool:
        """True when ``reason`` is one this bad case allows (``|`` separates alternatives)."""
        return self.expect is not None and any(x in reason for x in self.expect.split("|"))


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()


def _purchase(n: int, **over: Any) -> dict[str, Any]:
    event = {
        "event_id": f"h-o{n}",
        "type": "purchase",
        "order_id": f"ord-{n}",
        "user_id": f"hu{n}",
        "ts": TS + n,
        "items": [{"item_id": "a"}, {"item_id": "b"}],
    }
    event.update(over)
    return event


def _cart(n: int, **over: Any) -> dict[str, Any]:
    event = {
        "event_id": f"h-c{n}",
        "type": "add_to_cart",
        "user_id": f"hc{n}",
        "item_id": "a",
        "ts": TS + n,
    }
    event.update(over)
    return event


def _line(**over: Any) -> dict[str, Any]:
    return {"item_id": "a", "quantity": 1, "price": 1.0, **over}


Gen = Callable[[random.Random, int], tuple[str, bytes | None, str]]  # stream, value, expect


def _bad_generators() -> dict[str, Gen]:
    def ev(r: random.Random, n: int, cart_only: bool = False) -> tuple[str, dict[str, Any]]:
        if r.random() < 0.5 and not cart_only:
            return "orders", _purchase(n)
        return "cart-events", _cart(n)

    def raw(
        r: random.Random,
        n: int,
        mutate: Callable[[dict[str, Any]], Any],
        expect: str,
        cart_only: bool = False,
    ) -> tuple[str, bytes | None, str]:
        stream, obj = ev(r, n, cart_only)
        mutate(obj)
        return stream, _dump(obj), expect

    def field(name: str, values: list[Any], expect: str, cart_only: bool = False) -> Gen:
        return lambda r, n: raw(
            r, n, lambda o: o.__setitem__(name, r.choice(values)), expect, cart_only
        )

    def text(
        stream: str, event: dict[str, Any], old: bytes, new: bytes, expect: str
    ) -> tuple[str, bytes | None, str]:
        data = _dump(event)
        assert old in data
        return stream, data.replace(old, new, 1), expect

    def line(name: str, values: list[Any], expect: str) -> Gen:
        return lambda r, n: (
            "orders",
            _dump(_purchase(n, items=[_line(), _line(**{name: r.choice(values)})])),
            expect,
        )

    def truncated(r: random.Random, n: int) -> tuple[str, bytes | None, str]:
        stream, event = ev(r, n)
        data = _dump(event)
        return stream, data[: r.randint(1, len(data) - 1)], "not JSON"

    def bad_catalog(r: random.Random, n: int) -> tuple[str, bytes | None, str]:
        name, value, expect = r.choice(BAD_CATALOG)
        return "catalog", _dump({"type": "item", "item_id": "k", name: value}), expect

    def nested(depth: int) -> Any:
        value: Any = 1
        for _ in range(depth - 1):
            value = [value]
        return value

    gens: dict[str, Gen] = {
        "not_json": lambda r, n: (
            r.choice(STREAMS),
            b'{"event_id": @' + r.randbytes(r.randint(0, 64)),
            "not JSON",
        ),
        "truncated_json": truncated,
        "invalid_utf8": lambda r, n: (
            r.choice(STREAMS),
            b'{"event_id": "\xff\xfe' + r.randbytes(4) + b'"}',
            "not JSON",
        ),
        "binary": lambda r, n: (
            r.choice(STREAMS),
            b"\x00\x01" + r.randbytes(r.randint(0, 200)),
            "not JSON",
        ),
        "empty_value": lambda r, n: (r.choice(STREAMS), b"", "not JSON"),
        "null_value": lambda r, n: (r.choice(STREAMS), None, "empty record value"),
        "not_object": lambda r, n: (
            r.choice(STREAMS),
            r.choice([b"[1, 2]", b'"purchase"', b"42", b"null", b"true", b"[]"]),
            "expected a JSON object",
        ),
        "nan_literal": lambda r, n: (
            "orders",
            _dump(
                _purchase(
                    n,
                    items=[
                        _line(),
                        _line(price=r.choice([float("nan"), float("inf"), float("-inf")])),
                    ],
                )
            ),
            "not a valid JSON number",
        ),
        "negative_price": line("price", [-1, -0.01, -1e9], "price: must be a finite number"),
        "negative_quantity": field(
            "quantity", [-1, -1e-9, -5], "quantity: must be a finite", cart_only=True
        ),
        "huge_price": line("price", [1e10, 1e300, 10**30], "price: must be a finite"),
        "huge_quantity": field(
            "quantity", [1e7, 1e300], "quantity: must be a finite", cart_only=True
        ),
        "exponent_overflow": lambda r, n: text(
            "cart-events", _cart(n, quantity=7), b": 7", b": 1e400", "quantity: must be a finite"
        ),
        "int_overflow": line("quantity", [10**400], "quantity: number too large"),
        "too_many_digits": lambda r, n: text(
            "orders", _purchase(n), b'"ts": ', b'"ts": ' + b"9" * 5000 + b', "x": ', "not JSON"
        ),
        "wrong_type_id": field(
            "user_id", [["u"], {"u": 1}, 1.5, True, 42.0], "user_id: expected a string id"
        ),
        "wrong_type_ts": field("ts", [True, [TS], {"t": 1}], "ts: expected RFC 3339"),
        "wrong_type_quantity": field(
            "quantity", ["2", [1], {"q": 1}, True], "quantity: expected a number", cart_only=True
        ),
        "wrong_type_items": lambda r, n: (
            "orders",
            _dump(_purchase(n, items=r.choice([{"item_id": "a"}, "a,b", 3, None]))),
            "items: expected a list",
        ),
        "wrong_type_line": lambda r, n: (
            "orders",
            _dump(_purchase(n, items=[_line(), r.choice(["a", 1, None, ["a"]])])),
            "items[1]: expected an object",
        ),
        "missing_event_id": lambda r, n: raw(
            r, n, lambda o: o.pop("event_id"), "event_id: missing"
        ),
        "missing_item_id": lambda r, n: (
            "orders",
            _dump(_purchase(n, items=[{"quantity": 1}])),
            "items[0].item_id: missing",
        ),
        "missing_order_id": lambda r, n: (
            "orders",
            _dump({k: v for k, v in _purchase(n).items() if k != "order_id"}),
            "order_id: missing",
        ),
        "bad_ts": field(
            "ts", ["yesterday", "2024-13-01T00:00:00Z", "", "1e999x"], "ts: not RFC 3339"
        ),
        "ts_range": field("ts", [-5, 5e9, "nan", "inf", "-1", 10**20], "ts: outside 1970..2100"),
        "ts_no_offset": field(
            "ts",
            ["2024-06-01T10:15:00", "2024-06-01 10:15"],
            "ts: RFC 3339 time needs a UTC offset",
        ),
        "empty_order": lambda r, n: ("orders", _dump(_purchase(n, items=[])), "items: empty order"),
        "too_many_lines": lambda r, n: (
            "orders",
            _dump(_purchase(n, items=[{"item_id": f"i{k}"} for k in range(r.randint(1001, 1500))])),
            "more than 1000",
        ),
        "long_id": field(
            "event_id", ["e" * 129, "é" * 200, "x" * 5000], "event_id: longer than 128"
        ),
        "control_id": lambda r, n: (
            "cart-events",
            _dump(_cart(n, item_id=r.choice(BAD_IDS))),
            "item_id: contains control or non-printable",
        ),
        "control_user": field("user_id", list(BAD_IDS), "user_id: contains control"),
        "empty_id": field("event_id", [""], "event_id: empty"),
        "float_id": field("event_id", [42.0, 1e3, 0.5], "event_id: expected a string id"),
        "unknown_type": field(
            "type", ["refund", "", None, 42, "PURCHASE", ["purchase"], {}], "type: expected"
        ),
        "cross_type": lambda r, n: r.choice(
            [
                ("orders", _dump(_cart(n)), "type: expected"),
                ("cart-events", _dump(_purchase(n)), "type: expected"),
                ("catalog", _dump(_purchase(n)), "type: expected"),
            ]
        ),
        "deep_nesting": field("extra", [nested(d) for d in (9, 12, 40, 500)], "nested deeper"),
        "very_deep_nesting": lambda r, n: (
            lambda d: (r.choice(STREAMS), b'{"x": ' + b"[" * d + b"]" * d + b"}", DEEP)
        )(r.choice([2_000, 5_000, 20_000])),
        "bad_catalog": bad_catalog,
    }
    # megabyte-size records (one in BIG_EVERY cases)
    gens_big: dict[str, Gen] = {
        "big_order_100k_items": lambda r, n: (
            "orders",
            _dump(
                _purchase(n, items=[{"item_id": f"i{k}", "quantity": 1} for k in range(100_000)])
            ),
            "payload larger than",
        ),
        "big_megabyte_id": lambda r, n: (
            "cart-events",
            _dump(_cart(n, item_id="m" * 1_000_000)),
            "item_id: longer than 128",
        ),
        "big_payload": lambda r, n: raw(
            r, n, lambda o: o.__setitem__("pad", "p" * (2 << 20)), "payload larger than"
        ),
        "big_deep_nesting": lambda r, n: (
            "orders",
            b'{"x": ' + b"[" * 500_000 + b"]" * 500_000 + b"}",
            DEEP,
        ),
        "big_control_id": lambda r, n: (
            "cart-events",
            _dump(_cart(n, user_id="\x00" * 150_000)),
            "user_id: longer than 128",
        ),
    }
    return {**gens, **{"!" + k: v for k, v in gens_big.items()}}


GENERATORS = _bad_generators()
SMALL = sorted(k for k in GENERATORS if not k.startswith("!"))
BIG = sorted(k for k in GENERATORS if k.startswith("!"))


def valid_case(r: random.Random, n: int) -> Case:
    """A valid event with awkward ids: must be processed and stay in its own slot."""
    roll = r.random()
    if roll < 0.45:
        user = r.choice((*ORDER_USERS, None))
        items = [
            {
                "item_id": r.choice(ITEMS),
                "quantity": r.choice([1, 2, 0.5]),
                "price": r.choice([None, 0, 9.99, 1e9]),
            }
            for _ in range(r.randint(1, 4))
        ]
        event = {
            "event_id": f"v-o{n}:{{*}}",
            "type": "purchase",
            "order_id": f"{{o}}{n}",
            "user_id": user,
            "ts": TS + n,
            "items": items,
        }
        return Case(
            "valid_purchase", "orders", None if user is None else str(user), _dump(event), None
        )
    if roll < 0.85:
        user = r.choice(CART_USERS)
        x = r.random()  # one draw, as before views: the rest of the stream is unchanged
        kind = "add_to_cart" if x < 0.7 else "view" if x < 0.8 else "remove_from_cart"
        event = {
            "event_id": f"v-c{n}%7B",
            "type": kind,
            "user_id": user,
            "item_id": r.choice(ITEMS),
            "ts": f"2023-11-14T22:{n % 60:02d}:00Z",
        }
        return Case("valid_cart", "cart-events", str(user), _dump(event), None)
    if roll < 0.95:
        item = r.choice(ITEMS)
        event = {
            "type": "item",
            "item_id": item,
            "category": r.choice(["c{1}", "c:*", 5]),
            "price": r.choice([1.0, 99.5]),
            "stock": r.choice([0, 10]),
            "name": r.choice(["\x00 binary\nname", "n" * 1000, None]),
        }
        return Case("valid_catalog", "catalog", str(item), _dump(event), None)
    user = r.choice(ORDER_USERS)
    event = {"event_id": f"v-f{n}", "type": "forget_user", "user_id": user, "ts": TS + n}
    return Case("valid_forget", "orders", str(user), _dump(event), None)


def generate(
    count: int, *, seed: int = 0, valid_every: int = 10, big: bool = True
) -> Iterator[Case]:
    """``count`` bad cases (every kind in turn, then at random), with a valid case after
    every ``valid_every`` bad ones (0 = none); one in BIG_EVERY is megabyte-size if ``big``."""
    r = random.Random(seed)
    for n in range(count):
        if big and n % BIG_EVERY == BIG_EVERY - 1:
            kind = BIG[(n // BIG_EVERY) % len(BIG)]
        else:
            kind = SMALL[n] if n < len(SMALL) else r.choice(SMALL)
        stream, value, expect = GENERATORS[kind](r, n)
        key = "null" if value is None else None  # Kafka needs a key or a value
        yield Case(kind.lstrip("!"), stream, key, value, expect)
        if valid_every and n % valid_every == valid_every - 1:
            yield valid_case(r, n)
