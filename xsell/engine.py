"""The processing step shared by the worker, backfill and evaluation:
events -> store (exactly-once effects) -> ranker -> suggestion messages.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings
from models.events import CartEvent, Event, PurchaseEvent
from models.ranking import Offer, RankParams, RankRequest, rank
from models.rules import RuleParams
from xsell.store.apply import Effect, Store
from xsell.store.keys import Stream
from xsell.store.reader import build_inputs

log = logging.getLogger(__name__)


def rank_params(settings: Settings) -> RankParams:
    """Ranking parameters from the settings."""
    return RankParams(
        k=settings.max_suggestions,
        similarity=settings.similarity,
        min_support=settings.min_support,
        recency_decay=settings.recency_decay,
        popular_fallback=settings.popular_fallback,
        rules=RuleParams(
            exclude_upsell=settings.exclude_upsell,
            addon_price_ratio=settings.addon_price_ratio,
            exclude_purchased=settings.exclude_purchased,
            consumable_categories=frozenset(settings.consumable_categories),
            repurchase_window_seconds=settings.repurchase_window_days * 86400.0,
        ),
    )


def suggestion_id(stream: Stream, event_id: str) -> str:
    """Derived from the trigger, so a redelivered event yields the same id."""
    return "sug-" + hashlib.sha256(f"{stream}\x00{event_id}".encode()).hexdigest()[:32]


def _request(effect: Effect) -> tuple[RankRequest, dict[str, Any]] | None:
    """The ranking request and trigger of an event that gets a suggestion, else None."""
    event = effect.event
    if isinstance(event, CartEvent) and event.type == "add_to_cart":
        anchors = [event.item_id, *effect.cart]
        trigger: dict[str, Any] = {
            "type": event.type,
            "event_id": event.event_id,
            "item_ids": [event.item_id],
        }
        meta: dict[str, Any] = {
            "placement": "cart",
            "user_id": event.user_id,
            "stream": Stream.CART,
        }
        return RankRequest(anchors, frozenset(anchors), event.ts, event.user_id), {
            "trigger": trigger,
            **meta,
        }
    if isinstance(event, PurchaseEvent):
        items = event.distinct_items()
        trigger = {"type": "purchase", "event_id": event.event_id, "item_ids": items}
        meta = {"placement": "post_purchase", "user_id": event.user_id, "stream": Stream.ORDERS}
        return RankRequest(items[::-1], frozenset(items), event.ts, event.user_id), {
            "trigger": trigger,
            **meta,
        }
    return None


def offer_json(offer: Offer) -> dict[str, Any]:
    because = None
    if offer.because is not None:
        b = offer.because
        because = {
            "item_id": b.item_id,
            "together": round(b.together, 6),
            "confidence": round(b.confidence, 6),
        }
    return {
        "item_id": offer.item_id,
        "score": round(offer.score, 6),
        "kind": offer.kind,
        "because": because,
    }


class Engine:
    """Applies events and ranks suggestions for them, a micro-batch at a time."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.params = rank_params(settings)

    async def process(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        """Apply ``events`` exactly once; return their suggestion messages, in event order."""
        effects = await self.store.apply(events)
        return await self.suggest(effects)

    async def suggest(self, effects: Sequence[Effect]) -> list[dict[str, Any]]:
        pending = [r for r in map(_request, effects) if r is not None]
        inputs = await build_inputs(self.store, [req for req, _ in pending], self.params)
        created = datetime.fromtimestamp(time.time(), UTC).isoformat().replace("+00:00", "Z")
        messages = []
        for (_, meta), inp in zip(pending, inputs, strict=True):
            offers = rank(inp, self.params)
            messages.append(
                {
                    "suggestion_id": suggestion_id(meta["stream"], meta["trigger"]["event_id"]),
                    "user_id": meta["user_id"],
                    "placement": meta["placement"],
                    "trigger": meta["trigger"],
                    "items": [offer_json(o) for o in offers],
                    "created_at": created,
                }
            )
        return messages
