"""Buy again: offer an item the user owns when the item is one its buyers buy again and the
user's own cycle is due (issue 21, "buy again, where items are bought again").

Learning (the store, xsell/store/core/rebuy.py): every purchase of an item by a known user
counts as a *first* purchase (the user's history did not hold it) or a *rebuy* (it did, and
the gap since the user's previous purchase of it is known). Per item: first purchases B,
rebuys R and the sum S of the gaps in whole seconds, so the mean gap is S / R. A sum of whole
numbers is the same whatever order the workers apply different buyers' purchases in (a
moving mean is not, and its state would depend on partitions and batch boundaries).

Policy (here, pure): an item is *repeatable* when its rebuys are a large enough share of its
known purchases, R / (B + R), with enough of them to trust the share; an owned repeatable item
is *due* when the time since the user last bought it is at least ``due_share`` of the item's
mean gap. Durables (a phone, a camera: nearly no rebuys) are never repeatable, so an owned one
stays excluded, as before this feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DAY = 86400.0
OWNED_READ = 100  # a user's owned items whose counters ranking reads: the most recent


@dataclass(frozen=True, slots=True)
class RebuyStats:
    """One item's stored rebuy counters: first purchases, rebuys, mean gap between a buyer's
    consecutive purchases of it (s)."""

    first: float
    rebuys: float
    mean_gap: float


@dataclass(frozen=True, slots=True)
class RebuyParams:
    """The policy's settings (XSELL_REBUY_*)."""

    max_offers: int = 0  # at most this many of the k offers are rebuys; 0 = off (the pure default)
    min_share: float = 0.2  # R / (B + R) an item needs to be repeatable
    min_rebuys: float = 5.0  # rebuys an item needs before its share is trusted
    due_share: float = 0.8  # due when the time since the last purchase >= this x mean gap


@dataclass(frozen=True, slots=True)
class Rebuy:
    """Why an owned item is offered again: its buyers buy it about every ``every_days`` days,
    and this user last bought it ``last_days`` days ago."""

    every_days: int
    last_days: int


def gap_seconds(gap: float) -> int:
    """A rebuy's gap as the whole seconds the store adds to the item's sum S: whole numbers
    add up exactly in any order, so every worker layout and redelivery leaves the same S."""
    return max(0, round(gap))


def mean_gap(total_seconds: float, rebuys: float) -> float:
    """The item's mean gap between a buyer's consecutive purchases (s): S / R, 0 without
    rebuys."""
    return total_seconds / rebuys if rebuys > 0 else 0.0


def repeat_share(stats: RebuyStats) -> float:
    """The share of the item's known purchases that were a buyer's repeat: near 0 for a
    durable (bought once per buyer), high for a consumable (coffee, paper cups)."""
    known = stats.first + stats.rebuys
    return stats.rebuys / known if known > 0 else 0.0


def is_repeatable(stats: RebuyStats | None, params: RebuyParams) -> bool:
    """True when buyers of the item buy it again: a rebuy share of at least ``min_share``,
    measured on at least ``min_rebuys`` rebuys (a share from 2 purchases is noise, and
    offering someone the camera they own is worse than offering nothing)."""
    if stats is None or stats.rebuys < params.min_rebuys or stats.mean_gap <= 0:
        return False
    return repeat_share(stats) >= params.min_share


def is_due(last_ts: float, now: float, mean_gap: float, due_share: float) -> bool:
    """True when the user's cycle is due: at least ``due_share`` of the item's typical gap
    has passed since their last purchase of it (a little early is better than after they
    bought it elsewhere; much earlier is nagging)."""
    return mean_gap > 0 and now - last_ts >= due_share * mean_gap


def newest_owned(history: Mapping[str, float], n: int = OWNED_READ) -> dict[str, float]:
    """The user's ``n`` most recently bought items: the only ones ranking reads counters of,
    so a wholesale buyer's thousands of items cost no more than a hundred reads, and the
    newest purchases are the ones nearest their cycle (what buy-again offers first)."""
    if len(history) <= n:
        return dict(history)
    return dict(sorted(history.items(), key=lambda it: (-it[1], it[0]))[:n])


def due_rebuys(
    history: Mapping[str, float],
    stats: Mapping[str, RebuyStats],
    now: float,
    params: RebuyParams,
) -> dict[str, Rebuy]:
    """The user's owned items that are repeatable and due, each with its explanation, the one
    nearest its cycle first (the smallest time since the last purchase over the item's mean
    gap): an item far past its cycle was most likely given up or bought elsewhere. Measured on
    a sample of Online Retail II (docs/personal.md#buy-again), the nearest due item was in the
    order 2.4 times as often as the most overdue one (26.2% against 11.1%)."""
    if params.max_offers <= 0:
        return {}
    due: list[tuple[float, str, Rebuy]] = []
    for item, last in history.items():
        s = stats.get(item)
        if s is None or not is_repeatable(s, params):
            continue
        if not is_due(last, now, s.mean_gap, params.due_share):
            continue
        why = Rebuy(max(1, round(s.mean_gap / DAY)), max(0, int((now - last) // DAY)))
        due.append(((now - last) / s.mean_gap, item, why))
    due.sort(key=lambda t: (t[0], t[1]))
    return {item: why for _, item, why in due}


def next_due_at(
    history: Mapping[str, float],
    stats: Mapping[str, RebuyStats],
    now: float,
    params: RebuyParams,
) -> float | None:
    """When the first of the user's owned repeatable items that is not due at ``now`` becomes
    due, by :func:`due_rebuys`' rule (its last purchase + ``due_share`` x its mean gap); None
    when none will (no repeatable item, or buy-again off). A replenish look-in that finds
    nothing due yet waits for this instead of giving up until the next order."""
    if params.max_offers <= 0:
        return None
    times = [
        last + params.due_share * s.mean_gap
        for item, last in history.items()
        if (s := stats.get(item)) is not None
        and is_repeatable(s, params)
        and not is_due(last, now, s.mean_gap, params.due_share)
    ]
    return min(times, default=None)


RECHECK_MIN_WAIT = 3600.0  # s; a look-in is moved at least this far (a stalled clock)


def recheck_at(due: float | None, clock: float, now: float, max_wait: float) -> float | None:
    """The wall time to look in again for an item due at ``due`` on the state's clock
    (``clock``, event time, what due-ness is measured on): the same wait from ``now``, at
    least RECHECK_MIN_WAIT so a clock that lags or stalls (no events) cannot make the look-in
    come back every poll; None when nothing becomes due or the wait exceeds ``max_wait``
    (a reminder months away is better left to the next order)."""
    if due is None or due - clock > max_wait:
        return None
    return now + max(due - clock, RECHECK_MIN_WAIT)
