"""Exactly-once at any age with bounded memory: input positions, done keys and guard markers.

An apply (:meth:`xsell.store.core.apply.EventStore.apply`) keeps three kinds of bookkeeping:

- **positions** (``{g}:pos``): per input source (``topic:partition`` of a Kafka record,
  ``load:DIGEST`` of a history load) the last offset applied, moved forward by :data:`COMMIT`
  in the apply's last round trip, after all its effects. A record at or below its source's
  position is a redelivery, at any age, and changes nothing. Only for a record younger than
  the dedup horizon is the position not enough (see :func:`is_redelivery`): its done key must
  exist then, else the topic was recreated (a broker that lost its log starts again at
  offset 0) and the record is new.
- **done keys** (``{e:S:EVENT}``): kept ``dedup_horizon_seconds``; they absorb a producer's
  duplicate send (the same event at another offset) and a late second worker.
- **guard markers**: zsets of marker -> until (ms) that keep the non-idempotent scripts of a
  batch from applying twice when the batch dies half-way: ``{g}:m`` (popularity), ``{g}:mp``
  (pairs, single Redis), ``{i:ITEM}:m`` (pairs, Redis Cluster), ``{k}:m`` (category counts),
  ``{r:DAY}:m`` (report counters), ``{u:USER}:m`` (segment counters, a purchase's followed-by
  answer: its memo ``{u:USER}:fm`` lives until the commit), ``{g}:ms`` (the spend
  histogram's moves, Redis Cluster only). A marker is written *pending* (until now +
  ``dedup_pending_seconds``) and the commit re-scores it to now + ``dedup_window_seconds``
  (ZADD XX), after which it is dropped.
  So a batch's markers survive until the batch is committed, however late it is redelivered
  (bounded by the pending lifetime), and a crash leaves at most one batch's worth of
  long-lived markers, which the redelivered batch's commit re-scores.

Memory is then bounded by traffic over the horizon (done keys) plus a window's worth of guard
markers, not by traffic since the start (docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from xsell.config.settings import Settings
from xsell.store.attribution.lua import COUNT
from xsell.store.backend.client import Call
from xsell.store.core.category_lua import APPLY_CATEGORIES
from xsell.store.core.follow_lua import FOLLOW_USER
from xsell.store.core.keys import Keys
from xsell.store.core.lua import APPLY_PAIRS, APPLY_POPULARITY, COMMIT, COMMIT_GUARD
from xsell.store.core.rebuy import REBUY_LEARN
from xsell.store.core.segments import SEGMENT_ORDER, SPEND_MOVE


@dataclass(frozen=True, slots=True)
class Position:
    """Where an event came from: its source and offset there, and when the record was
    written (s; None: unknown, the position alone decides)."""

    source: str
    offset: int
    ts: float | None = None


def is_redelivery(
    position: Position | None, committed: int | None, now: float, horizon: float
) -> bool:
    """True when ``position`` was applied before: at or below its source's committed offset
    and older than the horizon (a younger record applied before still has its done key,
    which the caller checks; without one it is new: its topic was recreated)."""
    if position is None or committed is None or position.offset > committed:
        return False
    return position.ts is None or position.ts < now - horizon


def source_positions(positions: Iterable[Position | None]) -> dict[str, int]:
    """The highest offset of each source among ``positions`` (what a commit records)."""
    out: dict[str, int] = {}
    for p in positions:
        if p is not None and p.offset > out.get(p.source, -1):
            out[p.source] = p.offset
    return out


def parse_offset(value: Any) -> int | None:
    return None if value is None else int(value)


def guard_of(call: Call) -> tuple[str, str] | None:
    """(guard zset, marker) of a guarded script call, else None."""
    if call[0] is APPLY_PAIRS or call[0] is APPLY_CATEGORIES or call[0] is REBUY_LEARN:
        return str(call[1][0]), str(call[2][0])
    if call[0] is APPLY_POPULARITY or call[0] is COUNT:
        return str(call[1][2]), str(call[2][0])
    if call[0] is SEGMENT_ORDER or call[0] is SPEND_MOVE:
        return str(call[1][1]), str(call[2][0])
    if call[0] is FOLLOW_USER:
        return str(call[1][2]), str(call[2][0])
    return None


class Guards:
    """The guard markers an apply wrote (or found), to commit in its last round trip."""

    def __init__(self, keys: Keys, settings: Settings) -> None:
        self.keys = keys
        self.settings = settings
        self.markers: dict[str, list[str]] = {}

    def note(self, calls: Sequence[Call]) -> None:
        for call in calls:
            guard = guard_of(call)
            if guard is not None:
                self.markers.setdefault(guard[0], []).append(guard[1])

    def commit_calls(self, positions: dict[str, int], now_ms: int) -> list[Call]:
        """COMMIT of the positions and the {g} slot's guards, a ZADD XX of each cluster item's
        markers and a COMMIT_GUARD of each report day's: markers kept for the window."""
        learning = self.settings.learning
        keep = now_ms + learning.dedup_window_seconds * 1000
        central = (self.keys.global_markers, self.keys.pair_guards)
        here = [k for k in central if k in self.markers]
        calls: list[Call] = []
        if positions or here:
            args: list[Any] = [now_ms, keep, learning.dedup_pending_seconds * 1000]
            args += [len(positions), *[x for kv in sorted(positions.items()) for x in kv]]
            for key in here:
                args += [len(self.markers[key]), *self.markers[key]]
            calls.append((COMMIT, [self.keys.positions, *here], args))
        for key, markers in self.markers.items():
            if key in central:
                continue
            if ":{i:" in key:  # a cluster's item markers: trimmed by the item's next write
                calls.append(("ZADD", key, "XX", *[x for m in markers for x in (keep, m)]))
            else:  # a report day's, the categories': the key lives as long as its latest
                calls.append((COMMIT_GUARD, [key], [now_ms, keep, *markers]))
        return calls
