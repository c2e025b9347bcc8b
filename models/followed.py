"""Followed-by: what a customer buys *next*, after an earlier order, as opposed to what is bought
in the same basket.

Learning (the store's scripts do the same, xsell/store/core/followed.py): when user u buys B at
time t, every item A that u bought in an earlier order within the window (t - window <= t_A < t)
counts one follow-up (A -> B). B counts as a *first* purchase when u never bought it before (as
far as the user's purchase history remembers), else as a *rebuy*; the two are counted apart, as
"62% of buyers of a camera then bought a memory card" is a cross-sell signal and "buyers of
coffee buy coffee again" is not. A follow-up of A by A itself is not counted.

Ranking (post-purchase suggestions): the share of A's orders that a first purchase of B followed
within the window, share(A, B) = followed(A, B) / orders(A), capped at 1. Both are decayed alike
(the same half-life), so the share is a rate. orders(A) counts every order holding A, of known
users and guests alike (the store's popularity count): a guest's purchase can never be followed,
so a shop with many guests sees lower shares, never higher ones. The followed-by score of a
candidate is the recency-weighted sum over the bought items of their shares, as the same-basket
score sums its anchors' similarities, and adds to that score with ``followed_weight``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Scored = dict[str, tuple[float, str, float]]  # candidate -> (score, best anchor, best part)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What one purchase teaches: its earlier items (the targets A, most recent first) and the
    order's items split into first purchases and rebuys (the partners B), and each rebuy's
    gap since the user's previous purchase of it (s; what buy-again learns, models/rebuy.py)."""

    earlier: list[str]
    first: list[str]
    rebuys: list[str]
    gaps: dict[str, float] = field(default_factory=dict)


def follow_up(
    window: Mapping[str, float],
    bought_at: Mapping[str, float],
    items: Sequence[str],
    ts: float,
    window_seconds: float,
) -> FollowUp:
    """The follow-up of a purchase of ``items`` at ``ts`` by a user whose followed-by window
    holds ``window`` (item -> last purchase ts) and whose history holds ``bought_at``. Only an
    *earlier* order counts (t_A < ts), so the order's own items never follow themselves; an
    item is a rebuy only when bought strictly before ``ts`` (a redelivered order, already in
    the history at ``ts``, is still a first purchase). Earlier items: most recent first, ties
    by id descending (as the script's ZRANGE ... REV returns them)."""
    start = ts - window_seconds
    earlier = sorted(
        (item for item, t in window.items() if start <= t < ts),
        key=lambda item: (window[item], item),
        reverse=True,
    )
    first = [i for i in items if not bought_at.get(i, ts) < ts]
    rebuys = [i for i in items if bought_at.get(i, ts) < ts]
    return FollowUp(earlier, first, rebuys, {i: float(int(ts - bought_at[i])) for i in rebuys})


def share(followed: float, orders: float) -> float:
    """The share of an item's orders that a first purchase of the partner followed, capped at 1
    (a customer who buys A twice in the window may count twice)."""
    if orders <= 0 or followed <= 0:
        return 0.0
    return min(1.0, followed / orders)


@dataclass(frozen=True, slots=True)
class FollowedBy:
    """Why an item was offered after a purchase: ``share`` of the buyers of ``item_id`` bought
    it within ``days`` (the explanation of a post-purchase offer)."""

    item_id: str
    share: float
    days: int
    followed: float  # the decayed count of follow-ups behind the share


def followed_scores(
    anchors: Sequence[str],
    partners: Mapping[str, Mapping[str, float]],
    orders: Mapping[str, float],
    exclude: frozenset[str],
    recency_decay: float,
) -> dict[str, tuple[float, str, float]]:
    """Candidate -> (sum over anchors of r^(j-1) share, best anchor, its share): the followed-by
    score of each partner of the bought ``anchors`` (most recent first), weighted by position as
    the same-basket score weighs its anchors."""
    out: dict[str, tuple[float, str, float]] = {}
    weight = 1.0
    for anchor in anchors:
        for cand, value in partners.get(anchor, {}).items():
            if cand in exclude:
                continue
            s = share(value, orders.get(anchor, 0.0))
            if s <= 0:
                continue
            total, best, best_share = out.get(cand, (0.0, anchor, 0.0))
            if s > best_share:
                best, best_share = anchor, s
            out[cand] = (total + weight * s, best, best_share)
        weight *= recency_decay
    return out


def blend(
    scored: Mapping[str, tuple[float, str, float]],
    followed: Mapping[str, tuple[float, str, float]],
    weight: float,
) -> tuple[Scored, dict[str, str]]:
    """Same-basket ``scored`` candidates with the followed-by scores added (``weight`` times),
    and the candidates the followed-by signal explains best (candidate -> its earlier item):
    those whose weighted best share is at least their best same-basket part, so a follow-up
    seen after a purchase is explained as one, and a basket partner as a basket partner."""
    out: Scored = dict(scored)
    explained: dict[str, str] = {}
    if weight <= 0:
        return out, explained
    for cand, (total, anchor, best_share) in followed.items():
        score, best, part = out.get(cand, (0.0, anchor, 0.0))
        if weight * best_share >= part:
            best, part = anchor, weight * best_share
            explained[cand] = anchor
        out[cand] = (score + weight * total, best, part)
    return out, explained


class UserWindows:
    """Each user's followed-by window and purchase history as the store's scripts leave them
    (FOLLOW_USER and PURCHASE_USER), replayed in Python: a bulk load writes the final state
    directly and needs each order's follow-up on the way."""

    def __init__(self, window_seconds: float, max_recent: int, max_history: int) -> None:
        self.window_seconds = window_seconds
        self.max_recent = max_recent
        self.max_history = max_history
        self.windows: dict[str, dict[str, float]] = {}
        self._histories: dict[str, dict[str, float]] = {}

    def purchase(self, user: str, items: Sequence[str], ts: float) -> FollowUp:
        """The follow-up of ``user`` buying ``items`` at ``ts``; records the purchase."""
        window = self.windows.setdefault(user, {})
        history = self._histories.setdefault(user, {})
        follow = follow_up(window, history, items, ts, self.window_seconds)
        for item in items:  # ZADD GT: the latest ts per item
            window[item] = max(window.get(item, ts), ts)
            if history.get(item, ts) <= ts:  # PURCHASE_USER keeps the latest ts
                history[item] = ts
        for item in [i for i, t in window.items() if t < ts - self.window_seconds]:
            del window[item]
        _keep_newest(window, self.max_recent)
        _keep_newest(history, self.max_history)
        return follow


def _keep_newest(entries: dict[str, float], cap: int) -> None:
    """Drop the oldest entries beyond ``cap`` (ties: the lowest id first, as the scripts)."""
    if len(entries) > cap:
        for item, _ in sorted(entries.items(), key=lambda it: (it[1], it[0]))[: len(entries) - cap]:
            del entries[item]
