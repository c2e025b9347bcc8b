"""Routes that offer items: the latest suggestion, its live stream, product-page complements
and recommendations for a given cart. Each offers what the worker would: the same ranking
path (xsell/api/batcher.py -> Engine.rank) and rules, at most XSELL_MAX_SUGGESTIONS items."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Query, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from xsell.api.batcher import RankQuery
from xsell.api.deps import (
    Caller,
    PathUser,
    QueryUser,
    Runtime,
    SecretCaller,
    StreamUser,
    acting_user,
    checked_id,
    checked_k,
)
from xsell.api.errors import (
    BAD_INPUT,
    FORBIDDEN,
    NO_KEY,
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    Responses,
)
from xsell.api.metrics import OPEN_STREAMS
from xsell.api.runtime import ApiRuntime
from xsell.api.schemas import OffersOut, RecommendationRequest, SuggestionOut
from xsell.engine import now_text, suggestion_message
from xsell.models.ranking import Offer
from xsell.models.segments import Segment
from xsell.ops.support import support_view

router = APIRouter()
# the product page's shared query parameters (one declaration, so the OpenAPI says the same)
QueryK = Annotated[int | None, Query(description="At most XSELL_MAX_SUGGESTIONS.")]
QuerySegment = Annotated[
    str | None,
    Query(description="The shopper's segment, which merchant rules may name (docs/rules.md)."),
]
ERRORS: Responses = {**BAD_INPUT, **NO_KEY, **FORBIDDEN, **UNAVAILABLE}
CART_PLACEMENTS = ("cart", "checkout")  # where the free-shipping gap filler may apply


def request_id() -> str:
    """A fresh suggestion id for an API answer (as Recombee's recommId: one per answer)."""
    return "sug-" + uuid.uuid4().hex


@router.get(
    "/v1/users/{user_id}/suggestions",
    response_model=SuggestionOut,
    responses={**ERRORS, **NOT_FOUND},
    summary="The latest suggestion published for a user, exactly as it went to the topic",
)
async def latest(
    rt: Runtime,
    user: PathUser,
    placement: Annotated[
        Literal["cart", "post_purchase"] | None, Query(description="Only this placement's.")
    ] = None,
) -> Response:
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
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        **ERRORS,
    },
)
async def stream(
    rt: Runtime,
    user: StreamUser,
    last_seen: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
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
    response_model=OffersOut,
    responses=ERRORS,
    summary="Product page: what completes the set of an item",
)
async def complements(
    rt: Runtime,
    access: Caller,
    item_id: Annotated[str, Path(description="An id (1..128 printable characters).")],
    user: QueryUser,
    k: QueryK = None,
    segment: QuerySegment = None,
) -> Response:
    return await _product_page(rt, item_id, user, k, segment, followed_only=False)


@router.get(
    "/v1/items/{item_id}/followed-by",
    response_model=OffersOut,
    responses=ERRORS,
    summary="Product page: what customers bought next, within the followed-by window",
)
async def followed_by(
    rt: Runtime,
    access: Caller,
    item_id: Annotated[str, Path(description="An id (1..128 printable characters).")],
    user: QueryUser,
    k: QueryK = None,
    segment: QuerySegment = None,
) -> Response:
    return await _product_page(rt, item_id, user, k, segment, followed_only=True)


async def _product_page(
    rt: ApiRuntime,
    item_id: str,
    user: str | None,
    k: int | None,
    segment: str | None,
    *,
    followed_only: bool,
) -> Response:
    """A product page's offers: complements, or (``followed_only``) what buyers of the item
    bought next (xsell/models/post_purchase.py)."""
    item = checked_id(item_id, "item_id", rt)
    seg = None if segment is None else checked_id(segment, "segment", rt)
    variant = rt.variant(user)
    query = RankQuery(
        (item,),
        frozenset({item}),
        user,
        checked_k(k, rt),
        variant,
        "product_page",
        seg,
        followed_only=followed_only,
    )
    ranked = await rt.rank(query)
    trigger = {"type": "product_view", "event_id": None, "item_ids": [item]}
    return _offers_answer(rt, user, "product_page", trigger, ranked.offers, variant, ranked.segment)


@router.post(
    "/v1/recommendations",
    response_model=OffersOut,
    responses={**ERRORS, **TOO_LARGE},
    summary="Rank for a given cart without changing state (checkout, support console)",
)
async def recommendations(rt: Runtime, access: Caller, body: RecommendationRequest) -> Response:
    items = list(dict.fromkeys(checked_id(i, f"items[{n}]", rt) for n, i in enumerate(body.items)))
    user = None if body.user_id is None else acting_user(body.user_id, access, rt)
    anchors = tuple(reversed(items))
    variant = rt.variant(user)
    segment = None if body.segment is None else checked_id(body.segment, "segment", rt)
    k = checked_k(body.k, rt)
    cart = body.placement in CART_PLACEMENTS
    query = RankQuery(
        anchors, frozenset(items), user, k, variant, body.placement, segment, fills_gap=cart
    )
    ranked = await rt.rank(query)
    trigger = {"type": "request", "event_id": None, "item_ids": items}
    return _offers_answer(rt, user, body.placement, trigger, ranked.offers, variant, ranked.segment)


@router.get(
    "/v1/users/{user_id}/recommendations",
    response_model=OffersOut,
    responses={**ERRORS, **NOT_FOUND},
    summary="Support console: what to offer a customer from their purchases (secret key)",
)
async def user_recommendations(
    rt: Runtime,
    _: SecretCaller,
    user: PathUser,
    placement: Annotated[
        Literal["support"],
        Query(
            description="support: complements of what the user owns, each explained by the "
            "owned item it goes with (because.item_id); never an owned item."
        ),
    ],
    k: QueryK = None,
) -> Response:
    variant = rt.variant(user)
    view = await rt.redis(support_view(rt.engine, user, checked_k(k, rt), variant))
    if not view.anchors:
        raise HTTPException(404, "no purchase history for this user")
    trigger = {"type": "history", "event_id": None, "item_ids": view.anchors}
    return _offers_answer(rt, user, placement, trigger, view.offers, variant, view.segment)


def _offers_answer(
    rt: ApiRuntime,
    user: str | None,
    placement: str,
    trigger: dict[str, Any],
    offers: Sequence[Offer],
    variant: str,
    segment: Segment | None,
) -> Response:
    """An offers answer (the suggestion message's shape), one for every ranking route."""
    message = suggestion_message(
        request_id(),
        user,
        placement,
        trigger,
        offers,
        now_text(),
        variant,
        rt.engine.steering.version,
        segment,
    )
    return Response(json.dumps(message), media_type="application/json")
