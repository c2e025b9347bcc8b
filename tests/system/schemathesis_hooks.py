"""Schemathesis hook (``SCHEMATHESIS_HOOKS``, tests/system/test_openapi_schemathesis.py): the
connectors' webhooks signed as the platforms sign them, so that fuzzing reaches their mappings
(any topic the document allows, any JSON object) instead of stopping at the signature's 401."""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis

from xsell.connect.common import signature

HEADERS = {"shopify": "X-Shopify-Hmac-Sha256", "woocommerce": "X-WC-Webhook-Signature"}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    path = case.operation.path
    if not path.startswith("/v1/connect/") or not isinstance(case.body, dict | list):
        return
    platform = path.rsplit("/", 1)[1]
    secret = os.environ[f"XSELL_{platform.upper()}_WEBHOOK_SECRET"]
    body = json.dumps(case.body).encode()
    case.body = body  # sent as these bytes: the signature is of exactly them
    case.headers = {**(case.headers or {}), HEADERS[platform]: signature(secret, body)}
