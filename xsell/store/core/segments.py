"""Shoppers' segments (models/segments.py): per-user counters and the spend histogram.

A purchase by a known user adds one :data:`SEGMENT_ORDER` call to the apply's second round
trip (the user's slot: orders, total spend, the histogram bucket of the total) and, when the
bucket changed, the shopper moves from the old bucket to the new one of the histogram: in the
same script on a single Redis, by one :data:`SPEND_MOVE` in the apply's third round trip on a
cluster (the histogram's ``{g}`` slot is not the user's). Each is guarded by a marker like the
other non-idempotent scripts (xsell/store/core/guards.py): the user's own guard zset, and on a
cluster ``{g}:ms``. On a cluster, a redelivered purchase whose first attempt died between the
two round trips finds its user marker and skips the move: the histogram may then miss one
shopper's move (a sketch; the counters themselves are exact). Nothing is added to a cart
event's writes.

Ranking reads the segments with its first round trip (:func:`segment_reads`): one HGETALL per
user of the batch and one of the histogram. Profile attributes (the profiles topic) are
fields ``a:NAME`` of the same hash, so they come with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from xsell.config.settings import Settings
from xsell.models.events import PurchaseEvent
from xsell.models.segments import (
    BUCKETS_PER_DOUBLING,
    MAX_BUCKET,
    MAX_SPEND_HUNDREDTHS,
    SegmentState,
    order_spend,
    spend_hundredths,
)
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script
from xsell.store.core.keys import Keys

ATTRIBUTE_PREFIX = "a:"

_MOVE = """
local function move(h, old, new)
  if old == new then return end
  if old >= 0 and redis.call('HINCRBY', h, old, -1) <= 0 then redis.call('HDEL', h, old) end
  if new >= 0 then redis.call('HINCRBY', h, new, 1) end
end
"""

SEGMENT_ORDER = lua_script(
    "segment_order",
    _MOVE
    + """
-- KEYS[1] the user's segment hash (o orders, s total spend in hundredths, b its histogram
--   bucket, a:NAME
--   profile attributes), KEYS[2] the user's guard zset (marker -> until ms), KEYS[3] (single
--   Redis only) the spend histogram, moved here, atomically with the counters.
-- ARGV[1] marker, ARGV[2] now (ms), ARGV[3] the marker's pending until (ms), ARGV[4] the
-- order's spend in hundredths (an integer: sums stay exact), ARGV[5] the hash's lifetime after
-- this order (s). The total is capped at @CAP@ (exact in a double).
-- returns: {old bucket (-1: none, a first order), new bucket, 1 when KEYS[3] moved, the
-- orders before this one} when counted now, {} when the marker was already there (a
-- redelivery: counted before).
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
local fresh = redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1]) == 1
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
if not fresh then return {} end
local got = redis.call('HMGET', KEYS[1], 'b', 's', 'o')
local old = tonumber(got[1]) or -1
local total = math.min((tonumber(got[2]) or 0) + tonumber(ARGV[4]), @CAP@)
local spend = total / 100
local b = 0
if spend >= 1 then
  b = math.min(@MAX@, math.floor(math.log(spend) / math.log(2) * @PER@))
end
local orders = (tonumber(got[3]) or 0) + 1
redis.call('HSET', KEYS[1], 'o', orders, 's', string.format('%.0f', total), 'b', b)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
if #KEYS < 3 then return {old, b, 0, orders - 1} end
move(KEYS[3], old, b)
return {old, b, 1, orders - 1}
""".replace("@MAX@", str(MAX_BUCKET))
    .replace("@CAP@", str(MAX_SPEND_HUNDREDTHS))
    .replace("@PER@", str(BUCKETS_PER_DOUBLING)),
)

FORGET_SEGMENT = lua_script(
    "forget_segment",
    _MOVE
    + """
-- KEYS[1] the user's segment hash, KEYS[2] the user's guard zset, KEYS[3] (single Redis only)
-- the spend histogram, where the user's count is removed here. ARGV[1] the marker of the
-- SPEND_MOVE that removes it on a cluster (not used here). Deletes KEYS[1] and KEYS[2].
-- returns: {the bucket the user was counted in (-1: none), 1 when KEYS[3] moved}.
local b = tonumber(redis.call('HGET', KEYS[1], 'b')) or -1
redis.call('DEL', KEYS[1], KEYS[2])
if #KEYS < 3 then return {b, 0} end
move(KEYS[3], b, -1)
return {b, 1}
""",
)

SPEND_MOVE = lua_script(
    "spend_move",
    _MOVE
    + """
-- KEYS[1] the spend histogram (bucket -> shoppers), KEYS[2] its moves' guard zset.
-- ARGV[1] marker, ARGV[2] the marker's pending until (ms), ARGV[3] the bucket the shopper
-- leaves (-1: none), ARGV[4] the bucket they enter (-1: none, forgotten).
-- returns: 1 when moved now, 0 when the marker was already applied.
if redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
move(KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4]))
return 1
""",
)


def order_call(keys: Keys, settings: Settings, event: PurchaseEvent, now_ms: int) -> Call:
    """SEGMENT_ORDER of a known user's purchase."""
    assert event.user_id is not None
    pending = now_ms + settings.learning.dedup_pending_seconds * 1000
    return (
        SEGMENT_ORDER,
        _user_keys(keys, settings, event.user_id),
        [
            f"o:{event.event_id}",
            now_ms,
            pending,
            spend_hundredths(order_spend(event.items)),
            settings.learning.history_ttl_days * 86400,
        ],
    )


def _user_keys(keys: Keys, settings: Settings, user_id: str) -> list[str]:
    """KEYS of SEGMENT_ORDER and FORGET_SEGMENT: the user's, and on a single Redis the
    histogram (moved in the same script; a cluster moves it with SPEND_MOVE in the next
    round trip, as its slot differs)."""
    mine = [keys.segment(user_id), keys.user_markers(user_id)]
    return mine if settings.redis.cluster else [*mine, keys.spend_histogram]


def forget_call(keys: Keys, settings: Settings, user_id: str, event_id: str) -> Call:
    """FORGET_SEGMENT of a forget_user event."""
    return (FORGET_SEGMENT, _user_keys(keys, settings, user_id), [f"f:{event_id}"])


def move_calls(
    keys: Keys, settings: Settings, calls: Sequence[Call], answers: Sequence[Any], now_ms: int
) -> list[Call]:
    """The SPEND_MOVE calls that follow the segment calls among ``calls`` (answered by
    ``answers``) on a cluster: one per shopper whose bucket changed and was not moved by the
    segment script itself (a single Redis moves it there)."""
    pending = now_ms + settings.learning.dedup_pending_seconds * 1000
    out: list[Call] = []
    for call, answer in zip(calls, answers, strict=True):
        if call[0] is SEGMENT_ORDER and answer:
            old, new, moved = (int(x) for x in answer[:3])
        elif call[0] is FORGET_SEGMENT:
            old, new, moved = int(answer[0]), -1, int(answer[1])
        else:
            continue
        if old != new and not moved:
            marker = f"{call[2][0]}:s"
            out.append(
                (
                    SPEND_MOVE,
                    [keys.spend_histogram, keys.spend_markers],
                    [marker, pending, old, new],
                )
            )
    return out


def attribute_call(keys: Keys, user_id: str, attributes: Mapping[str, str | None]) -> list[Call]:
    """Store a user's profile attributes (None: removed) in their segment hash."""
    k = keys.segment(user_id)
    gone = [ATTRIBUTE_PREFIX + n for n, v in attributes.items() if v is None]
    kept = [x for n, v in attributes.items() if v is not None for x in (ATTRIBUTE_PREFIX + n, v)]
    return [*([("HDEL", k, *gone)] if gone else []), *([("HSET", k, *kept)] if kept else [])]


def segment_reads(keys: Keys, users: Sequence[str]) -> list[Call]:
    """The reads of ``users``' segments: their hashes, then the histogram (none: no user)."""
    if not users:
        return []
    return [*[("HGETALL", keys.segment(u)) for u in users], ("HGETALL", keys.spend_histogram)]


def parse_segments(
    users: Sequence[str], replies: Sequence[Any]
) -> tuple[dict[str, SegmentState], dict[int, int]]:
    """The answers of :func:`segment_reads`: each user's state (absent: nothing stored) and
    the histogram."""
    if not users:
        return {}, {}
    states = {u: state_of(r) for u, r in zip(users, replies, strict=False) if r}
    histogram = {int(b): int(n) for b, n in (replies[len(users)] or {}).items()}
    return states, histogram


def state_of(fields: Mapping[str, str]) -> SegmentState:
    """A user's stored segment hash as a :class:`SegmentState`."""
    attributes = {
        k[len(ATTRIBUTE_PREFIX) :]: v for k, v in fields.items() if k.startswith(ATTRIBUTE_PREFIX)
    }
    bucket = fields.get("b")
    return SegmentState(
        int(fields.get("o", 0)), None if bucket is None else int(bucket), attributes
    )
