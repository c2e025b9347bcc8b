"""The xsell store: applies events to Redis exactly once and reads what ranking needs.

Applying a micro-batch of events takes four pipelined round trips, whatever its size:

1. ``check``:   which events are already applied: at or below their input's committed
                position, or with a done key; and the state epoch (meta 'created'; a change
                means the Redis state was lost: ERROR log and a ``lost_at`` mark that
                ``xsell status`` reports until ``xsell rebuild``; until then no followed-by
                is learnt, xsell/store/core/epoch.py);
2. ``users``:   carts, recent views and purchase histories (user slot), purchase pairs and
                popularity (item and global slots), catalogue updates, and with a known
                user's purchase the spend histogram (its buyer's segment in the report);
3. ``co-adds``: add-to-cart pairs, which depend on the cart read in step 2, co-view pairs,
                which depend on the recent views read in step 2 (xsell/store/core/views.py),
                and on a cluster the spend histogram's moves, which depend on the segment
                counters of step 2 (xsell/store/core/segments.py);
4. ``commit``:  the done keys (on a single Redis only of events whose pair script did not
                set its own), the positions, the batch's guard markers kept for the window,
                and its purchases' followed-by answers dropped (xsell/store/core/followed.py).

Every non-idempotent script is guarded by a marker that lives until the batch is committed, so
a batch that dies half-way is completed, not doubled, when it is redelivered, however late;
positions make older redeliveries no-ops at any age, and done keys absorb a producer's
duplicate sends for the dedup horizon (xsell/store/core/guards.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from xsell.config.settings import Settings
from xsell.models.events import CartEvent, CatalogItem, Event, PurchaseEvent, is_view
from xsell.store.attribution.ledger import Attribution, is_attributed
from xsell.store.attribution.segment_rows import buying_segment
from xsell.store.backend.client import Call, RedisClient, Runner, connect
from xsell.store.core.batching import run_merged
from xsell.store.core.calls import CallBuilder, event_id_of, stream_of
from xsell.store.core.carts import CART_UPDATE
from xsell.store.core.categories import (
    before_pairs,
    catalog_read,
    categories_in_batch,
    category_call,
    purchased_items,
)
from xsell.store.core.epoch import EpochWatch, unrepaired
from xsell.store.core.followed import follow_calls, is_follow_user, memo_drops, parse_follow_up
from xsell.store.core.guards import (
    Guards,
    Position,
    is_redelivery,
    parse_offset,
    source_positions,
)
from xsell.store.core.keys import Keys, Signal, Stream
from xsell.store.core.lua import APPLY_PAIRS
from xsell.store.core.rebuy import rebuy_calls
from xsell.store.core.segments import SEGMENT_ORDER, move_calls
from xsell.store.core.views import co_view_calls

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Effect:
    """What applying one event did, and the context ranking needs for it."""

    event: Event
    duplicate: bool = False
    cart: list[str] = field(default_factory=list)  # cart before the event, most recent first


class EventStore(EpochWatch):
    """Applies events exactly once (the core: co-occurrence, carts, histories, catalogue,
    popularity); :class:`xsell.store.facade.Store` adds the other features' rooms."""

    def __init__(self, client: RedisClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.keys = Keys(settings.redis.key_namespace)
        self.runner = Runner(client, settings)
        self.calls = CallBuilder(self.keys, settings)
        self.ledger = Attribution(self.keys, settings) if settings.feedback.attribution else None
        self.follows = settings.learning.followed_window_days > 0
        self.epoch: str | None = None  # meta 'created' as last seen: state-loss detection
        self.lost = False  # the state was lost and not rebuilt since (as of the last batch)
        self.duplicate_events = 0  # events found already applied, since open (metrics)
        self.state_losses = 0

    @classmethod
    async def open(cls, settings: Settings) -> Self:
        store = cls(connect(settings), settings)
        await store.runner.load_scripts()
        return store

    @property
    def where(self) -> str:
        """The Redis this store talks to (URL without credentials), for messages."""
        return self.runner.where

    async def close(self) -> None:
        await self.client.aclose()

    # --- writes --------------------------------------------------------------------------
    async def apply(
        self,
        events: Sequence[Event],
        *,
        attribute: bool = True,
        positions: Sequence[Position | None] | None = None,
    ) -> list[Effect]:
        """Apply a micro-batch exactly once (see module doc); effects in event order.
        ``attribute``: also attribute and count for the report (the worker's live events);
        history loading (backfill, rebuild) passes False: old orders saw no offers.
        ``positions``: each event's input position (Kafka record, line of a load), None
        where it has none; committed with the batch (xsell/store/core/guards.py)."""
        attribution = self.ledger if attribute else None
        effects = [Effect(e) for e in events]
        where: list[Position | None] = [None] * len(events) if positions is None else [*positions]
        done_keys = [self.keys.done(stream_of(e), event_id_of(e)) for e in events]
        trackable = [i for i, e in enumerate(events) if not isinstance(e, CatalogItem)]
        bought = purchased_items(events)
        raw_categories = await self._mark_duplicates(effects, done_keys, trackable, where, bought)
        categories = categories_in_batch(bought, raw_categories, events)

        now_ms = int(time.time() * 1000)
        # no followed-by while the state is lost: `xsell rebuild` learns it in order (epoch.py)
        follows = self.follows and not self.lost
        guards = Guards(self.keys, self.settings)
        calls: list[Call] = []
        cart_slots: list[int] = []
        view_slots: list[int] = []
        marked: set[int] = set()  # events whose pair script sets their done marker itself
        ledger_at: dict[int, int | None] = {}  # event -> its ledger call in ``calls``
        held: list[Call] = []  # a purchase's pairs, after its counters (they mark it done)
        following: dict[int, Event] = {}  # a FOLLOW_USER call in ``calls`` -> its purchase
        seg_at: dict[int, int] = {}  # a purchase -> its SEGMENT_ORDER call in ``calls``
        hist = attribution is not None and any(
            isinstance(e.event, PurchaseEvent) and e.event.user_id and not e.duplicate
            for e in effects
        )
        if hist:  # the spend histogram before the batch: the buyers' spend tiers (report)
            calls.append(("HGETALL", self.keys.spend_histogram))
        for i, eff in enumerate(effects):
            if eff.duplicate:
                if isinstance(eff.event, CartEvent) and not is_view(eff.event):
                    # context only: read, never mutate
                    cart_slots.append(i)
                    calls.append(("HGETALL", self.keys.cart(eff.event.user_id)))
                continue
            new_calls = self.calls.event_calls(eff.event, now_ms, follow_ups=follows)
            if isinstance(eff.event, PurchaseEvent):
                learn = category_call(
                    self.keys, self.settings, eff.event, categories[eff.event.event_id], now_ms
                )
                new_calls = before_pairs(new_calls, learn)
            if is_view(eff.event):
                view_slots.append(i)
            elif isinstance(eff.event, CartEvent):
                cart_slots.append(i)
            elif self.calls.marks_done(new_calls):
                marked.add(i)
            # with followed-by on, every purchase's pairs go after the follow-ups (step 3),
            # which need the purchase's FOLLOW_USER answer, in event order
            hold = isinstance(eff.event, PurchaseEvent) and follows
            if attribution is not None and is_attributed(eff.event):
                ledger = attribution.ledger_call(eff.event)
                ledger_at[i] = None if ledger is None else len(calls)
                if ledger is not None:
                    calls.append(ledger)
                hold = True
            if hold:
                held += [c for c in new_calls if c[0] is APPLY_PAIRS]
                new_calls = [c for c in new_calls if c[0] is not APPLY_PAIRS]
            following.update(
                {len(calls) + n: eff.event for n, c in enumerate(new_calls) if is_follow_user(c)}
            )
            for n, c in enumerate(new_calls):
                if c[0] is SEGMENT_ORDER and hist:
                    seg_at[i] = len(calls) + n
            calls.extend(new_calls)
        guards.note(calls)
        results = await run_merged(self.runner, calls)
        until = self.calls.pending_until(now_ms)
        counted = self._count_calls(
            attribution, effects, ledger_at, (results, seg_at), now_ms, until
        )

        cart_results = iter(
            r
            for n, (r, c) in enumerate(zip(results, calls, strict=True))
            if _is_cart_read(c) and not (n == 0 and hist)
        )
        co_adds: list[Call] = []
        for i in cart_slots:
            eff, result = effects[i], next(cart_results)
            assert isinstance(eff.event, CartEvent)
            pair, before = _cart_result(result, eff.event.item_id, eff.duplicate)
            eff.cart = before
            if pair and not eff.duplicate and eff.event.type == "add_to_cart" and before:
                partners = before[: self.settings.learning.co_add_window]
                new_calls = self.calls.pair_calls(
                    eff.event.event_id,
                    eff.event.ts,
                    Stream.CART,
                    self.settings.learning.cart_weight,
                    "star",
                    [eff.event.item_id, *partners],
                    [eff.event.item_id, *partners],
                    now_ms,
                    signal=Signal.CO_ADD,
                )
                if self.calls.marks_done(new_calls):
                    marked.add(i)
                co_adds.extend(new_calls)
        views = [(i, effects[i].event) for i in view_slots]
        co_adds += co_view_calls(self.calls, views, calls, results, marked, now_ms)
        moves = move_calls(self.keys, self.settings, calls, results, now_ms)  # cluster only
        step3 = [*counted, *moves, *co_adds, *self._follow_ups(following, results, now_ms), *held]
        guards.note(step3)
        await run_merged(self.runner, step3)

        ttl = self.settings.learning.dedup_horizon_seconds
        await self.runner.run(
            [
                *[
                    ("SET", done_keys[i], "1", "EX", ttl)
                    for i in trackable
                    if not effects[i].duplicate and i not in marked
                ],
                *guards.commit_calls(source_positions(where), now_ms),
                *(memo_drops(self.keys, events) if follows else []),
            ]
        )
        self.duplicate_events += sum(1 for e in effects if e.duplicate)
        return effects

    def _follow_ups(
        self, following: dict[int, Event], results: list[Any], now_ms: int
    ) -> list[Call]:
        """The followed-by and buy-again counts of the batch's purchases, from their
        FOLLOW_USER answers (xsell/store/core/followed.py, rebuy.py), in event order."""
        out: list[Call] = []
        cap = self.settings.learning.max_items_per_order
        for at, event in sorted(following.items()):
            assert isinstance(event, PurchaseEvent)
            follow = parse_follow_up(event, results[at], cap)
            out += follow_calls(self.keys, self.settings, event, follow, now_ms)
            out += rebuy_calls(self.keys, self.settings, event, follow, now_ms)
        return out

    @staticmethod
    def _count_calls(
        attribution: Attribution | None,
        effects: list[Effect],
        ledger_at: dict[int, int | None],
        answered: tuple[list[Any], dict[int, int]],
        now_ms: int,
        until_ms: int,
    ) -> list[Call]:
        """The day counters of what the attributed events earned (after their ledger calls:
        xsell/store/attribution/ledger.py), a purchase's in its buyer's segment too (its
        SEGMENT_ORDER answer, ``seg_at``, and the histogram, the round trip's first answer)."""
        if attribution is None:
            return []
        results, seg_at = answered
        histogram = {int(b): int(n) for b, n in (results[0] or {}).items()} if seg_at else {}
        calls: list[Call] = []
        for i, at in ledger_at.items():
            event = effects[i].event
            assert is_attributed(event)
            seg = results[seg_at[i]] if i in seg_at else None
            earned = attribution.earned(
                event,
                None if at is None else results[at],
                buying_segment(seg, histogram, attribution.segment_params),
            )
            call = attribution.count_call(
                f"{stream_of(event)}:{event_id_of(event)}", event.ts, earned, now_ms, until_ms
            )
            if call is not None:
                calls.append(call)
        return calls

    async def _mark_duplicates(
        self,
        effects: list[Effect],
        done_keys: list[str],
        slots: list[int],
        where: list[Position | None],
        bought: list[str],
    ) -> list[str | None]:
        """Step 1: flag the events already applied (at or below their source's position, or
        with a done key), and check the state epoch. One MGET on a single Redis, one EXISTS
        per key on a cluster (keys in many slots); one HMGET of the positions. Also reads the
        catalogue entries of the ``bought`` items (the category back-off learns from their
        categories) and returns them."""
        sources = sorted({p.source for p in where if p is not None})
        calls: list[Call] = [("HMGET", self.keys.meta, "created", "lost_at", "rebuilt_at")]
        if sources:
            calls.append(("HMGET", self.keys.positions, *sources))
        if bought:
            calls.append(catalog_read(self.keys, bought))
        keys = [done_keys[i] for i in slots]
        if self.settings.redis.cluster:
            calls += [("EXISTS", k) for k in keys]
        elif keys:
            calls.append(("MGET", *keys))
        (epoch, lost_at, rebuilt_at), *rest = await self.runner.run(calls)
        committed = (
            dict(zip(sources, map(parse_offset, rest.pop(0)), strict=True)) if sources else {}
        )
        found = list(rest.pop(0)) if bought else []
        seen = rest if self.settings.redis.cluster else (rest[0] if rest else [])
        self.lost = await self.check_epoch(epoch) or unrepaired(lost_at, rebuilt_at)
        for i, value in zip(slots, seen, strict=True):
            effects[i].duplicate = bool(value)
        now, horizon = time.time(), self.settings.learning.dedup_horizon_seconds
        for i, p in enumerate(where):
            if p is not None and is_redelivery(p, committed.get(p.source), now, horizon):
                effects[i].duplicate = True
        return found

    async def flush_namespace(self) -> int:
        """Delete every key of this namespace (tests, evaluation). Returns the count.
        A deliberate wipe, not a loss: the remembered epoch is forgotten too."""
        self.epoch = None
        deleted = 0
        batch: list[str] = []
        async for key in self.client.scan_iter(match=self.keys.pattern(), count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += await self._delete(batch)
                batch = []
        return deleted + await self._delete(batch)

    async def _delete(self, keys: Iterable[str]) -> int:
        results = await self.runner.run([("DEL", key) for key in keys])
        return int(sum(results))


def _is_cart_read(call: Call) -> bool:
    return call[0] is CART_UPDATE or call[0] == "HGETALL"


def _cart_result(result: Any, item_id: str, duplicate: bool) -> tuple[int, list[str]]:
    """(pair flag, cart before the event without the item, most recent first)."""
    if duplicate:  # HGETALL: item -> "ts|event_id"
        flat = [(i, v.split("|", 1)[0]) for i, v in result.items() if i != item_id]
        pair = 0
    else:
        pair, raw = int(result[0]), result[1]
        flat = list(zip(raw[::2], raw[1::2], strict=True))
    flat.sort(key=lambda iv: (-float(iv[1]), iv[0]))
    return pair, [i for i, _ in flat]
