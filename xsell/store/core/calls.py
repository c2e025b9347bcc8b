"""The Redis calls that apply one event: which script, which keys, which arguments.

Pure: building them reads nothing from Redis, so :class:`xsell.store.core.apply.Store` decides only
when to send them (which round trip) and what to do with the answers.
"""

from __future__ import annotations

import json
from typing import Any

from xsell.config.settings import Settings
from xsell.models.events import (
    CartEvent,
    CatalogItem,
    Event,
    FeedbackEvent,
    ForgetUser,
    PurchaseEvent,
    is_view,
)
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import number_arg
from xsell.store.core.carts import CART_UPDATE
from xsell.store.core.followed import user_call
from xsell.store.core.keys import Keys, Signal, Stream
from xsell.store.core.lua import APPLY_PAIRS, APPLY_POPULARITY, PURCHASE_USER
from xsell.store.core.segments import forget_call, order_call
from xsell.store.core.views import view_call


def stream_of(event: Event) -> Stream:
    """The input an event arrives on."""
    if isinstance(event, CartEvent):
        return Stream.CART
    if isinstance(event, CatalogItem):
        return Stream.CATALOG
    if isinstance(event, FeedbackEvent):
        return Stream.FEEDBACK
    return Stream.ORDERS


def catalog_json(item: CatalogItem) -> str:
    entry: dict[str, object] = {
        "category": item.category,
        "price": item.price,
        "stock": item.stock,
        "active": item.active,
        "name": item.name,
    }
    if item.tags:  # only when set: entries without tags stay as they were
        entry["tags"] = list(item.tags)
    if item.cost is not None:  # only when given: entries without one stay as they were
        entry["cost"] = item.cost
    return json.dumps(entry, separators=(",", ":"))


def event_id_of(event: Event) -> str:
    return event.item_id if isinstance(event, CatalogItem) else event.event_id


class CallBuilder:
    """Builds the calls of one namespace's events with the settings' caps and weights."""

    def __init__(self, keys: Keys, settings: Settings) -> None:
        self.keys = keys
        self.settings = settings

    def pending_until(self, now_ms: int) -> int:
        """Until when a guard marker written now is kept if its batch is never committed
        (xsell/store/core/guards.py)."""
        return now_ms + self.settings.learning.dedup_pending_seconds * 1000

    def marks_done(self, calls: list[Call]) -> bool:
        """True when ``calls`` hold a pair script that sets the event's done marker: on a
        single Redis every pair script does (see :meth:`pair_calls`)."""
        return not self.settings.redis.cluster and any(c[0] is APPLY_PAIRS for c in calls)

    def event_calls(self, event: Event, now_ms: int, *, follow_ups: bool = True) -> list[Call]:
        """The calls that apply ``event`` (a cart event's co-adds come later: they need the
        cart it returns); ``follow_ups`` False: without a purchase's FOLLOW_USER (the state
        was lost: xsell/store/core/epoch.py)."""
        k, s = self.keys, self.settings
        if is_view(event):  # its co-views come later: they need the views it returns
            assert isinstance(event, CartEvent)
            return [view_call(k, s, event)]
        if isinstance(event, CartEvent):
            op = "add" if event.type == "add_to_cart" else "remove"
            return [
                (
                    CART_UPDATE,
                    [k.cart(event.user_id)],
                    [
                        op,
                        event.item_id,
                        number_arg(event.ts),
                        event.event_id,
                        s.learning.cart_ttl_seconds,
                        s.learning.max_cart_items,
                    ],
                )
            ]
        if isinstance(event, PurchaseEvent):
            items = event.distinct_items()
            calls: list[Call] = []
            # reads the history before PURCHASE_USER writes it
            follow = user_call(k, s, event, now_ms) if follow_ups else None
            if follow is not None:
                calls.append(follow)
            if event.user_id is not None:
                calls.append(
                    (
                        PURCHASE_USER,
                        [k.cart(event.user_id), k.history(event.user_id)],
                        [
                            number_arg(event.ts),
                            s.learning.history_ttl_days * 86400,
                            s.learning.max_history_items,
                            *items,
                        ],
                    )
                )
                calls.append(order_call(k, s, event, now_ms))
            # popularity before the pairs: on a single Redis the pairs call marks the event
            # done, so everything else of the event must already be applied by then
            calls.append(
                (
                    APPLY_POPULARITY,
                    [k.popularity, k.meta, k.global_markers],
                    [
                        f"{Stream.ORDERS}:{event.event_id}",
                        number_arg(event.ts),
                        number_arg(s.learning.half_life_seconds),
                        now_ms,
                        self.pending_until(now_ms),
                        *items,
                    ],
                )
            )
            paired = items[: s.learning.max_items_per_order]
            if len(paired) >= 2:
                calls.extend(
                    self.pair_calls(
                        event.event_id,
                        event.ts,
                        Stream.ORDERS,
                        1.0,
                        "all",
                        paired,
                        paired,
                        now_ms,
                        signal=Signal.PURCHASE,
                    )
                )
            return calls
        if isinstance(event, CatalogItem):
            return [("HSET", k.catalog, event.item_id, catalog_json(event))]
        if isinstance(event, ForgetUser):
            user = event.user_id
            keys = (
                k.cart(user),
                k.history(user),
                k.views(user),
                k.recent(user),
                k.follow_memo(user),
                k.latest(user),
                k.tune_lists(user),
                k.tune_followed_lists(user),
                k.tune_rebuy_lists(user),
            )
            return [("DEL", *keys, *k.ledger(user)), forget_call(k, s, user, event.event_id)]
        if isinstance(event, FeedbackEvent):
            return []  # only its ledger and counters (xsell/store/attribution/ledger.py)
        raise TypeError(f"unknown event {type(event).__name__}")

    def pair_calls(
        self,
        event_id: str,
        ts: float,
        stream: Stream,
        base: float,
        mode: str,
        targets: list[str],
        partners: list[str],
        now_ms: int,
        *,
        signal: Signal,
        half_life: float | None = None,
    ) -> list[Call]:
        """APPLY_PAIRS calls for one event. On a single Redis: one atomic call with every
        target, guarded by the namespace's pair guards, that also sets the event's done key.
        On a cluster, where a script's keys must share a slot: one call per target, guarded
        by the target's marker zset (xsell/store/core/guards.py). ``half_life``: the
        settings' unless given (co-views pass 0: plain counts)."""
        s = self.settings
        head: list[Any] = [
            f"{stream}:{event_id}",
            number_arg(ts),
            number_arg(s.learning.half_life_seconds if half_life is None else half_life),
            number_arg(base),
            s.learning.max_neighbors,
            now_ms,
            self.pending_until(now_ms),
        ]
        if not s.redis.cluster:
            keys = [
                self.keys.pair_guards,
                self.keys.done(stream, event_id),
                *[key for t in targets for key in self.keys.item(t).for_signal(signal)],
            ]
            life = s.learning.dedup_horizon_seconds * 1000
            listed = [0] if targets == partners else [len(targets), *targets]
            return [(APPLY_PAIRS, keys, [*head, "done", life, mode, *listed, *partners])]
        life = s.learning.dedup_pending_seconds * 1000
        return [
            (
                APPLY_PAIRS,
                [
                    self.keys.item(t).markers,
                    self.keys.item(t).markers,
                    *self.keys.item(t).for_signal(signal),
                ],
                [*head, "window", life, mode, 1, t, *partners],
            )
            for t in targets
        ]
