"""The category back-off's counts (models/categories.py): learnt from every order with
categories, one script call per order (APPLY_CATEGORIES), and read for a ranking batch in one
call (READ_CATEGORIES). The order's categories come from the catalogue, read once per batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from xsell.config.settings import Settings
from xsell.models.categories import order_categories
from xsell.models.events import CatalogItem, Event, PurchaseEvent
from xsell.models.inputs import CategoryData
from xsell.store.backend.client import Call, Runner
from xsell.store.backend.scripts import number_arg
from xsell.store.core.category_lua import APPLY_CATEGORIES, READ_CATEGORIES
from xsell.store.core.guards import Guards
from xsell.store.core.keys import Keys, Stream
from xsell.store.core.lua import APPLY_PAIRS

LEARN_ORDERS_PER_ROUND_TRIP = 1000  # orders per pipelined round trip of a bulk load


def category_of_json(raw: str | None) -> str | None:
    """The category of a stored catalogue entry (None: no entry, or none set)."""
    if raw is None:
        return None
    category = json.loads(raw).get("category")
    return str(category) if category else None


def purchased_items(events: Sequence[Event]) -> list[str]:
    """The distinct items of a batch's purchases (sorted), whose categories the batch needs."""
    return sorted({i for e in events if isinstance(e, PurchaseEvent) for i in e.distinct_items()})


def catalog_read(keys: Keys, items: Sequence[str]) -> Call:
    """The read of ``items``' catalogue entries (one HMGET, in the batch's first round trip)."""
    return ("HMGET", keys.catalog, *items)


def categories_in_batch(
    items: Sequence[str], raw: Sequence[str | None], events: Sequence[Event]
) -> dict[str, dict[str, str | None]]:
    """Per purchase event id, the category of each of its items: the stored catalogue, with
    the batch's own catalogue updates applied in event order before each purchase."""
    current: dict[str, str | None] = {
        i: category_of_json(r) for i, r in zip(items, raw, strict=True)
    }
    out: dict[str, dict[str, str | None]] = {}
    for event in events:
        if isinstance(event, CatalogItem):
            current[event.item_id] = event.category or None
        elif isinstance(event, PurchaseEvent):
            out[event.event_id] = {i: current.get(i) for i in event.distinct_items()}
    return out


def category_call(
    keys: Keys,
    settings: Settings,
    event: PurchaseEvent,
    category_of: Mapping[str, str | None],
    now_ms: int,
) -> Call | None:
    """The APPLY_CATEGORIES call of one order (None when none of its items has a category)."""
    s = settings.learning
    per = order_categories(event.distinct_items()[: s.max_items_per_order], category_of)
    if not per:
        return None
    key_list = [keys.category_markers]
    args: list[Any] = [
        f"{Stream.ORDERS}:{event.event_id}",
        number_arg(event.ts),
        number_arg(s.half_life_seconds),
        now_ms,
        now_ms + s.dedup_pending_seconds * 1000,
        s.max_neighbors,
        len(per),
    ]
    for cat in sorted(per):
        key_list += keys.category(cat).all()
        args += [len(per[cat]), *per[cat]]
    return (APPLY_CATEGORIES, key_list, args)


def before_pairs(calls: list[Call], learn: Call | None) -> list[Call]:
    """An order's calls with its category call before its pair calls: on a single Redis the
    pair call marks the event done, so everything else of the event must come first."""
    if learn is None:
        return calls
    at = next((n for n, c in enumerate(calls) if c[0] is APPLY_PAIRS), len(calls))
    return [*calls[:at], learn, *calls[at:]]


async def learn_orders(
    runner: Runner, keys: Keys, settings: Settings, orders: Sequence[PurchaseEvent], now_ms: int
) -> int:
    """The category counts of ``orders`` (in the given time order), as streaming them would
    leave them: for a bulk load, which writes the item counts directly. Returns the calls."""
    items = purchased_items(orders)
    if not items:
        return 0
    (raw,) = await runner.run([catalog_read(keys, items)])
    category_of = {i: category_of_json(r) for i, r in zip(items, raw, strict=True)}
    if not any(category_of.values()):
        return 0
    sent = 0
    for lo in range(0, len(orders), LEARN_ORDERS_PER_ROUND_TRIP):
        calls = [
            c
            for o in orders[lo : lo + LEARN_ORDERS_PER_ROUND_TRIP]
            if (c := category_call(keys, settings, o, category_of, now_ms)) is not None
        ]
        if calls:
            guards = Guards(keys, settings)
            guards.note(calls)
            await runner.run([*calls, *guards.commit_calls({}, now_ms)])
            sent += len(calls)
    return sent


def _number(x: Any) -> float:
    return float(x) if x is not None else 0.0


async def read_categories(
    runner: Runner, keys: Keys, categories: Sequence[str], top: int
) -> dict[str, CategoryData]:
    """The counts of ``categories`` and each one's ``top`` items bought with it (one call)."""
    if not categories:
        return {}
    key_list = [k for c in categories for k in (keys.category(c).items, keys.category(c).info)]
    (reply,) = await runner.run([(READ_CATEGORIES, key_list, [top])])
    out: dict[str, CategoryData] = {}
    for cat, (land, n, flat) in zip(categories, reply, strict=True):
        members = flat[::2] if not flat or not isinstance(flat[0], list | tuple) else None
        if members is None:
            parsed = ([m for m, _ in flat], [float(v) for _, v in flat])
        else:
            parsed = (members, [float(v) for v in flat[1::2]])
        out[cat] = CategoryData(_number(land), _number(n), parsed)
    return out
