"""Ranking for the API through the engine's own path, with concurrent requests coalesced.

Why coalesce: the engine reads and scores a whole micro-batch of triggers in a fixed number of
Redis round trips and numpy calls (xsell/store/core/reader.py, models/scoring.py). Requests that
arrive in the same turn of the event loop are ranked as one batch, so under load a request
costs a share of a round trip instead of four; alone, it waits for nothing (the flush is
scheduled for the next turn of the loop).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from xsell.engine import Engine
from xsell.models.experiments import CONTROL
from xsell.models.messages.merchant import StoredRule
from xsell.models.ranking import Offer, RankRequest
from xsell.models.segments import Segment

CLOCK_SECONDS = 0.5  # how old the state's clock (its latest event time) may be


@dataclass(frozen=True, slots=True)
class RankQuery:
    """What an API request asks to rank."""

    anchors: tuple[str, ...]  # most recent first
    exclude: frozenset[str]  # never offered (the given cart, the viewed item)
    user_id: str | None  # whose cart and history also count
    k: int
    variant: str  # the user's experiment variant (its ranking overrides apply)
    placement: str | None = None  # merchant rules match it (docs/rules.md)
    segment: str | None = None  # the shopper's segment, when the request names one
    fills_gap: bool = False  # a cart: the free-shipping gap filler may apply (models/gap.py)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A query's offers and its user's segment (None: no user, or the holdout)."""

    offers: list[Offer]
    segment: Segment | None = None


Pending = list[tuple[RankQuery, "asyncio.Future[Ranked]"]]


class RankBatcher:
    """Collects queries for one turn of the event loop and ranks them together."""

    def __init__(self, engine: Engine, max_batch: int = 256) -> None:
        self.engine = engine
        self.max_batch = max_batch  # XSELL_API_RANK_BATCH_SIZE: more flush at once
        self.pending: Pending = []
        self.flushing: set[asyncio.Future[None]] = set()
        self.batches = 0
        self.clock: float | None = None  # the state's latest event time, as last read
        self.clock_read_at = -CLOCK_SECONDS

    async def rank(self, query: RankQuery) -> Ranked:
        future: asyncio.Future[Ranked] = asyncio.get_running_loop().create_future()
        self.pending.append((query, future))
        if len(self.pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush_soon)
        elif len(self.pending) >= self.max_batch:
            self._flush_soon()
        return await future

    def _flush_soon(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.ensure_future(self._flush(batch))
            self.flushing.add(task)  # a reference until done: the loop keeps only weak ones
            task.add_done_callback(self.flushing.discard)

    async def _flush(self, batch: Pending) -> None:
        self.batches += 1
        try:
            results = await self._rank_all([q for q, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), offers in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(offers)

    async def rank_with(
        self, queries: list[RankQuery], rules: Sequence[StoredRule]
    ) -> list[list[Offer]]:
        """The offers of ``queries`` with the given merchant rules instead of the saved ones
        (a preview), at once, outside the batches."""
        return [r.offers for r in await self._rank_all(queries, rules)]

    async def _rank_all(
        self, queries: list[RankQuery], rules: Sequence[StoredRule] | None = None
    ) -> list[Ranked]:
        """The users' carts and (when older than CLOCK_SECONDS) the state's clock in one round
        trip, none when neither is needed; then the engine (which reads the users' segments
        with its statistics)."""
        store = self.engine.store
        users = sorted({q.user_id for q in queries if q.user_id})
        stale = time.monotonic() - self.clock_read_at > CLOCK_SECONDS
        latest, replies = await store.shoppers.carts_and_clock(users, with_clock=stale)
        if stale:
            # values are decayed to the latest event the state has seen, as the worker's are
            # to their trigger's time: a state loaded from history is not decayed to nothing
            self.clock = latest
            self.clock_read_at = time.monotonic()
        carts = dict(zip(users, replies, strict=True))
        now = self.clock if self.clock is not None else time.time()
        requests = [
            RankRequest(
                q.anchors,
                q.exclude | frozenset(carts.get(q.user_id or "", ())),
                now,
                q.user_id,
                q.placement,
                q.segment,
                fills_gap=q.fills_gap,
            )
            for q in queries
        ]
        out = [Ranked([]) for _ in queries]
        for variant, k in sorted({(q.variant, q.k) for q in queries}):
            if variant == CONTROL:
                continue  # the holdout sees no offers
            idx = [i for i, q in enumerate(queries) if (q.variant, q.k) == (variant, k)]
            own = self.engine.params_of[variant]
            params = replace(own, k=min(k, own.k))
            ranked, segments = await self.engine.rank_segmented(
                [requests[i] for i in idx], params, rules
            )
            for i, offers in zip(idx, ranked, strict=True):
                out[i] = Ranked(offers, segments.get(queries[i].user_id or ""))
        return out
