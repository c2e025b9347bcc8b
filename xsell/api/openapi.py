"""The OpenAPI document, made honest where FastAPI's generator cannot know the truth:

- every error is :class:`~xsell.models.messages.api.ErrorAnswer` with a 400, so FastAPI's
  automatic 422 (``HTTPValidationError``, which this API never sends) is taken out;
- ids in paths and queries follow the input contract (1..XSELL_MAX_ID_LENGTH printable
  characters: a pattern built from ``str.isprintable``, exactly what models/validate.py
  checks), ``k`` is at most XSELL_MAX_SUGGESTIONS, ``since`` is RFC 3339 or epoch seconds:
  what the running process accepts, not a looser type that it would answer with a 400;
- every route that takes a key may answer 429 (failed authentications over the limit,
  xsell/api/guard.py), with ``Retry-After``: declared beside its 401 (not the connectors'
  webhooks, whose 401 is a wrong signature and never limited);
- the connectors' topic headers list the topics they take (another one is a 400);
- ``POST /v1/events`` reads its body raw (a mixed batch keeps its valid events), so its
  schema is declared here: one event, or an array holding at least one (``contains``), each
  event as the contract's JSON Schemas say (generated from the message models, like
  docs/schemas: models/messages/schemas.py).

Schemathesis (tests/system/test_openapi_schemathesis.py) holds the document to the answers.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
from functools import cache
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from xsell.api.errors import TOO_MANY
from xsell.config.settings import Settings
from xsell.connect import shopify, woocommerce
from xsell.models.messages.schemas import schema_of

log = logging.getLogger(__name__)
WEBHOOK_TOPICS = {"X-Shopify-Topic": shopify.TOPICS, "X-WC-Webhook-Topic": woocommerce.TOPICS}
EVENT_SCHEMAS = {
    "CartEvent": "cart-event",
    "OrderEvent": "order-event",
    "CatalogItem": "catalog-item",
    "Feedback": "feedback",
}
EVENT = {"$ref": "#/components/schemas/Event"}
EVENTS_BODY: dict[str, Any] = {
    "required": True,
    "description": "One event, or an array of events (at least one valid: the invalid ones "
    "are listed in the answer, the valid ones still go). docs/contract.md, input topics.",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [EVENT, {"type": "array", "minItems": 1, "contains": EVENT}],
            }
        }
    },
}
# epoch seconds (as text) and RFC 3339, as the contract's "ts" says (docs/schemas); days are
# 01..28 here so that every value the pattern allows is a real date (the worker checks more)
SINCE_PATTERN = (
    r"^(?:[0-9]{1,10}(?:\.[0-9]+)?|(?:19[7-9][0-9]|20[0-9]{2})-(?:0[1-9]|1[0-2])-"
    r"(?:0[1-9]|1[0-9]|2[0-8])[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]))$"
)


def install(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` (and /openapi.json) the honest document, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = honest(document, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def honest(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The corrections listed in the module's docstring, applied to FastAPI's document."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    ident = id_schema(settings.inputs.max_id_length)
    schemas.update(event_components(ident))
    for path, methods in document["paths"].items():
        for operation in methods.values():
            operation["responses"].pop("422", None)
            if not path.startswith("/v1/connect/"):  # signed by the platform: no key, no 429
                _declare_too_many(operation["responses"])
            for status, answer in operation["responses"].items():
                if int(status) >= 400 and "content" in answer:  # errors are JSON everywhere
                    answer["content"] = {"application/json": next(iter(answer["content"].values()))}
            for param in operation.get("parameters", []):
                _declare(param, ident, settings)
    request = schemas.get("RecommendationRequest")
    if request is not None:
        request["properties"]["k"] = {
            "anyOf": [k_schema(settings), {"type": "null"}],
            "description": "At most XSELL_MAX_SUGGESTIONS.",
        }
        request["properties"]["items"]["items"] = {"anyOf": [ident, {"type": "integer"}]}
        request["properties"]["user_id"]["anyOf"] = [ident, {"type": "integer"}, {"type": "null"}]
        request["properties"]["segment"]["anyOf"] = [ident, {"type": "integer"}, {"type": "null"}]
    preview = schemas.get("Preview")
    if preview is not None:  # the ids of a preview follow the input contract, as everywhere
        preview["properties"]["item_ids"]["items"] = ident
        for name in ("user_id", "segment"):
            preview["properties"][name]["anyOf"] = [ident, {"type": "null"}]
    return document


def _declare_too_many(responses: dict[str, Any]) -> None:
    """A 429 with ``Retry-After`` beside each 401 (the same error body)."""
    if "401" not in responses:
        return
    declared = responses.setdefault("429", copy.deepcopy(responses["401"]))
    declared["description"] = TOO_MANY[429]["description"]
    declared["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait before sending again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }


def _declare(param: dict[str, Any], ident: dict[str, Any], settings: Settings) -> None:
    name = param["name"]
    if name in WEBHOOK_TOPICS:  # the topics a connector takes; another one is a 400
        topics = {"type": "string", "enum": sorted(WEBHOOK_TOPICS[name])}
        param["schema"] = topics if param.get("required") else {"anyOf": [topics, {"type": "null"}]}
    elif name in ("user_id", "item_id", "segment"):
        param["schema"] = {**ident, "title": param["schema"].get("title", name)}
    elif name == "k":
        param["schema"] = {"anyOf": [k_schema(settings), {"type": "null"}]}
    elif name == "since":
        param["schema"] = {
            "anyOf": [{"type": "string", "pattern": SINCE_PATTERN}, {"type": "null"}]
        }


def k_schema(settings: Settings) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": settings.ranking.max_suggestions}


def id_schema(max_length: int) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": f"^[^{_non_printable_class()}]*$",
        "description": "An id: printable characters (Python's str.isprintable).",
    }


@cache
def _non_printable_class() -> str:
    """A regex class body of every code point ``str.isprintable`` refuses, as ranges."""
    ranges: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if chr(code).isprintable():
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@cache
def _contract(name: str) -> dict[str, Any]:
    """The contract's JSON Schema of a message, as docs/schemas publishes it."""
    return schema_of(name)


def event_components(ident: dict[str, Any]) -> dict[str, Any]:
    """The input events as OpenAPI components: each contract schema's ``$defs`` become
    components named ``<Schema>_<def>`` and its refs point there. Two definitions are
    restated so that a value they allow is one the worker's parser takes (docs/schemas lists
    where they differ, tests/unit/test_schemas_inputs.py GAPS): an id's text is printable by the
    pattern above (unassigned code points included, which docs/schemas cannot exclude) and
    its integer is a JSON integer without bounds (the contract's 128-digit bounds make
    generators write floats, which the parser refuses); a date's day is 01..28, so that no
    impossible date (2024-02-30) is allowed."""
    out: dict[str, Any] = {"Event": {"anyOf": []}}
    for component, name in EVENT_SCHEMAS.items():
        schema = copy.deepcopy(_contract(name))
        defs = schema.pop("$defs", {})
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        prefix = f"#/components/schemas/{component}_"
        for def_name, value in defs.items():
            if def_name == "id":
                value = {"anyOf": [ident, {"type": "integer"}], "description": ident["description"]}
            elif def_name == "ts":
                value = _real_dates(value)
            out[f"{component}_{def_name}"] = _relocate(value, prefix)
        out[component] = _relocate(schema, prefix)
        out["Event"]["anyOf"].append({"$ref": f"#/components/schemas/{component}"})
    return out


def _real_dates(ts: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(ts).replace("(?:0[1-9]|[12][0-9]|3[01])", "(?:0[1-9]|1[0-9]|2[0-8])")
    restated: dict[str, Any] = json.loads(text)
    return restated


def _relocate(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        return {
            k: (re.sub(r"^#/\$defs/", prefix, v) if k == "$ref" else _relocate(v, prefix))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_relocate(v, prefix) for v in value]
    return value
