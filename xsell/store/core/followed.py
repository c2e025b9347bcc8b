"""Followed-by in the store (the signal: xsell/models/followed.py).

A purchase of a known user costs one more script call in the apply's second round trip,
:data:`~xsell.store.core.follow_lua.FOLLOW_USER` on the user's slot, sent just before
PURCHASE_USER (which updates the history it reads): it returns the items the user bought in an
earlier order within the window and which of the order's items are rebuys, and keeps the user's
window (``{u:USER}:fw``: item -> last purchase ts, the newest ``max_recent_items``, expiring a
window after the last order; deleted by ``forget_user``). The apply's third round trip, which
exists for the co-adds, then counts the follow-ups with :data:`~xsell.store.core.lua.APPLY_PAIRS`
(kind 'window': guarded by a marker of its own, since the purchase's pairs call sets the
event's done key): targets are the earlier items, partners the order's first purchases
(``{i:A}:f``) or rebuys (``{i:A}:fr``), pruned to ``max_neighbors`` like the co-purchase
partners, with a landmark of their own (``{i:A}:fh``). A purchase's pairs are held to that
round trip too, after the follow-ups, so the done key is set last.

Exactly once. FOLLOW_USER's answer depends on the window and history it reads, which its own
run (and the purchase's PURCHASE_USER) change; so it runs once per purchase: guarded by a
marker in the user's guard zset (``{u:USER}:m``, :func:`memo_field`), it keeps its answer in
the user's memo (``{u:USER}:fm``) and a redelivered purchase (a batch that died before its
commit) gets the same answer back, hence the same follow-up and buy-again calls, whose own
markers count them once. The commit deletes the batch's memo entries (:func:`memo_drops`); the
marker stays for the dedup window, like the other guards. While the Redis state is lost and
not rebuilt, no followed-by is learnt (xsell/store/core/epoch.py); a rebuild then learns it for
every replayed order with :func:`learn_follow_ups`, as a bulk load does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from xsell.config.settings import Settings
from xsell.models.events import Event, PurchaseEvent
from xsell.models.followed import FollowUp, UserWindows
from xsell.store.backend.client import Call, Runner
from xsell.store.backend.scripts import number_arg
from xsell.store.core.follow_lua import FOLLOW_USER
from xsell.store.core.guards import Guards
from xsell.store.core.keys import Keys, Stream
from xsell.store.core.lua import APPLY_PAIRS
from xsell.store.core.rebuy import rebuy_calls

FOLLOW_UPS_PER_ROUND_TRIP = 500  # a bulk load's follow-up calls per pipelined round trip


def window_seconds(settings: Settings) -> float:
    return settings.learning.followed_window_days * 86400.0


def user_call(keys: Keys, settings: Settings, event: PurchaseEvent, now_ms: int) -> Call | None:
    """The purchase's FOLLOW_USER call (before its PURCHASE_USER); None for a guest or with
    followed-by off."""
    learning = settings.learning
    if event.user_id is None or learning.followed_window_days <= 0:
        return None
    user = event.user_id
    return (
        FOLLOW_USER,
        [keys.recent(user), keys.history(user), keys.user_markers(user), keys.follow_memo(user)],
        [
            memo_field(event),
            now_ms,
            now_ms + learning.dedup_pending_seconds * 1000,
            number_arg(event.ts),
            number_arg(window_seconds(settings)),
            learning.max_recent_items,
            *event.distinct_items(),
        ],
    )


def memo_field(event: PurchaseEvent) -> str:
    """The purchase's FOLLOW_USER marker (in the user's guard zset) and memo field."""
    return f"{Stream.ORDERS}:{event.event_id}:fu"


def memo_drops(keys: Keys, events: Sequence[Event]) -> list[Call]:
    """The commit's HDEL of the batch's FOLLOW_USER memo entries (one per buyer), applied or
    found applied: the memo is only needed until the batch is committed."""
    fields: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, PurchaseEvent) and e.user_id is not None:
            fields.setdefault(keys.follow_memo(e.user_id), []).append(memo_field(e))
    return [("HDEL", key, *names) for key, names in fields.items()]


def parse_follow_up(event: PurchaseEvent, answer: Any, cap: int) -> FollowUp:
    """A FOLLOW_USER answer as a follow-up: at most ``cap`` earlier items (the most recent:
    an order of n items after m earlier ones is n x m increments) and the order's first
    items up to the same cap, as the purchase's pairs take."""
    earlier, rebuys = list(answer[0]), set(answer[1])
    gaps = dict(zip(answer[1], map(float, answer[2]), strict=True)) if len(answer) > 2 else {}
    items = event.distinct_items()[:cap]
    return FollowUp(
        earlier[:cap],
        [i for i in items if i not in rebuys],
        [i for i in items if i in rebuys],
        {i: g for i, g in gaps.items() if i in items},
    )


def follow_calls(
    keys: Keys, settings: Settings, event: PurchaseEvent, follow: FollowUp, now_ms: int
) -> list[Call]:
    """APPLY_PAIRS calls counting one purchase's follow-ups: first purchases, then rebuys, each
    guarded by its own marker (single Redis: the namespace's pair guards, one call with every
    target; a cluster: the target's markers, one call per target)."""
    learning = settings.learning
    if not follow.earlier:
        return []
    pending = now_ms + learning.dedup_pending_seconds * 1000
    life = learning.dedup_pending_seconds * 1000
    calls: list[Call] = []
    for tag, first, partners in (("f", True, follow.first), ("r", False, follow.rebuys)):
        if not partners:
            continue
        head: list[Any] = [
            f"{Stream.ORDERS}:{event.event_id}:{tag}",
            number_arg(event.ts),
            number_arg(learning.half_life_seconds),
            number_arg(1.0),
            learning.max_neighbors,
            now_ms,
            pending,
            "window",
            life,
            "all",
        ]
        if not settings.redis.cluster:
            target_keys = [k for a in follow.earlier for k in keys.item(a).for_follow(first)]
            calls.append(
                (
                    APPLY_PAIRS,
                    [keys.pair_guards, keys.pair_guards, *target_keys],
                    [*head, len(follow.earlier), *follow.earlier, *partners],
                )
            )
            continue
        for a in follow.earlier:
            marker = keys.item(a).markers
            calls.append(
                (
                    APPLY_PAIRS,
                    [marker, marker, *keys.item(a).for_follow(first)],
                    [*head, 1, a, *partners],
                )
            )
    return calls


async def learn_follow_ups(
    runner: Runner, keys: Keys, settings: Settings, orders: Sequence[PurchaseEvent], now_ms: int
) -> int:
    """The followed-by state of ``orders`` (in the given time order) as streaming them would
    leave it, for a bulk load (which writes the histories directly) and a rebuild of a lost
    state (whose applies learnt none): each order's follow-ups through the streaming script,
    then the users' windows; an event id met again is skipped, as streaming skips a duplicate.
    Returns the follow-up calls."""
    learning = settings.learning
    if learning.followed_window_days <= 0:
        return 0
    windows = UserWindows(
        window_seconds(settings), learning.max_recent_items, learning.max_history_items
    )
    cap, sent, calls = learning.max_items_per_order, 0, []
    seen: set[str] = set()  # a repeated event is a duplicate delivery: streaming skips it
    for order in orders:
        if order.user_id is None or order.event_id in seen:
            continue
        seen.add(order.event_id)
        items = order.distinct_items()
        follow = windows.purchase(order.user_id, items, order.ts)
        answer = (follow.earlier, follow.rebuys, [follow.gaps[i] for i in follow.rebuys])
        parsed = parse_follow_up(order, answer, cap)
        calls += follow_calls(keys, settings, order, parsed, now_ms)
        calls += rebuy_calls(keys, settings, order, parsed, now_ms)
        if len(calls) >= FOLLOW_UPS_PER_ROUND_TRIP:
            sent += await _send_guarded(runner, keys, settings, calls, now_ms)
            calls = []
    sent += await _send_guarded(runner, keys, settings, calls, now_ms)
    life = max(1, math.ceil(window_seconds(settings)))
    for user, window in windows.windows.items():
        if window:
            key = keys.recent(user)
            flat = [x for item, ts in window.items() for x in (number_arg(ts), item)]
            await runner.run([("ZADD", key, *flat), ("EXPIRE", key, life)])
    return sent


async def _send_guarded(
    runner: Runner, keys: Keys, settings: Settings, calls: list[Call], now_ms: int
) -> int:
    """Run ``calls`` with their guard markers committed (as an apply's last round trip)."""
    if not calls:
        return 0
    guards = Guards(keys, settings)
    guards.note(calls)
    await runner.run([*calls, *guards.commit_calls({}, now_ms)])
    return len(calls)


def is_follow_user(call: Call) -> bool:
    return call[0] is FOLLOW_USER


async def read_followed(
    runner: Runner, keys: Keys, anchors: Sequence[str], per_anchor: int
) -> dict[str, tuple[float, list[tuple[str, float]]]]:
    """Per anchor that has any: (landmark of its follow-ups, its top ``per_anchor`` first-time
    follow-ups with their weights as stored), in one round trip (single-key commands: the same
    on a cluster)."""
    calls: list[Call] = []
    for a in anchors:
        item = keys.item(a)
        calls.append(("ZRANGE", item.followed, 0, per_anchor - 1, "REV", "WITHSCORES"))
        calls.append(("HGET", item.followed_info, "L"))
    if not calls:
        return {}
    answers = await runner.run(calls)
    out: dict[str, tuple[float, list[tuple[str, float]]]] = {}
    for n, a in enumerate(anchors):
        flat, landmark = answers[2 * n], answers[2 * n + 1]
        pairs = _pairs(flat)
        if pairs:
            out[a] = (float(landmark) if landmark is not None else 0.0, pairs)
    return out


def _pairs(reply: list[Any]) -> list[tuple[str, float]]:
    """(member, score) of a WITHSCORES reply (flat, or already paired by redis-py)."""
    if reply and isinstance(reply[0], list | tuple):
        return [(str(m), float(v)) for m, v in reply]
    return [(str(m), float(v)) for m, v in zip(reply[::2], reply[1::2], strict=True)]
