"""Bundles ("buy all three", GET /v1/items/{item_id}/bundle) in the attribution: a bundle the
API shows a user is kept in the user's ledger (BUNDLE_SHOWN) and counted as an impression of
the user's variant; a purchase whose lines carry its ``bundle_id`` counts, in the variant it was
shown in, as a full attach (the lines carrying the id hold every item of the bundle) or a
partial one, with the lines' revenue and, when full, the discount the bundle gave (list price -
bundle price, as shown). ATTRIBUTE does the purchase's side (lua.py, ``bundled``)."""

from __future__ import annotations

from typing import Any

from xsell.models.bundles import bundle_id
from xsell.models.events import PurchaseEvent
from xsell.store.attribution.lua import LEDGER_LUA
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script, number_arg
from xsell.store.core.keys import Keys

BUNDLE_SHOWN = lua_script(
    "bundle_shown",
    LEDGER_LUA
    + """
-- KEYS[1] the user's ledger hash, KEYS[2] its ages zset.
-- ARGV[1] bundle id, ARGV[2] ts (s), ARGV[3] window (s), ARGV[4] the ledger's most entries,
-- ARGV[5] variant, ARGV[6] list price ('' = unknown), ARGV[7] bundle price ('' = unknown).
-- Keeps the bundle shown (the latest showing) for the orders that carry its id.
-- returns: the user's pseudonym.
local ts, window = tonumber(ARGV[2]), tonumber(ARGV[3])
prune(ts, window, tonumber(ARGV[4]))
put('b' .. SEP .. ARGV[1], ts .. '|' .. ARGV[5] .. '|' .. ARGV[6] .. '|' .. ARGV[7], ts)
local pid = pseudonym(ARGV[1])
expire(window)
return pid
""",
)


def bundle_lines(event: PurchaseEvent) -> list[tuple[str, bool, float]]:
    """The bundles an order carries (lines with a ``bundle_id``): each id, whether its lines
    hold every item of the bundle (the id is the hash of the bundle's sorted item ids, so the
    lines' items give it back only when whole) and its lines' revenue."""
    items: dict[str, set[str]] = {}
    revenue: dict[str, float] = {}
    for line in event.items:
        if line.bundle_id:
            items.setdefault(line.bundle_id, set()).add(line.item_id)
            revenue[line.bundle_id] = revenue.get(line.bundle_id, 0.0) + (
                (line.price or 0.0) * line.quantity
            )
    return [(b, bundle_id(sorted(items[b])) == b, revenue[b]) for b in items]


def _price(value: Any) -> str:
    return "" if value is None else number_arg(float(value))


def bundle_shown_call(
    keys: Keys,
    answer: dict[str, Any],
    user_id: str,
    variant: str,
    ts: float,
    window: float,
    cap: int,
) -> Call:
    """BUNDLE_SHOWN of a bundle answer (docs/contract.md, "Bundles") shown to ``user_id``."""
    return (
        BUNDLE_SHOWN,
        keys.ledger(user_id),
        [
            answer["bundle_id"],
            number_arg(ts),
            number_arg(window),
            str(cap),
            variant,
            _price(answer.get("list_price")),
            _price(answer.get("bundle_price")),
        ],
    )
