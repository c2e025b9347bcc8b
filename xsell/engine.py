"""The processing step shared by the worker, backfill and evaluation:
events -> store (exactly-once effects) -> ranker -> suggestion messages.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings
from models.events import CartEvent, Event, PurchaseEvent
from models.experiments import CONTROL, Variant, variant_of
from models.ranking import Offer, RankInput, RankParams, RankRequest, rank
from models.rules import RuleParams
from xsell.store import Effect, Store, Stream
from xsell.store.core.reader import build_inputs
from xsell.store.tuning.tuner import SelfTuner, sampled

log = logging.getLogger(__name__)


def rank_params(settings: Settings) -> RankParams:
    """Ranking parameters from the settings."""
    return RankParams(
        k=settings.max_suggestions,
        similarity=settings.similarity,
        min_support=settings.min_support,
        popularity_prior=settings.popularity_prior,
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


def assignment_unit(event: CartEvent | PurchaseEvent) -> str:
    """Whom an event's experiment variant is drawn for: its user, else (a guest's
    purchase) its order (models/experiments.py)."""
    if isinstance(event, PurchaseEvent) and event.user_id is None:
        return f"order:{event.order_id}"
    return str(event.user_id)


def variant_params(params: RankParams, variant: Variant) -> RankParams:
    """The ranking of a variant: the settings' with its overrides."""
    return replace(
        params,
        similarity=variant.similarity or params.similarity,
        k=variant.max_suggestions or params.k,
    )


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
            "unit": event.user_id,
        }
        return RankRequest(anchors, frozenset(anchors), event.ts, event.user_id), {
            "trigger": trigger,
            **meta,
        }
    if isinstance(event, PurchaseEvent):
        items = event.distinct_items()
        trigger = {"type": "purchase", "event_id": event.event_id, "item_ids": items}
        meta = {
            "placement": "post_purchase",
            "user_id": event.user_id,
            "stream": Stream.ORDERS,
            "unit": assignment_unit(event),
        }
        return RankRequest(items[::-1], frozenset(items), event.ts, event.user_id), {
            "trigger": trigger,
            **meta,
        }
    return None


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
) -> dict[str, Any]:
    """A suggestion message of the contract (docs/contract.md), for the topic or the API."""
    return {
        "suggestion_id": sid,
        "user_id": user_id,
        "placement": placement,
        "trigger": trigger,
        "items": [offer_json(o) for o in offers],
        "created_at": created_at,
        "variant": variant,
    }


class Engine:
    """Applies events and ranks suggestions for them, a micro-batch at a time."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.params = rank_params(settings)
        self.experiment = settings.running_experiment
        self.tuner = SelfTuner(store, settings, self.params) if settings.self_tuning else None

    @property
    def current_params(self) -> RankParams:
        """The ranking in use: self-tuning's choice, else the settings'."""
        return self.tuner.params if self.tuner is not None else self.params

    @property
    def params_of(self) -> dict[str, RankParams]:
        """Each variant's ranking: the one in use with the variant's overrides."""
        base = self.current_params
        return {v.name: variant_params(base, v) for v in self.experiment.variants}

    async def process(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        """Apply ``events`` exactly once; return their suggestion messages, in event order."""
        effects = await self.store.apply(events)
        return await self.suggest(effects)

    async def suggest(self, effects: Sequence[Effect]) -> list[dict[str, Any]]:
        """The suggestion messages of the effects that trigger one, in event order; each in
        its user's variant (the holdout's with no items). Sampled shoppers' add-to-carts are
        also self-tuning's test cases (:meth:`_tuning_cases`)."""
        pending = [r for r in map(_request, effects) if r is not None]
        variants = [variant_of(self.experiment, meta["unit"]) for _, meta in pending]
        cases = self._tuning_cases(pending, variants)
        previous = await self.tuner.read_cases([u for _, u, _ in cases]) if self.tuner else []
        ranked, inputs = await self._rank_variants(
            [req for req, _ in pending], variants, frozenset(i for i, _, _ in cases)
        )
        if self.tuner is not None and cases:
            await self.tuner.record(
                previous,
                [item for _, _, item in cases],
                [u for _, u, _ in cases],
                [[list(a) for a in inputs[i].alternatives] for i, _, _ in cases],
            )
        created = now_text()
        return [
            suggestion_message(
                suggestion_id(meta["stream"], meta["trigger"]["event_id"]),
                meta["user_id"],
                meta["placement"],
                meta["trigger"],
                offers,
                created,
                variant,
            )
            for (_, meta), offers, variant in zip(pending, ranked, variants, strict=True)
        ]

    def _tuning_cases(
        self, pending: Sequence[tuple[RankRequest, dict[str, Any]]], variants: Sequence[str]
    ) -> list[tuple[int, str, str]]:
        """(row, user, added item) of the add-to-carts that are test cases: sampled shoppers,
        outside the holdout (it is not ranked), one per shopper and batch (the lists of a
        shopper's earlier add in the same batch are not stored yet)."""
        if self.tuner is None:
            return []
        share, seen = self.settings.tuning_sample, set()
        out = []
        for i, ((_, meta), variant) in enumerate(zip(pending, variants, strict=True)):
            user = meta["user_id"]
            if meta["placement"] != "cart" or variant == CONTROL or user in seen:
                continue
            if sampled(user, share):
                seen.add(user)
                out.append((i, user, meta["trigger"]["item_ids"][0]))
        return out

    async def rank_variants(
        self, requests: Sequence[RankRequest], variants: Sequence[str]
    ) -> list[list[Offer]]:
        """The offers of each request in its variant's ranking; none for the holdout."""
        ranked, _ = await self._rank_variants(requests, variants, frozenset())
        return ranked

    async def _rank_variants(
        self, requests: Sequence[RankRequest], variants: Sequence[str], tuned: frozenset[int]
    ) -> tuple[list[list[Offer]], dict[int, RankInput]]:
        """:meth:`rank_variants`, and the inputs of the ``tuned`` rows (their alternatives)."""
        out: list[list[Offer]] = [[] for _ in requests]
        inputs: dict[int, RankInput] = {}
        params_of = self.params_of
        for name in dict.fromkeys(variants):
            if name == CONTROL:
                continue
            idx = [i for i, v in enumerate(variants) if v == name]
            rows = frozenset(n for n, i in enumerate(idx) if i in tuned)
            got = await self.rank_inputs([requests[i] for i in idx], params_of[name], rows)
            for n, (i, inp) in enumerate(zip(idx, got, strict=True)):
                out[i] = rank(inp, params_of[name])
                if n in rows:
                    inputs[i] = inp
        return out, inputs

    async def rank(
        self, requests: Sequence[RankRequest], params: RankParams | None = None
    ) -> list[list[Offer]]:
        """The offers of each request, without changing any state: the one ranking path of
        the worker (:meth:`suggest`) and the API (complements, recommendations)."""
        params = params or self.current_params
        return [rank(inp, params) for inp in await self.rank_inputs(requests, params)]

    async def rank_inputs(
        self,
        requests: Sequence[RankRequest],
        params: RankParams,
        tuned: frozenset[int] = frozenset(),
    ) -> list[RankInput]:
        """The ranking inputs of ``requests``; the ``tuned`` rows with every self-tuning
        candidate's top k as well. A process that only ranks (the API) rereads the shared
        choice now and then."""
        if self.tuner is not None and not tuned:
            await self.tuner.refresh()
        alternatives = self.tuner.candidates if self.tuner is not None and tuned else []
        alternatives = [replace(a, k=params.k, similarity=params.similarity) for a in alternatives]
        return await build_inputs(
            self.store, requests, params, alternatives=alternatives, alternative_rows=tuned
        )
