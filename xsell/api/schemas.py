"""The API's request and response bodies, as pydantic models: they are what /openapi.json
describes, and they follow docs/schemas/*.json (the contract) field for field.

Responses are declared with ``response_model`` but sent as built (the suggestion messages come
from the engine, or from Redis exactly as they went to the topic; FastAPI does not validate a
``Response`` a handler returns), so no time goes into validating what xsell itself made; the
Schemathesis system test (tests/system/test_openapi_schemathesis.py) checks that every answer
matches these models. Request bodies are strict: JSON ``false`` is not the id ``0``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

Placement = Literal[
    "cart", "checkout", "post_purchase", "product_page", "cart_abandoned", "support"
]


def _json_integer(value: object) -> object:
    """JSON Schema's integer: 2.0 is one (and stays 2); a boolean is not, nor is "2"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# strict, so a boolean is refused instead of becoming 0 or 1, and text is not a number
JsonInt = Annotated[StrictInt, BeforeValidator(_json_integer)]
# the contract's id (models/validate.py parse_id): 1..XSELL_MAX_ID_LENGTH printable characters
# or an integer
Id = StrictStr | JsonInt


class Because(BaseModel):
    item_id: str = Field(description="The anchor item that contributed most.")
    together: float = Field(ge=0, description="Decayed co-purchase weight (~ orders with both).")
    confidence: float = Field(ge=0, description="together / the anchor's decayed order count.")


class OfferOut(BaseModel):
    item_id: str
    score: float = Field(ge=0, description="Comparable within one message only.")
    kind: Literal["cross_sell", "upsell", "popular"]
    because: Because | None = Field(description="Why; null for kind popular.")


class _Message(BaseModel):
    """What a suggestion message and an offers answer share (xsell/engine.py
    ``suggestion_message``). Consumers must ignore properties they do not know."""

    suggestion_id: str = Field(pattern=r"^sug-[0-9a-f]{32}$")
    user_id: str | None
    items: list[OfferOut] = Field(max_length=50, description="Best first; may be empty.")
    created_at: str = Field(description="RFC 3339, UTC.")
    variant: str = Field(
        min_length=1,
        max_length=64,
        description="The user's experiment variant: default without an experiment; "
        "control (the holdout) always with no items.",
    )


class TopicTrigger(BaseModel):
    type: Literal["add_to_cart", "purchase"]
    event_id: str = Field(min_length=1, description="The triggering event.")
    item_ids: list[str] = Field(min_length=1, max_length=1000)


class SuggestionOut(_Message):
    """A message of the suggestions topic (docs/schemas/suggestion.schema.json)."""

    placement: Literal["cart", "post_purchase"]
    trigger: TopicTrigger


class RequestTrigger(BaseModel):
    type: Literal["product_view", "request"]
    event_id: None = Field(description="Always null: an API request is no event.")
    item_ids: list[str] = Field(min_length=1, max_length=1000)


class OffersOut(_Message):
    """An answer of the ranking routes (docs/schemas/offers.schema.json): new suggestion_id
    per answer, trigger.event_id null."""

    placement: Placement
    trigger: RequestTrigger


class RecommendationRequest(BaseModel):
    """Rank for a given cart without changing any state (checkout page, support console)."""

    model_config = ConfigDict(extra="forbid")

    items: list[Id] = Field(
        min_length=1, max_length=1000, description="The cart, in the order items were added."
    )
    user_id: Id | None = Field(None, description="Whose stored cart and purchases are excluded.")
    placement: Placement = "cart"
    k: JsonInt | None = Field(None, ge=1, description="At most XSELL_MAX_SUGGESTIONS.")


class Rejected(BaseModel):
    index: int = Field(ge=0)
    error: str = Field(min_length=1)


class EventsAccepted(BaseModel):
    """202 of POST /v1/events (docs/schemas/events-answer.schema.json)."""

    accepted: int = Field(ge=0, description="Events Kafka has acknowledged.")
    rejected: list[Rejected]


class ErrorOut(BaseModel):
    """Every 4xx and 503 (docs/schemas/error.schema.json). ``error`` is xsell's field;
    ``detail`` carries the same reason for clients written against FastAPI's default body
    (which the routing's 404 and 405 used to send alone)."""

    error: str = Field(min_length=1)
    detail: str = Field(min_length=1, description="The same reason as error.")


class NoEventAccepted(ErrorOut):
    """400 of POST /v1/events when nothing in the body was valid."""

    accepted: Literal[0] = 0
    rejected: list[Rejected] = Field(
        default_factory=list, description="Each invalid event; absent when the body is no JSON."
    )


class NotReady(ErrorOut):
    """503 of /readyz: which dependency does not answer."""

    redis: Literal["down"] | None = None
    kafka: Literal["down"] | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    redis: Literal["ok"]
    kafka: Literal["ok"]
