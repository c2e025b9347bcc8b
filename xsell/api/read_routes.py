"""Routes that offer items: the latest suggestion, its live stream, product-page complements
and recommendations for a given cart. Each offers what the worker would: the same ranking
path (xsell/api/batcher.py -> Engine.rank) and rules, at most XSELL_MAX_SUGGESTIONS items."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from models.errors import InvalidEvent
from models.validate import parse_id
from xsell.api.batcher import RankQuery
from xsell.api.metrics import OPEN_STREAMS
from xsell.api.runtime import ApiRuntime, runtime
from xsell.api.schemas import ErrorOut, RecommendationRequest, SuggestionOut
from xsell.engine import now_text, suggestion_message

router = APIRouter()
OFFERS: dict[int | str, dict[str, Any]] = {
    200: {"model": SuggestionOut},
    400: {"model": ErrorOut},
    403: {"model": ErrorOut},
}


def checked_id(value: Any, name: str, rt: ApiRuntime) -> str:
    """An id of a path or query parameter, by the rules of the input contract; 400 if not."""
    try:
        return parse_id(value, name, rt.settings.limits)
    except InvalidEvent as exc:
        raise HTTPException(400, exc.reason) from None


def checked_k(k: int | None, rt: ApiRuntime) -> int:
    limit = rt.settings.ranking.max_suggestions
    if k is None:
        return limit
    if not 1 <= k <= limit:
        raise HTTPException(400, f"k: must be between 1 and {limit} (XSELL_MAX_SUGGESTIONS)")
    return k


def request_id() -> str:
    """A fresh suggestion id for an API answer (as Recombee's recommId: one per answer)."""
    return "sug-" + uuid.uuid4().hex


@router.get(
    "/v1/users/{user_id}/suggestions",
    responses={**OFFERS, 404: {"model": ErrorOut}},
    summary="The latest suggestion published for a user, exactly as it went to the topic",
)
async def latest(request: Request, user_id: str, placement: str | None = None) -> Response:
    rt = runtime(request)
    access = rt.auth.access(request)
    user = checked_id(user_id, "user_id", rt)
    rt.auth.require_user(access, user)
    if placement is not None and placement not in ("cart", "post_purchase"):
        raise HTTPException(400, "placement: expected 'cart' or 'post_purchase'")
    payload = await rt.redis(rt.store.latest.read(user, placement))
    if payload is None:
        raise HTTPException(
            404,
            "no suggestion for this user" + (f" and placement {placement}" if placement else ""),
        )
    return Response(payload, media_type="application/json")


@router.get(
    "/v1/users/{user_id}/suggestions/stream",
    summary="Server-sent events: each suggestion for the user as it is published",
    responses={200: {"content": {"text/event-stream": {}}}, 403: {"model": ErrorOut}},
)
async def stream(request: Request, user_id: str, token: str | None = None) -> Response:
    rt = runtime(request)
    access = rt.auth.access(request)
    user = checked_id(user_id, "user_id", rt)
    rt.auth.require_user(access, user)
    last_seen = request.headers.get("last-event-id")
    return EventSourceResponse(_events(rt, user, last_seen), ping=rt.settings.api.keepalive_seconds)


async def _events(rt: ApiRuntime, user: str, last_seen: str | None) -> AsyncIterator[Any]:
    with rt.hub.subscribe(user) as queue:
        OPEN_STREAMS.inc()
        try:
            payload = await rt.redis(rt.store.latest.read(user, None))
            if payload is not None:
                event = _event(payload.encode())
                if event is not None and event.id != last_seen:
                    yield event
            while True:
                value = await queue.get()
                if value is None:  # the user was forgotten: nothing more for this user
                    yield ServerSentEvent(data="{}", event="forget")
                    return
                event = _event(value)
                if event is not None:
                    yield event
        except asyncio.CancelledError:
            raise
        finally:
            OPEN_STREAMS.dec()


def _event(value: bytes) -> ServerSentEvent | None:
    try:
        sid = json.loads(value)["suggestion_id"]
    except (ValueError, KeyError, TypeError):
        return None
    return ServerSentEvent(data=value.decode(), event="suggestion", id=str(sid))


@router.get(
    "/v1/items/{item_id}/complements",
    responses=OFFERS,
    summary="Product page: what completes the set of an item",
)
async def complements(
    request: Request,
    item_id: str,
    k: int | None = Query(None, description="At most XSELL_MAX_SUGGESTIONS."),
    user_id: str | None = Query(None, description="Whose cart and purchases are excluded."),
) -> Response:
    rt = runtime(request)
    access = rt.auth.access(request)
    item = checked_id(item_id, "item_id", rt)
    user = None if user_id is None else checked_id(user_id, "user_id", rt)
    if user is not None:
        rt.auth.require_user(access, user)
    variant = rt.variant(user)
    offers = await rt.rank(RankQuery((item,), frozenset({item}), user, checked_k(k, rt), variant))
    trigger = {"type": "product_view", "event_id": None, "item_ids": [item]}
    message = suggestion_message(
        request_id(), user, "product_page", trigger, offers, now_text(), variant
    )
    return Response(json.dumps(message), media_type="application/json")


@router.post(
    "/v1/recommendations",
    responses=OFFERS,
    summary="Rank for a given cart without changing state (checkout, support console)",
)
async def recommendations(request: Request, body: RecommendationRequest) -> Response:
    rt = runtime(request)
    access = rt.auth.access(request)
    items = list(dict.fromkeys(checked_id(i, f"items[{n}]", rt) for n, i in enumerate(body.items)))
    user = None if body.user_id is None else checked_id(body.user_id, "user_id", rt)
    if user is not None:
        rt.auth.require_user(access, user)
    anchors = tuple(reversed(items))
    variant = rt.variant(user)
    query = RankQuery(anchors, frozenset(items), user, checked_k(body.k, rt), variant)
    offers = await rt.rank(query)
    trigger = {"type": "request", "event_id": None, "item_ids": items}
    message = suggestion_message(
        request_id(), user, body.placement, trigger, offers, now_text(), variant
    )
    return Response(json.dumps(message), media_type="application/json")
