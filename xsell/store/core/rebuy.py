"""Buy again in the store (the policy: xsell/models/rebuy.py).

What it learns rides on followed-by (xsell/store/core/followed.py): FOLLOW_USER already reads
the user's history before PURCHASE_USER writes it, so it knows which of an order's items are
rebuys and since when; it returns the gaps too. The apply's third round trip then counts, with
one guarded :data:`REBUY_LEARN` per purchase (one per item on a cluster, in the item's slot),
each item's first purchases and rebuys and the sum of their gaps, in the item's followed-by
hash (``{i:ITEM}:fh``: fields B, R, S beside the landmark L; no new key, so ``rebuild`` and the
item's other followed-by state go together). Per-user state: none beyond the history.

Reads, folded into the ranking's statistics (xsell/store/core/reader.py): round trip 1 reads
each known user's history (HGETALL, at most XSELL_MAX_HISTORY_ITEMS), round trip 2 the
counters of their 100 newest owned items (HMGET, single-key: the same on a cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xsell.config.settings import Settings
from xsell.models.events import PurchaseEvent
from xsell.models.followed import FollowUp
from xsell.models.rebuy import RebuyStats, gap_seconds, mean_gap
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script
from xsell.store.core.keys import Keys, Stream
from xsell.store.core.lua import PRELUDE

REBUY_LEARN = lua_script(
    "rebuy_learn",
    PRELUDE
    + """
-- KEYS[1] the guard zset (single Redis: the namespace's pair guards; a cluster: the item's
--   markers), KEYS[1 + j] item j's followed-by hash (fields B first purchases, R rebuys,
--   S the rebuys' gaps in whole seconds: the mean gap is S / R).
-- ARGV[1] marker, ARGV[2] now (ms), ARGV[3] the marker's pending until (ms),
--   ARGV[3 + j] item j's gap since the buyer's previous purchase (whole s; -1: first).
-- Drops the guard's markers that expired (a cluster's item markers have no other trim).
-- returns: the items counted now, 0 when the marker was applied before.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
if not first_time(KEYS[1], ARGV[1], tonumber(ARGV[3])) then return 0 end
for j = 2, #KEYS do
  local gap = tonumber(ARGV[2 + j])
  if gap < 0 then
    redis.call('HINCRBY', KEYS[j], 'B', 1)
  else
    redis.call('HINCRBY', KEYS[j], 'R', 1)
    redis.call('HINCRBY', KEYS[j], 'S', gap)
  end
end
return #KEYS - 1
""",
)


def rebuy_calls(
    keys: Keys, settings: Settings, event: PurchaseEvent, follow: FollowUp, now_ms: int
) -> list[Call]:
    """The guarded REBUY_LEARN calls of one purchase's items (its first purchases and
    rebuys, as FOLLOW_USER told them apart)."""
    items = [*follow.first, *follow.rebuys]
    if not items:
        return []
    pending = now_ms + settings.learning.dedup_pending_seconds * 1000
    marker = f"{Stream.ORDERS}:{event.event_id}:rb"
    head: list[Any] = [marker, now_ms, pending]
    gaps = [gap_seconds(follow.gaps[i]) if i in follow.gaps else -1 for i in items]
    if not settings.redis.cluster:
        hashes = [keys.item(i).followed_info for i in items]
        return [(REBUY_LEARN, [keys.pair_guards, *hashes], [*head, *gaps])]
    return [
        (REBUY_LEARN, [keys.item(i).markers, keys.item(i).followed_info], [*head, gap])
        for i, gap in zip(items, gaps, strict=True)
    ]


def stats_reads(keys: Keys, items: Sequence[str]) -> list[Call]:
    """One HMGET of B, R, S per item (single-key)."""
    return [("HMGET", keys.item(i).followed_info, "B", "R", "S") for i in items]


def parse_stats(items: Sequence[str], replies: Sequence[Any]) -> dict[str, RebuyStats]:
    """item -> its counters, for the items with any rebuy."""
    out: dict[str, RebuyStats] = {}
    for item, (b, r, s) in zip(items, replies, strict=True):
        if r is not None and s is not None:
            out[item] = RebuyStats(float(b or 0), float(r), mean_gap(float(s), float(r)))
    return out
