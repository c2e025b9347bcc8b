"""docs/schemas/*.json, generated from the message models (``make schemas`` writes them;
tests/unit/test_generated_schemas.py fails when a committed file is stale).

pydantic's generator, adjusted to publish what the contract has always published: no
generated titles on properties, ``null`` folded into ``type`` where it can be, no defaults on
properties (a default is the worker's business; the shared definitions state them), nested
models inlined, and the shared input definitions (:mod:`xsell.models.messages.jsonschema_defs`) as
``$defs`` referenced by name.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from xsell.models.messages import api, bundles, inputs, outputs, shop
from xsell.models.messages.jsonschema_defs import input_defs

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://xsell.dev/schemas/"
MODELS: dict[str, type[BaseModel]] = {
    "cart-event": inputs.CartEventMessage,
    "order-event": inputs.OrderEventMessage,
    "catalog-item": shop.CatalogItemMessage,
    "feedback": shop.FeedbackMessage,
    "profile": shop.ProfileMessage,
    "suggestion": outputs.SuggestionMessage,
    "notification": outputs.NotificationMessage,
    "dead-letter": outputs.DeadLetterMessage,
    "offers": api.OffersAnswer,
    "bundle": bundles.BundleAnswer,
    "recommendation-request": api.RecommendationRequest,
    "events-answer": api.EventsAnswer,
    "error": api.ErrorAnswer,
}
# nested models kept as named definitions (the others are inlined), by their published name
KEPT = {
    "PurchaseMessage": "purchase",
    "OrderLineMessage": "line",
    "ForgetUserMessage": "forget_user",
}


class ContractSchema(GenerateJsonSchema):
    """pydantic's JSON Schema generator, in the contract's style (module doc)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def literal_schema(self, schema: core_schema.LiteralSchema) -> JsonSchemaValue:
        out = super().literal_schema(schema)
        out.pop("type", None)
        return out

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        inner = self.generate_inner(schema["schema"])
        if isinstance(inner.get("type"), str) and "$ref" not in inner:
            return {**inner, "type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}


def _resolve(node: Any, defs: dict[str, Any], used: set[str]) -> Any:
    """``node`` with pydantic's model references inlined (KEPT ones renamed) and the shared
    placeholders (``x-def``) turned into references to the shared definitions."""
    if isinstance(node, list):
        return [_resolve(v, defs, used) for v in node]
    if not isinstance(node, dict):
        return node
    if "x-def" in node:
        used.add(node["x-def"])
        rest = {k: v for k, v in node.items() if k == "description"}
        return {"$ref": f"#/$defs/{node['x-def']}", **rest}
    if "$ref" in node and node["$ref"].startswith("#/$defs/"):
        model = node["$ref"].rsplit("/", 1)[1]
        if model in KEPT:
            used.add(KEPT[model])
            return {**node, "$ref": f"#/$defs/{KEPT[model]}"}
        inlined = {k: v for k, v in defs[model].items() if k != "title"}
        return _resolve({**inlined, **{k: v for k, v in node.items() if k != "$ref"}}, defs, used)
    return {k: _resolve(v, defs, used) for k, v in node.items()}


def _shared(used: set[str], defs: dict[str, Any]) -> dict[str, Any]:
    """The named definitions of a schema: the shared input ones when it uses any, and the kept
    models it references."""
    kept: dict[str, Any] = {}
    for model, name in KEPT.items():  # in dependency order: a purchase uses its lines
        if name in used:
            kept[name] = _resolve(defs[model], defs, used)
    shared = input_defs() if used - set(KEPT.values()) else {}  # all of them: one vocabulary
    return {**shared, **kept}


def schema_of(name: str) -> dict[str, Any]:
    """The published JSON Schema of the message ``name`` (a docs/schemas/ file's stem)."""
    raw = MODELS[name].model_json_schema(schema_generator=ContractSchema)
    defs = raw.pop("$defs", {})
    used: set[str] = set()
    body = _resolve(raw, defs, used)
    head = {"$schema": DRAFT, "$id": f"{BASE_ID}{name}.json", "title": body.pop("title")}
    head["description"] = body.pop("description")
    shared = _shared(used, defs)
    return {**head, **body, **({"$defs": shared} if shared else {})}


def render(name: str) -> str:
    """The text of docs/schemas/NAME.schema.json: stable, two-space indented, UTF-8."""
    return json.dumps(schema_of(name), indent=2, ensure_ascii=False) + "\n"
