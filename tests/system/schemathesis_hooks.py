"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``, tests/system/test_openapi_schemathesis.py): the
connectors' webhooks signed as the platforms sign them, so that fuzzing reaches their mappings
(any topic the document allows, any JSON object) instead of stopping at the signature's 401;
the one rule of a merchant rule that JSON Schema cannot state (its window ends after it
starts; its 400 is tested in tests/integration/api/test_api_rules.py) kept out of generation;
and every other valid id of the routes that read stored data (a bundle, a latest suggestion)
replaced by one the stack has seeded, so that fuzzing checks their 200 answers too, not only
their 404 (a random id has no data)."""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

from xsell.connect.common import signature
from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits
from xsell.models.messages.merchant import When
from xsell.models.messages.rules import parse_id

HEADERS = {"shopify": "X-Shopify-Hmac-Sha256", "woocommerce": "X-WC-Webhook-Signature"}
# path -> (parameter, an id test_openapi_schemathesis.py's stack has data for)
SEEDED = {
    "/v1/items/{item_id}/bundle": ("item_id", "sys-anchor"),
    "/v1/users/{user_id}/suggestions": ("user_id", "sys-buyer2"),
    "/v1/users/{user_id}/recommendations": ("user_id", "sys-buyer2"),  # has a purchase
}
_calls = dict.fromkeys(SEEDED, 0)


def _valid_id(value: Any) -> bool:
    try:
        parse_id(value, "item_id", Limits())
    except InvalidEvent:
        return False
    return True


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    path = case.operation.path
    if path in SEEDED:
        name, seeded = SEEDED[path]
        _calls[path] += 1
        if _calls[path] % 2 and _valid_id(case.path_parameters.get(name)):
            case.path_parameters = {**case.path_parameters, name: seeded}
        return
    if not path.startswith("/v1/connect/") or not isinstance(case.body, dict | list):
        return
    platform = path.rsplit("/", 1)[1]
    secret = os.environ[f"XSELL_{platform.upper()}_WEBHOOK_SECRET"]
    body = json.dumps(case.body).encode()
    case.body = body  # sent as these bytes: the signature is of exactly them
    case.headers = {**(case.headers or {}), HEADERS[platform]: signature(secret, body)}


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """False for a rule (or a preview's rule) whose window ends before it starts."""
    path = context.operation.path if context.operation is not None else ""
    if not path.startswith("/v1/rules") or not isinstance(body, dict):
        return True
    rule = body.get("rule") if path.endswith("/preview") else body
    when = rule.get("when") if isinstance(rule, dict) else None
    if not isinstance(when, dict) or "starts_at" not in when or "ends_at" not in when:
        return True
    try:
        When.model_validate(when)
    except ValueError as exc:
        return "ends_at must be after starts_at" not in str(exc)
    return True
