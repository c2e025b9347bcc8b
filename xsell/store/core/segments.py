"""Shoppers' segments (models/segments.py): per-user counters and the spend histogram.

A purchase by a known user adds one :data:`SEGMENT_ORDER` call to the apply's second round
trip (the user's slot: orders, total spend, the histogram bucket of the total) and, when the
bucket changed, one :data:`SPEND_MOVE` to its third (the ``{g}`` slot: the shopper moves from
the old bucket to the new one). Each is guarded by a marker like the other non-idempotent
scripts (xsell/store/core/guards.py): the user's own guard zset, and the ``{g}`` one. A
redelivered purchase whose first attempt died between the two round trips finds its user
marker and skips the move: the histogram may then miss one shopper's move (a sketch; the
counters themselves are exact). Nothing is added to a cart event's writes.

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
    SegmentState,
    order_spend,
)
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import lua_script, number_arg
from xsell.store.core.keys import Keys

ATTRIBUTE_PREFIX = "a:"

SEGMENT_ORDER = lua_script(
    "segment_order",
    """
-- KEYS[1] the user's segment hash (o orders, s total spend, b its histogram bucket, a:NAME
--   profile attributes), KEYS[2] the user's guard zset (marker -> until ms).
-- ARGV[1] marker, ARGV[2] now (ms), ARGV[3] the marker's pending until (ms), ARGV[4] the
-- order's spend, ARGV[5] the hash's lifetime after this order (s).
-- returns: {old bucket (-1: none, a first order), new bucket} when counted now, {} when the
-- marker was already there (a redelivery: counted before).
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
local fresh = redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1]) == 1
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
if not fresh then return {} end
local old = tonumber(redis.call('HGET', KEYS[1], 'b')) or -1
local spend = tonumber(redis.call('HINCRBYFLOAT', KEYS[1], 's', ARGV[4]))
redis.call('HINCRBY', KEYS[1], 'o', 1)
local b = 0
if spend >= 1 then
  b = math.min(@MAX@, math.floor(math.log(spend) / math.log(2) * @PER@))
end
redis.call('HSET', KEYS[1], 'b', b)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {old, b}
""".replace("@MAX@", str(MAX_BUCKET)).replace("@PER@", str(BUCKETS_PER_DOUBLING)),
)

FORGET_SEGMENT = lua_script(
    "forget_segment",
    """
-- KEYS[1] the user's segment hash, KEYS[2] the user's guard zset. ARGV[1] the marker of the
-- move that follows (not used here). Deletes both (forget_user).
-- returns: the bucket the user was counted in, -1 when none.
local b = tonumber(redis.call('HGET', KEYS[1], 'b')) or -1
redis.call('DEL', KEYS[1], KEYS[2])
return b
""",
)

SPEND_MOVE = lua_script(
    "spend_move",
    """
-- KEYS[1] the spend histogram (bucket -> shoppers), KEYS[2] the {g} guard zset.
-- ARGV[1] marker, ARGV[2] the marker's pending until (ms), ARGV[3] the bucket the shopper
-- leaves (-1: none), ARGV[4] the bucket they enter (-1: none, forgotten).
-- returns: 1 when moved now, 0 when the marker was already applied.
if redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
if tonumber(ARGV[3]) >= 0 and redis.call('HINCRBY', KEYS[1], ARGV[3], -1) <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[3])
end
if tonumber(ARGV[4]) >= 0 then redis.call('HINCRBY', KEYS[1], ARGV[4], 1) end
return 1
""",
)


def order_call(keys: Keys, settings: Settings, event: PurchaseEvent, now_ms: int) -> Call:
    """SEGMENT_ORDER of a known user's purchase."""
    assert event.user_id is not None
    pending = now_ms + settings.learning.dedup_pending_seconds * 1000
    return (
        SEGMENT_ORDER,
        [keys.segment(event.user_id), keys.user_markers(event.user_id)],
        [
            f"o:{event.event_id}",
            now_ms,
            pending,
            number_arg(order_spend(event.items)),
            settings.learning.history_ttl_days * 86400,
        ],
    )


def forget_call(keys: Keys, user_id: str, event_id: str) -> Call:
    """FORGET_SEGMENT of a forget_user event (ARGV[1], unused by the script, is the marker
    of the SPEND_MOVE that takes the user out of the histogram)."""
    return (FORGET_SEGMENT, [keys.segment(user_id), keys.user_markers(user_id)], [f"f:{event_id}"])


def move_calls(
    keys: Keys, settings: Settings, calls: Sequence[Call], answers: Sequence[Any], now_ms: int
) -> list[Call]:
    """The SPEND_MOVE calls that follow the segment calls among ``calls`` (answered by
    ``answers``): one per shopper whose bucket changed."""
    pending = now_ms + settings.learning.dedup_pending_seconds * 1000
    out: list[Call] = []
    for call, answer in zip(calls, answers, strict=True):
        if call[0] is SEGMENT_ORDER and answer:
            old, new = int(answer[0]), int(answer[1])
        elif call[0] is FORGET_SEGMENT:
            old, new = int(answer), -1
        else:
            continue
        if old != new:
            marker = f"{call[2][0]}:s"
            out.append(
                (
                    SPEND_MOVE,
                    [keys.spend_histogram, keys.global_markers],
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
