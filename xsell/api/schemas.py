"""The API's request and response bodies, as pydantic models: they are what /openapi.json
describes. The contract's bodies (suggestion, offers, events answer, error) are the message
models of xsell.models.messages, declared once (docs/schemas/ is generated from them); the
recommendation request is the API's own, stricter than JSON for types (no boolean ids).

Responses are declared with ``response_model`` but sent as built (the suggestion messages come
from the engine, or from Redis exactly as they went to the topic; FastAPI does not validate a
``Response`` a handler returns), so no time goes into validating what xsell itself made; the
Schemathesis system test (tests/system/test_openapi_schemathesis.py) checks that every answer
matches these models. Request bodies are strict: JSON ``false`` is not the id ``0``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr

from xsell.models.messages.api import ErrorAnswer, EventsAnswer, OffersAnswer, RejectedEvent
from xsell.models.messages.outputs import SuggestionMessage

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


class RecommendationRequest(BaseModel):
    """Rank for a given cart without changing any state (checkout page, support console)."""

    model_config = ConfigDict(extra="forbid")

    items: list[Id] = Field(
        min_length=1, max_length=1000, description="The cart, in the order items were added."
    )
    user_id: Id | None = Field(None, description="Whose stored cart and purchases are excluded.")
    placement: Placement = "cart"
    k: JsonInt | None = Field(None, ge=1, description="At most XSELL_MAX_SUGGESTIONS.")
    segment: Id | None = Field(
        None, description="The shopper's segment, which merchant rules may name (docs/rules.md)."
    )


# The bodies of the contract are declared once, in xsell.models.messages (docs/schemas/ is
# generated from them); the API answers with those. What follows is the API's own.
SuggestionOut = SuggestionMessage
OffersOut = OffersAnswer
ErrorOut = ErrorAnswer
EventsAccepted = EventsAnswer


class NoEventAccepted(ErrorAnswer):
    """400 of POST /v1/events when nothing in the body was valid."""

    accepted: Literal[0] = 0
    rejected: list[RejectedEvent] = Field(
        default_factory=list, description="Each invalid event; absent when the body is no JSON."
    )


class NotReady(ErrorAnswer):
    """503 of /readyz: which dependency does not answer."""

    redis: Literal["down"] | None = None
    kafka: Literal["down"] | None = None


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    redis: Literal["ok"]
    kafka: Literal["ok"]


class ConnectAnswer(BaseModel):
    """What a connector made of a platform's webhook (docs/integrations.md)."""

    platform: Literal["shopify", "woocommerce"]
    topic: str = Field(description="The platform's topic (X-Shopify-Topic, X-WC-Webhook-Topic).")
    accepted: int = Field(ge=0, description="Records sent to xsell's topics (Kafka acknowledged).")
    event_ids: list[str] = Field(
        description="Their event ids (catalogue records: their item ids); the same webhook "
        "delivered again gives the same ones."
    )
    note: str | None = Field(default=None, description="Why nothing was sent, when nothing was.")
    export: dict[str, Any] | None = Field(
        default=None, description="customers/data_request: what xsell holds about the customer."
    )
