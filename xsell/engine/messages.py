"""The suggestion message of the contract (docs/contract.md), built from ranked offers."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from xsell.models.ranking import Offer
from xsell.models.segments import Segment
from xsell.store import Stream


def suggestion_id(stream: Stream, event_id: str) -> str:
    """Derived from the trigger, so a redelivered event yields the same id."""
    return "sug-" + hashlib.sha256(f"{stream}\x00{event_id}".encode()).hexdigest()[:32]


def offer_json(offer: Offer) -> dict[str, Any]:
    """An offer as the JSON of the contract (rounded: scores order offers, nothing more)."""
    because = None
    if offer.because is not None:
        b = offer.because
        because = {
            "item_id": b.item_id,
            "together": round(b.together, 6),
            "confidence": round(b.confidence, 6),
        }
        if b.category is not None:  # "often bought with <category>"
            because["category"] = b.category
        if b.rule_id is not None:  # a merchant rule placed it (docs/rules.md)
            because["rule_id"] = b.rule_id
        if b.free_shipping_gap is not None:  # a gap filler: what the cart lacks
            because["free_shipping_gap"] = b.free_shipping_gap
        if b.followed_by is not None:  # "share of buyers of item bought it within days"
            f = b.followed_by
            because["followed_by"] = {
                "item": f.item_id,
                "share": round(f.share, 6),
                "days": f.days,
            }
        if b.co_viewed is not None:  # co-views brought it (models/coview.py)
            because["co_viewed"] = round(b.co_viewed, 6)
        if b.rebuy is not None:  # "you buy this about every 3 weeks" (models/rebuy.py)
            because["rebuy"] = {"every_days": b.rebuy.every_days, "last_days": b.rebuy.last_days}
    return {
        "item_id": offer.item_id,
        "score": round(offer.score, 6),
        "kind": offer.kind,
        "because": because,
    }


def now_text() -> str:
    """The current time as RFC 3339 UTC (``created_at`` of a message)."""
    return datetime.fromtimestamp(time.time(), UTC).isoformat().replace("+00:00", "Z")


def suggestion_message(
    sid: str,
    user_id: str | None,
    placement: str,
    trigger: dict[str, Any],
    offers: Sequence[Offer],
    created_at: str,
    variant: str,
    rules_version: int = 0,
    segment: Segment | None = None,
) -> dict[str, Any]:
    """A suggestion message of the contract (docs/contract.md), for the topic or the API.
    ``segment``: the user's (models/segments.py); null without a user or where not read."""
    return {
        "suggestion_id": sid,
        "user_id": user_id,
        "placement": placement,
        "trigger": trigger,
        "items": [offer_json(o) for o in offers],
        "created_at": created_at,
        "variant": variant,
        "rules_version": rules_version,
        "segment": None if segment is None else segment.as_json(),
    }
