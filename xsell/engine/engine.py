"""The processing step shared by the worker, backfill and evaluation:
events -> store (exactly-once effects) -> ranker -> suggestion messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from xsell.config.settings import Settings
from xsell.engine.coviews import read_co_views
from xsell.engine.followed import score_by_placement, with_followed, with_shortlists
from xsell.engine.followed_tuning import FollowedTuning, PurchaseCase
from xsell.engine.messages import now_text, suggestion_id, suggestion_message
from xsell.engine.params import rank_params, segment_params, variant_params
from xsell.engine.rebuy_tuning import RebuyTuning, with_places
from xsell.engine.self_tuning import SelfTuning, TestLists, TuningCase
from xsell.engine.steering import Steering
from xsell.models.coview import with_co_views
from xsell.models.events import CartEvent, Event, PurchaseEvent
from xsell.models.experiments import CONTROL, variant_of
from xsell.models.inputs import (
    assemble,
    batch_stats,
    capped,
    detail_size,
    offerable,
    popular_size,
    wanted_details,
    with_details,
)
from xsell.models.messages.merchant import StoredRule
from xsell.models.ranking import Offer, RankInput, RankParams, RankRequest
from xsell.models.rebuy_offers import owners, with_due_rebuys
from xsell.models.rulebook import RuleBook
from xsell.models.segments import Segment, segment_of
from xsell.models.steering import offers_with_rules, with_pins
from xsell.store import Effect, Position, Store, Stream

log = logging.getLogger(__name__)


def assignment_unit(event: CartEvent | PurchaseEvent) -> str:
    """Whom an event's experiment variant is drawn for: its user, else (a guest's
    purchase) its order (models/experiments.py)."""
    if isinstance(event, PurchaseEvent) and event.user_id is None:
        return f"order:{event.order_id}"
    return str(event.user_id)


def _request(effect: Effect, order_anchors: int) -> tuple[RankRequest, dict[str, Any]] | None:
    """The ranking request and trigger of an event that gets a suggestion, else None; a
    purchase's at most ``order_anchors`` items are its anchors (the settings' pair cap)."""
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
        request = RankRequest(
            anchors, frozenset(anchors), event.ts, event.user_id, "cart", fills_gap=True
        )
        return request, {"trigger": trigger, **meta}
    if isinstance(event, PurchaseEvent):
        items = event.distinct_items()
        trigger = {"type": "purchase", "event_id": event.event_id, "item_ids": items}
        meta = {
            "placement": "post_purchase",
            "user_id": event.user_id,
            "stream": Stream.ORDERS,
            "unit": assignment_unit(event),
        }
        request = RankRequest(
            items[::-1],
            frozenset(items),
            event.ts,
            event.user_id,
            "post_purchase",
            max_anchors=min(len(items), order_anchors),
        )
        return request, {"trigger": trigger, **meta}
    return None


class Engine:
    """Applies events and ranks suggestions for them, a micro-batch at a time: the store
    reads and writes, the pure functions of models/ score and rank, and self-tuning (when on)
    is asked for its choice and its test cases."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.params = rank_params(settings)
        self.experiment = settings.running_experiment
        on = settings.tuning.enabled
        self.tuner = SelfTuning(store, settings, self.params) if on else None
        follows = on and settings.learning.followed_window_days > 0
        self.follow_tuner = FollowedTuning(store, settings) if follows else None
        # buy-again learns on followed-by's FOLLOW_USER (xsell/engine/params.py)
        self.rebuy_tuner = RebuyTuning(store, settings) if follows else None
        self.steering = Steering(store, settings)

    @property
    def current_params(self) -> RankParams:
        """The ranking in use: self-tuning's choices, else the settings'."""
        params = self.tuner.params if self.tuner is not None else self.params
        if self.rebuy_tuner is not None:
            params = self.rebuy_tuner.applied(params)
        return self.follow_tuner.applied(params) if self.follow_tuner is not None else params

    @property
    def params_of(self) -> dict[str, RankParams]:
        """Each variant's ranking: the one in use with the variant's overrides."""
        base = self.current_params
        return {v.name: variant_params(base, v) for v in self.experiment.variants}

    async def process(
        self, events: Sequence[Event], positions: Sequence[Position | None] | None = None
    ) -> list[dict[str, Any]]:
        """Apply ``events`` exactly once; return their suggestion messages, in event order.
        ``positions``: where each event was read (its Kafka record), for the store's
        redelivery check."""
        effects = await self.store.apply(events, positions=positions)
        return await self.suggest(effects)

    async def suggest(self, effects: Sequence[Effect]) -> list[dict[str, Any]]:
        """The suggestion messages of the effects that trigger one, in event order; each in
        its user's variant (the holdout's with no items). Sampled shoppers' add-to-carts are
        also self-tuning's test cases."""
        cap = self.settings.learning.max_items_per_order
        pending = [r for e in effects if (r := _request(e, cap)) is not None]
        variants = [variant_of(self.experiment, meta["unit"]) for _, meta in pending]
        cases: list[TuningCase] = []
        if self.tuner is not None:
            triggers = [
                (meta["placement"], meta["user_id"], meta["trigger"]["item_ids"][0])
                for _, meta in pending
            ]
            cases = self.tuner.cases(triggers, variants, CONTROL)
        bought: list[PurchaseCase] = []
        if self.follow_tuner is not None:
            bought = self.follow_tuner.cases([req for req, _ in pending], variants, CONTROL)
        ranked, lists, rebuy_lists, segments = await self._rank_variants(
            [req for req, _ in pending],
            variants,
            frozenset([*(c.row for c in cases), *(c.row for c in bought)]),
        )
        if self.tuner is not None and cases:
            await self.tuner.record(cases, [lists[c.row] for c in cases])
        if self.follow_tuner is not None and bought:
            await self.follow_tuner.record(bought, [lists[c.row] for c in bought])
        if self.rebuy_tuner is not None and cases:
            await self.rebuy_tuner.record(cases, rebuy_lists)
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
                self.steering.version,
                segments.get(meta["user_id"] or ""),
            )
            for (_, meta), offers, variant in zip(pending, ranked, variants, strict=True)
        ]

    async def rank_variants(
        self, requests: Sequence[RankRequest], variants: Sequence[str]
    ) -> tuple[list[list[Offer]], dict[str, Segment]]:
        """The offers of each request in its variant's ranking (none for the holdout), and
        the segments of the users ranked."""
        ranked, _, _, segments = await self._rank_variants(requests, variants, frozenset())
        return ranked, segments

    async def _rank_variants(
        self, requests: Sequence[RankRequest], variants: Sequence[str], tuned: frozenset[int]
    ) -> tuple[list[list[Offer]], dict[int, TestLists], dict[int, TestLists], dict[str, Segment]]:
        """:meth:`rank_variants`, self-tuning's test lists of the ``tuned`` rows (the
        number of buy-again places' apart: its offers per candidate, for known users' carts
        with due rebuys) and the segments of the users ranked (the holdout's are not read)."""
        out: list[list[Offer]] = [[] for _ in requests]
        lists: dict[int, TestLists] = {}
        rebuy_lists: dict[int, TestLists] = {}
        segments: dict[str, Segment] = {}
        params_of = self.params_of
        for name in dict.fromkeys(variants):
            if name == CONTROL:
                continue
            idx = [i for i, v in enumerate(variants) if v == name]
            rows = frozenset(n for n, i in enumerate(idx) if i in tuned)
            got, tests = await self.rank_inputs([requests[i] for i in idx], params_of[name], rows)
            for n, (i, inp) in enumerate(zip(idx, got, strict=True)):
                req, params = requests[i], params_of[name]
                out[i] = self.offers(inp, req, params, None)
                if n in tests:
                    lists[i] = tests[n]
                if self.rebuy_tuner and i in tuned and req.placement == "cart" and inp.rebuys:

                    def offers_with(
                        p: RankParams, inp: RankInput = inp, req: RankRequest = req
                    ) -> list[Offer]:
                        return self.offers(inp, req, p, None)

                    rebuy_lists[i] = self.rebuy_tuner.test_lists(offers_with, params)
                user = requests[i].user_id
                if inp.segment is not None and user:
                    segments[user] = inp.segment
        return out, lists, rebuy_lists, segments

    async def rank(
        self,
        requests: Sequence[RankRequest],
        params: RankParams | None = None,
        rules: Sequence[StoredRule] | None = None,
    ) -> list[list[Offer]]:
        """The offers of each request, without changing any state: the one ranking path of
        the worker (:meth:`suggest`) and the API (complements, recommendations). ``rules``:
        the merchant rules to apply instead of the saved ones (a preview)."""
        ranked, _ = await self.rank_segmented(requests, params, rules)
        return ranked

    async def rank_segmented(
        self,
        requests: Sequence[RankRequest],
        params: RankParams | None = None,
        rules: Sequence[StoredRule] | None = None,
    ) -> tuple[list[list[Offer]], dict[str, Segment]]:
        """:meth:`rank`, and the segments of the requests' users (models/segments.py)."""
        params = params or self.current_params
        book = None if rules is None else RuleBook(rules)
        inputs, _ = await self.rank_inputs(requests, params, book=book)
        ranked = [
            self.offers(inp, req, params, book) for inp, req in zip(inputs, requests, strict=True)
        ]
        segments = {
            r.user_id: inp.segment
            for inp, r in zip(inputs, requests, strict=True)
            if r.user_id and inp.segment is not None
        }
        return ranked, segments

    def offers(
        self,
        inp: RankInput,
        req: RankRequest,
        params: RankParams,
        book: RuleBook | None,
    ) -> list[Offer]:
        """One request's offers with the merchant rules (the saved ones unless ``book``): the
        last step of every ranking, given its inputs (``xsell eval --promote-share`` ranks the
        same inputs with other rules here too)."""
        use = self.steering.book if book is None else book
        return offers_with_rules(inp, req, params, use, time.time())

    async def rank_inputs(
        self,
        requests: Sequence[RankRequest],
        params: RankParams,
        tuned: frozenset[int] = frozenset(),
        book: RuleBook | None = None,
    ) -> tuple[list[RankInput], dict[int, TestLists]]:
        """The ranking inputs of ``requests`` (models/inputs.py: read, score, read details
        of the best candidates only) and self-tuning's test lists of the ``tuned`` rows. A
        process that only ranks (the API) rereads the shared choice now and then."""
        for tuner in (self.tuner, self.follow_tuner, self.rebuy_tuner):
            if tuner is not None and not tuned:
                await tuner.refresh()
        await self.steering.refresh()
        if not requests:
            return [], {}
        s = self.settings
        short = capped(requests, s.ranking.max_anchors)
        users = sorted({r.user_id for r in requests if r.user_id})
        rebuy = params.rebuy  # the due rebuys of the most places a candidate may need
        if self.rebuy_tuner is not None and tuned:
            rebuy = with_places(params, max(rebuy.max_offers, self.rebuy_tuner.most)).rebuy
        data, co_views = await asyncio.gather(  # the product page's co-views beside: no wait
            self.store.ranking.statistics(
                sorted({a for r in short for a in r.anchors}),
                popular_size(params, requests),
                with_prior=params.popularity_prior > 0
                or (self.tuner is not None and self.tuner.reads_popular),
                with_categories=params.category_backoff > 0
                or (self.tuner is not None and self.tuner.reads_categories),
                users=users,
                owners=owners(requests, params.rebuy.max_offers > 0, tuned, rebuy.max_offers > 0),
            ),
            read_co_views(self.store, requests, params),
        )
        params_seg = segment_params(s)
        segments = {
            u: segment_of(data.segments.get(u), data.spend_histogram, params_seg) for u in users
        }
        stats = batch_stats(data, s.learning.half_life_seconds)
        scored = score_by_placement(stats, short, params, detail_size(params))
        carts = frozenset(n for n in tuned if short[n].placement == "cart")
        lists = (
            self.tuner.test_lists(stats, short, scored, params, carts)
            if self.tuner is not None and carts
            else {}
        )
        inputs = assemble(stats, data.popular, short, scored, params)
        inputs = with_co_views(inputs, requests, co_views)
        inputs = with_due_rebuys(inputs, requests, data.histories, data.rebuy_stats, rebuy)
        orders = frozenset(tuned - carts)
        inputs, shortlists = await with_followed(
            self.store, self.settings, inputs, short, params, self.follow_tuner, orders
        )
        per_request = with_pins(
            offerable(inputs),
            requests,
            self.steering.book if book is None else book,
            segments,
            time.time(),
        )
        per_request = with_shortlists(per_request, shortlists)
        items, wanted = wanted_details(requests, per_request)
        catalog, bought = await self.store.ranking.details(items, wanted)
        final = with_details(inputs, requests, per_request, catalog, bought, segments)
        if self.follow_tuner is not None and shortlists:
            lists.update(self.follow_tuner.test_lists(final, shortlists, params))
        return final, lists
