"""The API's own bodies (docs/contract.md, "HTTP API"), declared once as pydantic models: the
ranking routes' answer, the recommendation request, the events answer and the error. xsell/api
uses them as its request bodies and response models (its /openapi.json), and
docs/schemas/ is generated from them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from xsell.models.messages.outputs import (
    MESSAGE_NOTE,
    ItemIds,
    Offers,
    Placement,
    SegmentOut,
    Text,
    Variant,
    rules_version_field,
    segment_field,
    utc_time,
)


class OffersTrigger(BaseModel):
    type: Literal["product_view", "request", "history"]
    event_id: None
    item_ids: ItemIds = Field(
        description="product_view: the viewed item; request: the given cart, in the order it "
        "was sent; history (placement support): the user's purchases the offers complement, "
        "most recent first."
    )


class OffersAnswer(BaseModel):
    model_config = ConfigDict(
        title="Offers",
        json_schema_extra={
            "description": "The answer of the API's ranking routes (GET "
            "/v1/items/{item_id}/complements, POST /v1/recommendations, GET "
            "/v1/users/{user_id}/recommendations): the shape of a "
            "suggestion message, ranked on request by the worker's own ranking and rules "
            "without changing any state. suggestion_id is new for every answer (like a "
            "recommId); trigger.event_id is null. " + MESSAGE_NOTE,
            "if": {"properties": {"trigger": {"properties": {"type": {"const": "product_view"}}}}},
            "then": {
                "properties": {
                    "placement": {"const": "product_page"},
                    "trigger": {"properties": {"item_ids": {"maxItems": 1}}},
                }
            },
        },
    )

    suggestion_id: str = Field(pattern=r"^sug-[0-9a-f]{32}$")
    user_id: Text | None = Field(
        description="The user named by the request (their cart and purchases are excluded), "
        "else null."
    )
    placement: Placement = Field(
        description="product_page for complements; for recommendations the request's placement "
        "(default cart)."
    )
    trigger: OffersTrigger
    items: Offers
    created_at: str = utc_time("When the API ranked it: RFC 3339, UTC.")
    variant: Variant = Field(
        description="The requesting user's experiment variant (the first variant without a "
        "user_id); control: no items."
    )
    rules_version: int = rules_version_field()
    segment: SegmentOut | None = segment_field()


_REQUEST_ID = [{"type": "string", "minLength": 1, "maxLength": 128}, {"type": "integer"}]
RequestId = Annotated[str | int, WithJsonSchema({"anyOf": _REQUEST_ID})]


class RecommendationRequest(BaseModel):
    model_config = ConfigDict(
        title="Recommendation request",
        extra="forbid",
        json_schema_extra={
            "description": "The body of POST /v1/recommendations: rank for a given cart without "
            "changing state (a checkout page, a support console). Ids follow the input contract "
            "(docs/contract.md)."
        },
    )

    items: list[RequestId] = Field(
        min_length=1,
        max_length=1000,
        description="The cart, in the order its items were added (the last is the most recent).",
    )
    user_id: Annotated[
        str | int | None, WithJsonSchema({"anyOf": [*_REQUEST_ID, {"type": "null"}]})
    ] = Field(
        None,
        description="Whose stored cart and purchases are excluded too (except purchases due "
        "again: kind rebuy, XSELL_MAX_REBUYS); with a public key it needs that user's token.",
    )
    placement: Placement = Field("cart", description="Echoed in the answer; default cart.")
    k: int | None = Field(
        None,
        ge=1,
        le=50,
        description="How many offers, at most XSELL_MAX_SUGGESTIONS (its default).",
    )
    segment: Annotated[
        str | int | None, WithJsonSchema({"anyOf": [*_REQUEST_ID, {"type": "null"}]})
    ] = Field(
        None,
        description="The shopper's segment, which merchant rules may name (docs/rules.md); "
        "without one, a rule naming segments does not apply.",
    )


class RejectedEvent(BaseModel):
    index: int = Field(ge=0)
    error: Text


class EventsAnswer(BaseModel):
    model_config = ConfigDict(
        title="Events answer",
        json_schema_extra={
            "description": "The answer of POST /v1/events: 202 when at least one event was "
            "accepted (Kafka acknowledged every accepted event), 400 (with error) when none was. "
            "rejected lists each invalid event by its index in the body (0 for a single object) "
            "with the worker parser's reason."
        },
    )

    accepted: int = Field(ge=0)
    rejected: list[RejectedEvent]
    # absent but on a 400 (never null)
    error: Annotated[str | None, WithJsonSchema({"type": "string", "minLength": 1})] = Field(
        None, description="Only on a 400: why nothing was accepted."
    )
    detail: Annotated[str | None, WithJsonSchema({"type": "string", "minLength": 1})] = Field(
        None, description="Only on a 400: the same reason as error."
    )


class ErrorAnswer(BaseModel):
    model_config = ConfigDict(
        title="Error",
        json_schema_extra={
            "description": "Every 4xx and 503 of the API, on every route (the routing's 404 "
            "and 405 included): one reason, for people, in two fields. error is xsell's; detail "
            "carries the same text for clients written against FastAPI's default body. The "
            "status says what kind (400 bad input, 401 no or unknown key, 403 not allowed, 404 "
            "nothing there, 405 method not allowed, 413 body too large, 503 Redis or Kafka away)."
        },
    )

    error: Text
    detail: Text = Field(description="The same reason as error.")
