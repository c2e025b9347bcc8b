"""The processing step shared by the worker, backfill and evaluation:
events -> store (exactly-once effects) -> ranker -> suggestion messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings
from models.events import CartEvent, CatalogItem, Event, PurchaseEvent
from models.ranking import Offer, RankParams, rank
from models.rules import RuleParams
from xsell.store.reader import RankRequest, build_inputs
from xsell.store.store import Effect, Store

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


def suggestion_id(stream: str, event_id: str) -> str:
    """Derived from the trigger, so a redelivered event yields the same id."""
    return "sug-" + hashlib.sha256(f"{stream}\x00{event_id}".encode()).hexdigest()[:32]


def _request(effect: Effect) -> tuple[RankRequest, dict[str, Any]] | None:
    """The ranking request and trigger of an event that gets a suggestion, else None."""
    event = effect.event
    if isinstance(event, CartEvent) and event.type == "add_to_cart":
        anchors = [event.item_id, *effect.cart]
        trigger: dict[str, Any] = {"type": event.type, "event_id": event.event_id,
                                   "item_ids": [event.item_id]}
        meta: dict[str, Any] = {"placement": "cart", "user_id": event.user_id, "stream": "c"}
        return RankRequest(anchors, frozenset(anchors), event.user_id, event.ts), {
            "trigger": trigger, **meta}
    if isinstance(event, PurchaseEvent):
        items = event.distinct_items()
        trigger = {"type": "purchase", "event_id": event.event_id, "item_ids": items}
        meta = {"placement": "post_purchase", "user_id": event.user_id, "stream": "o"}
        return RankRequest(items[::-1], frozenset(items), event.user_id, event.ts), {
            "trigger": trigger, **meta}
    return None


def offer_json(offer: Offer) -> dict[str, Any]:
    because = None
    if offer.because is not None:
        b = offer.because
        because = {"item_id": b.item_id, "together": round(b.together, 6),
                   "confidence": round(b.confidence, 6)}
    return {"item_id": offer.item_id, "score": round(offer.score, 6), "kind": offer.kind,
            "because": because}


def lane_key(event: Event) -> str:
    """What keeps events in order within a lane: the user (whose cart and history an event
    reads and writes), else the event itself (a guest's purchase, a catalogue entry)."""
    if isinstance(event, CatalogItem):
        return "k:" + event.item_id
    return "e:" + event.event_id if event.user_id is None else "u:" + event.user_id


def split_lanes(events: Sequence[Event], lanes: int) -> list[list[int]]:
    """Positions of ``events`` in at most ``lanes`` groups; a user's events share a group, in
    their order. Users go, in order of first appearance, to the group with the fewest events
    so far, so the groups are balanced and the split is deterministic. Why: the groups run
    concurrently, one's Python overlapping another's Redis work, as a user's events on
    different Kafka partitions could not."""
    by_key: dict[str, list[int]] = {}
    for i, event in enumerate(events):
        by_key.setdefault(lane_key(event), []).append(i)
    groups: list[list[int]] = [[] for _ in range(max(1, min(lanes, len(by_key))))]
    for positions in by_key.values():
        min(groups, key=len).extend(positions)
    return [sorted(g) for g in groups if g]


class Engine:
    """Applies events and ranks suggestions for them, a micro-batch at a time."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.params = rank_params(settings)

    async def process(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        """Apply ``events`` exactly once; return their suggestion messages, in event order.
        The batch is split into ``settings.lanes`` concurrent groups (:func:`split_lanes`);
        every group is waited for, also when one fails, before the first error is raised."""
        groups = split_lanes(events, self.settings.lanes)
        if len(groups) == 1:
            return [m for _, m in await self._process(events)]
        done = await asyncio.gather(*(self._process([events[i] for i in g]) for g in groups),
                                    return_exceptions=True)
        merged: list[tuple[int, dict[str, Any]]] = []
        for positions, result in zip(groups, done, strict=True):
            if isinstance(result, BaseException):
                raise result
            merged.extend((positions[n], m) for n, m in result)
        merged.sort(key=lambda nm: nm[0])
        return [m for _, m in merged]

    async def _process(self, events: Sequence[Event]) -> list[tuple[int, dict[str, Any]]]:
        """(position in ``events``, message) of every suggestion, in event order."""
        effects = await self.store.apply(events)
        positions = [n for n, e in enumerate(effects) if _request(e) is not None]
        return list(zip(positions, await self.suggest(effects), strict=True))

    async def suggest(self, effects: Sequence[Effect]) -> list[dict[str, Any]]:
        pending = [r for r in map(_request, effects) if r is not None]
        inputs = await build_inputs(self.store, [req for req, _ in pending], self.params)
        created = datetime.fromtimestamp(time.time(), UTC).isoformat().replace("+00:00", "Z")
        messages = []
        for (_, meta), inp in zip(pending, inputs, strict=True):
            offers = rank(inp, self.params)
            messages.append({
                "suggestion_id": suggestion_id(meta["stream"], meta["trigger"]["event_id"]),
                "user_id": meta["user_id"],
                "placement": meta["placement"],
                "trigger": meta["trigger"],
                "items": [offer_json(o) for o in offers],
                "created_at": created,
            })
        return messages
