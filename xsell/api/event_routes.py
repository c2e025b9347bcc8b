"""``POST /v1/events``: events without a Kafka client. Each event is checked by the worker's own
parser (models/validate.py) and sent to its topic, keyed as the contract says; the answer
comes once Kafka has acknowledged every accepted event, so a 202 means it will be applied.

One object or an array of them. Invalid ones are listed with their index and reason and the
valid ones still go (nothing valid is lost in a mixed batch); 400 when the body is not JSON
or nothing is valid; 413 over ``XSELL_MAX_PAYLOAD_BYTES`` (xsell/api/metrics.py). A public key
may post cart, view and feedback events only (and purchases with ``XSELL_API_PUBLIC_PURCHASES``, a
page's GA4 ``purchase``), each for the user its token is for, at most
``XSELL_API_PUBLIC_MAX_EVENTS`` in one request (413) and ``XSELL_API_PUBLIC_EVENTS_PER_SECOND``
a second (429, xsell/api/guard.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from xsell.api.auth import Level
from xsell.api.deps import Caller, Runtime
from xsell.api.errors import (
    FORBIDDEN,
    NO_KEY,
    TOO_LARGE,
    TOO_MANY,
    UNAVAILABLE,
    error_body,
)
from xsell.api.metrics import KAFKA_ERRORS
from xsell.api.openapi import EVENTS_BODY
from xsell.api.runtime import ApiRuntime
from xsell.api.schemas import EventsAccepted, NoEventAccepted
from xsell.models.errors import InvalidEvent
from xsell.models.validate import parse_record

log = logging.getLogger(__name__)
router = APIRouter()

# event type -> (logical topic, the field that keys it)
ROUTES = {
    "add_to_cart": ("cart-events", "user_id"),
    "remove_from_cart": ("cart-events", "user_id"),
    "view": ("cart-events", "user_id"),
    "purchase": ("orders", "user_id"),
    "forget_user": ("orders", "user_id"),
    "item": ("catalog", "item_id"),
    "impression": ("feedback", "user_id"),
    "click": ("feedback", "user_id"),
    "dismiss": ("feedback", "user_id"),
}
# what a page may send with a public key (and its user's token): its cart, its item views and
# its feedback, and its purchases when XSELL_API_PUBLIC_PURCHASES is on
PUBLIC_TYPES = frozenset(
    {"add_to_cart", "remove_from_cart", "view", "impression", "click", "dismiss"}
)
PUBLIC_PURCHASE_TYPES = PUBLIC_TYPES | {"purchase"}


def public_refusal(kind: str, purchases: bool) -> str | None:
    """Why a public key may not post an event of type ``kind`` (None: it may)."""
    if kind in (PUBLIC_PURCHASE_TYPES if purchases else PUBLIC_TYPES):
        return None
    if kind == "purchase":
        return (
            "a public key may post cart and feedback events only: purchases need a secret "
            "key, or XSELL_API_PUBLIC_PURCHASES=true"
        )
    return "a public key may post cart and feedback events only"


def route_of(obj: Any) -> tuple[str, str]:
    """(topic, key field) of one event object; InvalidEvent when it has no known type."""
    if not isinstance(obj, dict):
        raise InvalidEvent(f"expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in ROUTES:
        raise InvalidEvent(f"type: expected one of {sorted(ROUTES)}, got {str(kind)[:40]!r}")
    return ROUTES[kind]


@router.post(
    "/v1/events",
    status_code=202,
    response_model=EventsAccepted,
    responses={
        400: {"model": NoEventAccepted, "description": "Not JSON, empty, or no valid event"},
        **NO_KEY,
        **FORBIDDEN,
        **TOO_LARGE,
        **TOO_MANY,
        **UNAVAILABLE,
    },
    # the body is read raw: each event is checked by the worker's own parser, so that the
    # valid events of a mixed batch still go; the schema is declared for the description
    openapi_extra={"requestBody": EVENTS_BODY},
    summary="Send events (cart, view, purchase, catalogue, feedback, forget_user) to their topics",
)
async def post_events(request: Request, rt: Runtime, access: Caller) -> Response:
    body = await request.body()
    try:
        parsed = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError, InvalidEvent):
        raise HTTPException(400, "body: not JSON") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise HTTPException(400, "body: an empty array")
    if access.level is Level.PUBLIC:
        rt.guard.check_count(len(items))
    accepted: list[tuple[str, str | None, bytes]] = []
    rejected: list[dict[str, Any]] = []
    for index, obj in enumerate(items):
        try:
            topic, key_field = route_of(obj)
            event = parse_record(topic, raw := encode_event(obj), rt.settings.limits)
        except InvalidEvent as exc:
            rejected.append({"index": index, "error": exc.reason})
            continue
        key = getattr(event, key_field, None)
        if access.level is Level.PUBLIC:
            refusal = public_refusal(obj["type"], rt.settings.api.public_purchases)
            if refusal is not None:
                raise HTTPException(403, f"events[{index}]: {refusal}")
            if key is None:  # a purchase without a user: no token can be for it
                raise HTTPException(403, f"events[{index}]: user_id: needed with a public key")
            rt.auth.require_user(access, str(key))
        accepted.append((topic, key, raw))
    if not accepted:
        body_out = {**error_body("no valid event"), "accepted": 0, "rejected": rejected}
        return Response(json.dumps(body_out), status_code=400, media_type="application/json")
    if access.level is Level.PUBLIC and access.key_id is not None:
        await rt.guard.count_events(access.key_id, len(accepted))
    await send_events(rt, accepted)
    out = {"accepted": len(accepted), "rejected": rejected}
    return Response(json.dumps(out), status_code=202, media_type="application/json")


async def send_events(rt: ApiRuntime, accepted: list[tuple[str, str | None, bytes]]) -> None:
    """Send and wait for Kafka's acknowledgement of all; 503 when Kafka does not take them
    (nothing acknowledged means the client sends again: event ids make that safe)."""
    try:
        futures = [
            await rt.producer.send(
                rt.settings.topic(topic), value=raw, key=None if key is None else key.encode()
            )
            for topic, key, raw in accepted
        ]
        # no longer than the request's own deadline (its 503 would come first anyway)
        await asyncio.wait_for(asyncio.gather(*futures), rt.settings.api.write_deadline_seconds)
    except Exception as exc:
        KAFKA_ERRORS.inc()
        log.warning("sending %d event(s) failed: %r", len(accepted), exc)
        raise HTTPException(
            503,
            f"Kafka unavailable: {type(exc).__name__}; send again (event ids make a retry safe)",
        ) from None


def encode_event(obj: dict[str, Any]) -> bytes:
    """The record value as the worker will read it: compact UTF-8 JSON. Text that UTF-8
    cannot hold (a lone surrogate, from a ``\\ud800`` escape) stays escaped, so the parser
    refuses it with its own reason instead of the encoder failing."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(",", ":")).encode()


def _reject_constant(name: str) -> Any:
    raise InvalidEvent(f"{name} is not JSON")
