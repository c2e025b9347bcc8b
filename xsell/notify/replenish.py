"""The replenishment notification's content (issue 21, buy again; docs/personal.md).

With XSELL_NOTIFY_REPLENISH, a known user's order schedules one ``replenish`` notification
(xsell/notify/scheduler.py), looked in on XSELL_NOTIFY_REPLENISH_SECONDS after their latest
order. When it is due and the policy lets it go out (consent, quiet hours, caps, expiry), the
sender asks here what it offers: the user's owned items that are repeatable and due now
(:func:`xsell.models.rebuy.due_rebuys`, the signal the cart's buy-again offers use), in stock
and not notified within the repeat window, at most XSELL_MAX_SUGGESTIONS, each ``kind:
"rebuy"`` with its "about every N days" explanation. None due yet, but an owned repeatable
item becomes due within XSELL_NOTIFY_REPLENISH_MAX_WAIT_SECONDS: the sender moves the same
notification to then (``not_due_yet``, a fresh expiry); none will: dropped (``not_due``); due
but all notified recently or out of stock: ``empty``. Two round trips per tick: the owned
items' counters, then the due items' catalogue entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from xsell.config.settings import Settings
from xsell.models.ranking import Offer
from xsell.models.rebuy import RebuyParams, due_rebuys, newest_owned, next_due_at, recheck_at
from xsell.models.rebuy_offers import replenish_offers
from xsell.store import Store


@dataclass(frozen=True, slots=True)
class Refill:
    """A due replenish notification's user, their purchases (item -> last bought at), the
    items notified to them within the repeat window and the state's clock."""

    user_id: str
    history: dict[str, float]
    exclude: frozenset[str]
    now: float


NOT_DUE_YET = "not_due_yet"  # the deferral's why: nothing due now, an item due later


@dataclass(frozen=True, slots=True)
class Refilled:
    """A refill's offers, or none and why (``not_due``, ``empty``, or ``not_due_yet`` with
    ``at``: the wall time to look in again)."""

    offers: list[Offer]
    why: str | None = None
    at: float | None = None


def replenish_params(base: RebuyParams, settings: Settings) -> RebuyParams:
    """The buy-again policy in use with up to XSELL_MAX_SUGGESTIONS offers; none while
    buy-again does not learn (XSELL_FOLLOWED_WINDOW_DAYS 0: no cycles are known)."""
    on = settings.learning.followed_window_days > 0
    return replace(base, max_offers=settings.ranking.max_suggestions if on else 0)


async def refill_offers(
    store: Store,
    params: RebuyParams,
    refills: Sequence[Refill],
    now: float,
    max_wait: float,
) -> list[Refilled]:
    """Each refill's offers, or none and why (``not_due``, ``empty``, ``not_due_yet``)."""
    if not refills:
        return []
    owned = {r.user_id: newest_owned(r.history) for r in refills}
    stats = await store.ranking.rebuy_stats(sorted({i for h in owned.values() for i in h}))
    due = [due_rebuys(owned[r.user_id], stats, r.now, params) for r in refills]
    items = sorted({i for d in due for i in d})
    catalog = (await store.ranking.details(items, []))[0] if items else {}
    out: list[Refilled] = []
    for r, d in zip(refills, due, strict=True):
        offers = replenish_offers(r.history, stats, catalog, r.exclude, r.now, params)
        if offers or d:
            out.append(Refilled(offers, None if offers else "empty"))
            continue
        later = next_due_at(owned[r.user_id], stats, r.now, params)
        at = recheck_at(later, r.now, now, max_wait)
        out.append(Refilled([], "not_due") if at is None else Refilled([], NOT_DUE_YET, at))
    return out
