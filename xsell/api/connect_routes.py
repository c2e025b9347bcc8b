"""``POST /v1/connect/shopify`` and ``POST /v1/connect/woocommerce``: a shop platform's
webhooks as xsell's events, without code on the shop's side (docs/integrations.md).

Each route is on when its secret is set (``XSELL_SHOPIFY_WEBHOOK_SECRET``,
``XSELL_WOOCOMMERCE_WEBHOOK_SECRET``), else it answers 404. The answer's order: 404 (off),
401 (the body's base64 HMAC-SHA256 is not the signature header: compared in constant time),
400 (an unknown topic, named; a body that is not JSON; a field the mapping needs, named), 413
over ``XSELL_MAX_PAYLOAD_BYTES`` (the API's body limit). What a webhook maps to goes through
the worker's own parser and the same topics as ``POST /v1/events``; the answer (200) comes once
Kafka has acknowledged it, 503 if it did not (the platform sends again). Event ids come from
the platform's ids (order id, webhook id), so a retried webhook changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request

from xsell.api.deps import Runtime
from xsell.api.errors import BAD_INPUT, TOO_LARGE, UNAVAILABLE, Responses, declared
from xsell.api.event_routes import encode_event, route_of, send_events
from xsell.api.runtime import ApiRuntime
from xsell.api.schemas import ConnectAnswer
from xsell.connect import shopify, woocommerce
from xsell.connect.common import Malformed, Record, signed
from xsell.models.errors import InvalidEvent
from xsell.models.validate import parse_record

log = logging.getLogger(__name__)
router = APIRouter()
PING = re.compile(rb"^webhook_id=[0-9]+$")
BAD_SIGNATURE = declared(401, "The signature header is missing or not the body's HMAC")
OFF = declared(404, "The connector is off: its webhook secret is not set")
WEBHOOK_BODY: dict[str, Any] = {
    "required": True,
    "description": "The platform's webhook payload, exactly as signed (docs/integrations.md).",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
RESPONSES: Responses = {**BAD_INPUT, **BAD_SIGNATURE, **OFF, **TOO_LARGE, **UNAVAILABLE}


def signed_body(platform: str, header: str) -> Callable[[Request, ApiRuntime], Awaitable[bytes]]:
    """A dependency: the raw body of a webhook whose ``header`` is its signature with the
    platform's secret; 404 when the connector is off, 401 when the signature is wrong."""

    async def verified(request: Request, rt: Runtime) -> bytes:
        secret = rt.settings.connect.secret_of(platform)
        if secret is None:
            raise HTTPException(404, f"the {platform} connector is off (its secret is unset)")
        body = await request.body()
        if platform == "woocommerce" and PING.match(body.strip()):
            return body  # WooCommerce's unsigned ping when a webhook is saved: answered 200
        if not signed(secret, body, request.headers.get(header)):
            raise HTTPException(401, f"{header}: not the signature of the body")
        return body

    return verified


ShopifyBody = Annotated[bytes, Depends(signed_body("shopify", "X-Shopify-Hmac-Sha256"))]
WooBody = Annotated[bytes, Depends(signed_body("woocommerce", "X-WC-Webhook-Signature"))]


@router.post(
    "/v1/connect/shopify",
    response_model=ConnectAnswer,
    responses=RESPONSES,
    openapi_extra={"requestBody": WEBHOOK_BODY},
    summary="Shopify webhooks (orders, carts, products, customers' privacy requests)",
)
async def connect_shopify(
    body: ShopifyBody,
    rt: Runtime,
    topic: Annotated[str, Header(alias="X-Shopify-Topic", description="e.g. orders/create")],
    webhook_id: Annotated[
        str, Header(alias="X-Shopify-Webhook-Id", description="The delivery's id (retries keep it)")
    ],
) -> ConnectAnswer:
    if topic not in shopify.TOPICS:
        raise HTTPException(400, f"X-Shopify-Topic: {topic[:60]!r} is not one xsell takes")
    delivery = webhook_id.strip()[:128]
    if not delivery:
        raise HTTPException(400, "X-Shopify-Webhook-Id: empty")
    payload = _json(body)
    now = time.time()
    answer = ConnectAnswer(platform="shopify", topic=topic, accepted=0, event_ids=[])
    try:
        if topic == shopify.ORDER:
            return await _publish(rt, answer, shopify.order_records(payload, now))
        if topic in shopify.CART_TOPICS:
            cart = shopify.cart_of(payload, now)
            ttl = rt.settings.connect.cart_ttl_seconds
            swap = rt.store.connect.swap_cart("shopify", cart.cart_id, cart.lines, delivery, ttl)
            previous = await rt.redis(swap)
            return await _publish(rt, answer, shopify.cart_records(cart, previous, delivery))
        if topic in shopify.PRODUCT_TOPICS:
            product, records = shopify.product_records(payload)
            return await _products(rt, answer, product, records)
        if topic == shopify.DELETE:
            return await _products(rt, answer, shopify.deleted_product(payload), [])
        user = shopify.customer_of(payload)
        if topic == shopify.REDACT:
            return await _publish(rt, answer, [shopify.forget_record(user, delivery, now)])
        answer.export = await rt.redis(rt.store.privacy.export(user))
        return answer
    except Malformed as exc:
        raise HTTPException(400, f"body: {exc.reason}") from None


@router.post(
    "/v1/connect/woocommerce",
    response_model=ConnectAnswer,
    responses=RESPONSES,
    openapi_extra={"requestBody": WEBHOOK_BODY},
    summary="WooCommerce webhooks (order.created, product.created, product.updated)",
)
async def connect_woocommerce(
    body: WooBody,
    rt: Runtime,
    topic: Annotated[
        str | None, Header(alias="X-WC-Webhook-Topic", description="e.g. order.created")
    ] = None,
) -> ConnectAnswer:
    if PING.match(body.strip()):
        return ConnectAnswer(
            platform="woocommerce", topic="ping", accepted=0, event_ids=[], note="ping"
        )
    if topic is None or topic not in woocommerce.TOPICS:
        raise HTTPException(400, f"X-WC-Webhook-Topic: {str(topic)[:60]!r} is not one xsell takes")
    payload = _json(body)
    answer = ConnectAnswer(platform="woocommerce", topic=topic, accepted=0, event_ids=[])
    try:
        if topic == woocommerce.ORDER:
            return await _publish(rt, answer, woocommerce.order_records(payload, time.time()))
        return await _publish(rt, answer, woocommerce.product_records(payload))
    except Malformed as exc:
        raise HTTPException(400, f"body: {exc.reason}") from None


async def _products(
    rt: ApiRuntime, answer: ConnectAnswer, product: str, records: list[Record]
) -> ConnectAnswer:
    """A product's records, and those of its items it no longer has (a variant removed, the
    product deleted) taken out of suggestions; then the product's items remembered."""
    before = await rt.redis(rt.store.connect.product_items("shopify", product))
    if not before and not records:  # a deletion of a product xsell never saw: its id
        before = [product]
    now = {str(r["item_id"]) for r in records}
    gone = [item for item in before if item not in now]
    answer = await _publish(rt, answer, records + shopify.retired_records(gone))
    await rt.redis(rt.store.connect.set_product_items("shopify", product, sorted(now)))
    return answer


async def _publish(rt: ApiRuntime, answer: ConnectAnswer, records: list[Record]) -> ConnectAnswer:
    """Each record through the worker's parser, then all to their topics (Kafka's ack)."""
    accepted: list[tuple[str, str | None, bytes]] = []
    for record in records:
        topic, key_field = route_of(record)
        try:
            event = parse_record(topic, raw := encode_event(record), rt.settings.limits)
        except InvalidEvent as exc:
            what = record.get("item_id") or record.get("order_id") or record["type"]
            raise HTTPException(400, f"body: {record['type']} {what!s:.60}: {exc.reason}") from None
        key = getattr(event, key_field, None)
        accepted.append((topic, None if key is None else str(key), raw))
        answer.event_ids.append(str(record.get("event_id") or record.get("item_id")))
    if not accepted:
        answer.note = "nothing for xsell in this webhook (no line with a product, no change)"
        return answer
    await send_events(rt, accepted)
    answer.accepted = len(accepted)
    log.debug("%s %s: %d record(s) sent", answer.platform, answer.topic, len(accepted))
    return answer


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise HTTPException(400, "body: not JSON") from None
