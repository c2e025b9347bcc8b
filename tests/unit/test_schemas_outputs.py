"""The output schemas (docs/schemas): suggestions built by the real engine and dead letters built
by the real handler are valid, and broken ones are rejected."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import pytest

from tests.unit.schema_cases import (
    CART,
    DROP,
    INVALID,
    LIMITS,
    examples_of,
    schema,
    schema_ok,
    validator,
    with_,
)
from xsell.config.settings import load_settings
from xsell.engine import Engine, offer_json
from xsell.models.events import CartEvent, CatalogItem, ForgetUser, OrderLine, PurchaseEvent
from xsell.models.ranking import Because, Neighbours, Offer, RankInput
from xsell.store.core.apply import Effect
from xsell.streams.handler import BatchHandler, Output, Record, dead_letter


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


def test_an_offer_explained_by_the_category_carries_it() -> None:
    """Why: a shop shows "often bought with <category>" only if the message says so; the
    field is additive (absent on every other offer), so today's consumers see no change."""
    offer_schema = schema("suggestion")["properties"]["items"]["items"]
    check = jsonschema.Draft202012Validator(offer_schema)
    by_category = offer_json(
        Offer("case", 0.2, "cross_sell", Because("phone", 3.0, 0.75, "phones"))
    )
    check.validate(by_category)
    assert by_category["because"]["category"] == "phones"
    plain = offer_json(Offer("B", 0.1, "cross_sell", Because("A", 3.0, 0.3)))
    assert "category" not in plain["because"]


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
    assert len(truncated["payload"]) == LIMITS.dead_letter_payload_chars
    assert "truncated" in truncated["error"]
    assert out.dead_letters[values.index(b"\xff\xfe{")]["payload"].startswith("\ufffd")


def test_dead_letter_schema_rejects() -> None:
    letter = dead_letter(Record("xsell.orders", 0, 5, b"{}"), "type: expected ...", LIMITS)
    assert schema_ok("dead-letter", letter)
    for key, value in [
        ("partition", -1),
        ("offset", 1.5),
        ("payload", None),
        ("error", ""),
        ("payload", "x" * (LIMITS.dead_letter_payload_chars + 1)),
    ]:
        assert not schema_ok("dead-letter", {**letter, key: value}), key
    assert not schema_ok("dead-letter", {k: v for k, v in letter.items() if k != "topic"})
