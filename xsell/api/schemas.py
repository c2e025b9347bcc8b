"""The API's request and response bodies, as pydantic models: they are what /openapi.json
describes. Responses are documented with them but sent as built (the suggestion messages come
from the engine, or from Redis exactly as they went to the topic), so no time goes into
validating what xsell itself made."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Placement = Literal[
    "cart", "checkout", "post_purchase", "product_page", "cart_abandoned", "support"
]


class Because(BaseModel):
    item_id: str = Field(description="The anchor item that contributed most.")
    together: float = Field(description="Decayed co-purchase weight (~ orders holding both).")
    confidence: float = Field(description="together / the anchor's decayed order count.")


class OfferOut(BaseModel):
    item_id: str
    score: float
    kind: Literal["cross_sell", "upsell", "popular"]
    because: Because | None


class TriggerOut(BaseModel):
    type: Literal["add_to_cart", "purchase", "product_view", "request"]
    event_id: str | None = Field(description="The triggering event; null for API requests.")
    item_ids: list[str]


class SuggestionOut(BaseModel):
    """The shape of a suggestion message (docs/schemas/suggestion.schema.json)."""

    suggestion_id: str
    user_id: str | None
    placement: str
    trigger: TriggerOut
    items: list[OfferOut]
    created_at: str


class RecommendationRequest(BaseModel):
    """Rank for a given cart without changing any state (checkout page, support console)."""

    model_config = {"extra": "forbid"}

    items: list[str | int] = Field(
        min_length=1, max_length=1000, description="The cart, in the order items were added."
    )
    user_id: str | int | None = Field(None, description="Whose purchases are excluded.")
    placement: Placement = "cart"
    k: int | None = Field(None, ge=1, description="At most XSELL_MAX_SUGGESTIONS.")


class Rejected(BaseModel):
    index: int
    error: str


class EventsAccepted(BaseModel):
    accepted: int = Field(description="Events Kafka has acknowledged.")
    rejected: list[Rejected]


class ErrorOut(BaseModel):
    error: str
