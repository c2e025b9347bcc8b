"""The xsell store: applies events to Redis exactly once and reads what ranking needs.

Applying a micro-batch of events takes four pipelined round trips, whatever its size:

1. ``check``:   which events are already fully applied (done markers), and the state epoch
                (meta 'created'; a change means the Redis state was lost: ERROR log and a
                ``lost_at`` mark that ``xsell status`` reports until ``xsell rebuild``);
2. ``users``:   carts and purchase histories (user slot), purchase pairs and popularity
                (item and global slots), catalogue updates;
3. ``co-adds``: add-to-cart pairs, which depend on the cart read in step 2;
4. ``done``:    mark the batch's events as fully applied (on a single Redis only those whose
                pair script did not already set their marker).

Every non-idempotent script is guarded by a marker, so a batch that dies half-way is completed,
not doubled, when Kafka redelivers it. On a single Redis an event's pair increments are one
atomic script that also sets the event's done marker; on a Redis Cluster a script's keys must
share a slot, so each item's increments are one script marked in that item's marker zset for
``dedup_window_seconds``. The done markers keep replays of old events (``xsell replay`` twice)
from counting again for ``dedup_retention_days``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings
from models.events import CartEvent, CatalogItem, Event, ForgetUser, PurchaseEvent
from xsell.store.client import Call, RedisClient, Runner, connect
from xsell.store.keys import Keys
from xsell.store.lua import APPLY_PAIRS, APPLY_POPULARITY, CART_UPDATE, PURCHASE_USER

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Effect:
    """What applying one event did, and the context ranking needs for it."""

    event: Event
    duplicate: bool = False
    cart: list[str] = field(default_factory=list)  # cart before the event, most recent first


def stream_of(event: Event) -> str:
    if isinstance(event, CartEvent):
        return "c"
    if isinstance(event, CatalogItem):
        return "k"
    return "o"


def catalog_json(item: CatalogItem) -> str:
    return json.dumps(
        {
            "category": item.category,
            "price": item.price,
            "stock": item.stock,
            "active": item.active,
            "name": item.name,
        },
        separators=(",", ":"),
    )


class Store:
    """Async facade over Redis for the worker, backfill, evaluation and CLI."""

    def __init__(self, client: RedisClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.keys = Keys(settings.key_namespace)
        self.runner = Runner(client, settings)
        self.epoch: str | None = None  # meta 'created' as last seen: state-loss detection
        self.state_losses = 0

    @classmethod
    async def open(cls, settings: Settings) -> Store:
        store = cls(connect(settings), settings)
        await store.runner.load_scripts()
        return store

    async def close(self) -> None:
        await self.client.aclose()

    # --- writes --------------------------------------------------------------------------
    async def apply(self, events: Sequence[Event]) -> list[Effect]:
        """Apply a micro-batch exactly once (see module doc); effects in event order."""
        effects = [Effect(e) for e in events]
        done_keys = [self.keys.done(stream_of(e), _event_id(e)) for e in events]
        trackable = [i for i, e in enumerate(events) if not isinstance(e, CatalogItem)]
        await self._mark_duplicates(effects, [done_keys[i] for i in trackable], trackable)

        now_ms = int(time.time() * 1000)
        calls: list[Call] = []
        cart_slots: list[int] = []
        marked: set[int] = set()  # events whose pair script sets their done marker itself
        for i, eff in enumerate(effects):
            if eff.duplicate:
                if isinstance(eff.event, CartEvent):  # context only: read, never mutate
                    cart_slots.append(i)
                    calls.append(("HGETALL", self.keys.cart(eff.event.user_id)))
                continue
            new_calls = self._calls_for(eff.event, now_ms)
            if isinstance(eff.event, CartEvent):
                cart_slots.append(i)
            elif self._marks_done(new_calls):
                marked.add(i)
            calls.extend(new_calls)
        results = await self.runner.run(calls)

        cart_results = iter(r for r, c in zip(results, calls, strict=True) if _is_cart_read(c))
        co_adds: list[Call] = []
        for i in cart_slots:
            eff, result = effects[i], next(cart_results)
            assert isinstance(eff.event, CartEvent)
            pair, before = _cart_result(result, eff.event.item_id, eff.duplicate)
            eff.cart = before
            if pair and not eff.duplicate and eff.event.type == "add_to_cart" and before:
                partners = before[: self.settings.co_add_window]
                new_calls = self._pairs_calls(
                    eff.event.event_id,
                    eff.event.ts,
                    "c",
                    self.settings.cart_weight,
                    "star",
                    [eff.event.item_id, *partners],
                    [eff.event.item_id, *partners],
                    now_ms,
                    signal="c",
                )
                if self._marks_done(new_calls):
                    marked.add(i)
                co_adds.extend(new_calls)
        await self.runner.run(co_adds)

        ttl = int(self.settings.dedup_retention_days * 86400)
        await self.runner.run(
            [
                ("SET", done_keys[i], "1", "EX", ttl)
                for i in trackable
                if not effects[i].duplicate and i not in marked
            ]
        )
        return effects

    async def _mark_duplicates(
        self, effects: list[Effect], done_keys: list[str], slots: list[int]
    ) -> None:
        """Step 1: flag the events already fully applied, and check the state epoch. One
        MGET on a single Redis; one EXISTS per key on a cluster (keys in many slots)."""
        meta = ("HGET", self.keys.meta, "created")
        if self.settings.redis_cluster:
            *seen, epoch = await self.runner.run([*[("EXISTS", k) for k in done_keys], meta])
        elif done_keys:
            seen, epoch = await self.runner.run([("MGET", *done_keys), meta])
        else:
            seen, (epoch,) = [], await self.runner.run([meta])
        await self.check_epoch(epoch)
        for i, value in zip(slots, seen, strict=True):
            effects[i].duplicate = bool(value)

    def _marks_done(self, calls: list[Call]) -> bool:
        """True when ``calls`` hold a pair script that sets the event's done marker: on a
        single Redis every pair script does (see :meth:`_pairs_calls`)."""
        return not self.settings.redis_cluster and any(c[0] is APPLY_PAIRS for c in calls)

    async def read_epoch(self) -> str | None:
        """The state's epoch: meta 'created' (ms), written by the first purchase applied."""
        (epoch,) = await self.runner.run([("HGET", self.keys.meta, "created")])
        return None if epoch is None else str(epoch)

    async def check_epoch(self, epoch: str | None) -> bool:
        """Remember ``epoch``. When a state seen before is gone or replaced (Redis restarted
        without persistence, flushed, failed over to an empty replica), log an ERROR and
        record the loss in the meta hash (``xsell status`` reports it until ``xsell
        rebuild``); returns True then."""
        previous, self.epoch = self.epoch, epoch
        if previous is None or epoch == previous:
            return False
        self.state_losses += 1
        log.error(
            "Redis state lost: namespace %r at %s had state created %s, now %s. Redis "
            "restarted without persistence, was flushed or failed over to an empty replica? "
            "Suggestions fall back to popular items until it is rebuilt: `xsell rebuild` "
            "(replays the Kafka topics) or `xsell rebuild --file ORDERS` "
            "(docs/reliability.md)",
            self.settings.key_namespace,
            self.runner.where,
            epoch_text(previous),
            epoch_text(epoch) if epoch else "no state",
        )
        await self.mark_lost(previous)
        return True

    async def mark_lost(self, previous: str) -> None:
        """Record (once per lost epoch) that the state of epoch ``previous`` was lost."""
        (known,) = await self.runner.run([("HGET", self.keys.meta, "lost_epoch")])
        if known != previous or previous == "unknown":
            await self.runner.run(
                [
                    (
                        "HSET",
                        self.keys.meta,
                        "lost_at",
                        int(time.time() * 1000),
                        "lost_epoch",
                        previous,
                    )
                ]
            )

    def _calls_for(self, event: Event, now_ms: int) -> list[Call]:
        k, s = self.keys, self.settings
        if isinstance(event, CartEvent):
            op = "add" if event.type == "add_to_cart" else "remove"
            return [
                (
                    CART_UPDATE,
                    [k.cart(event.user_id)],
                    [
                        op,
                        event.item_id,
                        _num(event.ts),
                        event.event_id,
                        s.cart_ttl_seconds,
                        s.max_cart_items,
                    ],
                )
            ]
        if isinstance(event, PurchaseEvent):
            items = event.distinct_items()
            calls: list[Call] = []
            if event.user_id is not None:
                calls.append(
                    (
                        PURCHASE_USER,
                        [k.cart(event.user_id), k.history(event.user_id)],
                        [_num(event.ts), *items],
                    )
                )
            # popularity before the pairs: on a single Redis the pairs call marks the event
            # done, so everything else of the event must already be applied by then
            calls.append(
                (
                    APPLY_POPULARITY,
                    [k.popularity, k.meta, k.global_markers],
                    [
                        "o:" + event.event_id,
                        _num(event.ts),
                        _num(s.half_life_seconds),
                        now_ms,
                        s.dedup_window_seconds * 1000,
                        *items,
                    ],
                )
            )
            paired = items[: s.max_items_per_order]
            if len(paired) >= 2:
                calls.extend(
                    self._pairs_calls(
                        event.event_id,
                        event.ts,
                        "o",
                        1.0,
                        "all",
                        paired,
                        paired,
                        now_ms,
                        signal="p",
                    )
                )
            return calls
        if isinstance(event, CatalogItem):
            return [("HSET", k.catalog, event.item_id, catalog_json(event))]
        if isinstance(event, ForgetUser):
            return [("DEL", k.cart(event.user_id), k.history(event.user_id))]
        raise TypeError(f"unknown event {type(event).__name__}")

    def _pairs_calls(
        self,
        event_id: str,
        ts: float,
        stream: str,
        base: float,
        mode: str,
        targets: list[str],
        partners: list[str],
        now_ms: int,
        *,
        signal: str,
    ) -> list[Call]:
        """APPLY_PAIRS calls for one event. On a single Redis: one atomic call with every
        target that also marks the event done (its done key is the call's marker). On a
        cluster, where a script's keys must share a slot: one call per target, marked in
        the target's marker zset for ``dedup_window_seconds``."""
        s = self.settings
        head: list[Any] = [
            f"{stream}:{event_id}",
            _num(ts),
            _num(s.half_life_seconds),
            _num(base),
            s.max_neighbors,
            now_ms,
        ]
        if not s.redis_cluster:
            keys = [
                self.keys.done(stream, event_id),
                *[key for t in targets for key in self.keys.item(t).for_signal(signal)],
            ]
            life = int(s.dedup_retention_days * 86400 * 1000)
            listed = [0] if targets == partners else [len(targets), *targets]
            return [(APPLY_PAIRS, keys, [*head, life, "done", mode, *listed, *partners])]
        return [
            (
                APPLY_PAIRS,
                [self.keys.item(t).markers, *self.keys.item(t).for_signal(signal)],
                [*head, s.dedup_window_seconds * 1000, "window", mode, 1, t, *partners],
            )
            for t in targets
        ]

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


# meta fields that are bookkeeping (state epochs, an unfinished bulk load), not model state
META_BOOKKEEPING = ("created", "lost_at", "lost_epoch", "rebuilt_at", "bulk_started")


def epoch_text(epoch: str | None) -> str:
    """An epoch (ms since 1970) as RFC 3339 UTC, for logs and ``xsell status``."""
    if epoch is None:
        return "never"
    when = datetime.fromtimestamp(float(epoch) / 1000, UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def _event_id(event: Event) -> str:
    return event.item_id if isinstance(event, CatalogItem) else event.event_id


def _num(x: float) -> str:
    return repr(float(x))


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
