"""docs/schemas and docs/contract.md: the schema files are valid JSON Schema 2020-12, and every JSON
example of the contract names its schema, validates against it, is accepted by the worker's parser
(input topics) and agrees with the code; the contract names only real settings."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest

from tests.unit.schema_cases import (
    CONTRACT,
    LIMITS,
    NAMES,
    STREAMS,
    contract_examples,
    example_ids,
    examples_of,
    schema,
    validator,
)
from xsell.config.settings import FLAT, flat_defaults
from xsell.engine import suggestion_id
from xsell.models.errors import InvalidEvent
from xsell.models.events import CartEvent, PurchaseEvent, purchase_event_id
from xsell.models.validate import parse_record


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
        ("cart-event", "view"),
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
