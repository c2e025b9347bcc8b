"""The ``followed_count`` anchor of ``xsell eval --cart-personal`` (docs/evaluation.md,
Cart-personal).

A followed-by count, the batch form of "what do people buy in the weeks after buying A":
for each purchase of B by a user, (A, B) is counted once for each distinct item A that user
bought in an earlier order (earlier in the stream, which is time order) at most ``WINDOW_DAYS``
days before it. A = B counts too: a rebuy within the window is a follow-up like any other.
The counts are learnt from the training orders, then from each test order once its triggers
are scored (:meth:`FollowedCounts.learn`), as the other anchors stream.

At a trigger, a candidate c scores sum over the user's past items A bought within the window
before the order's time of count(A, c), plus ``TIE`` x rconf(c) (< 2 x TIE, below any count's
step of 1), so ties and an empty history fall back to rconf's order, then popular items. An
anonymous user (or one without a past order in the window) gets rconf's list. The cart is
left out; owned items are not.

Each counted row is kept as the arrays of its follow-ups: an order adds a reference to its
items' array to each A's pending list (not a count per pair), merged into the row when a
trigger next reads it, as :class:`xsell.evaluation.baselines.Cooccurrence` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from xsell.models.events import PurchaseEvent

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

WINDOW_DAYS = 30
WINDOW = WINDOW_DAYS * 86_400.0  # seconds, as the orders' ts
TIE = 1e-6  # rconf's weight in the score: only orders equal counts


class PairCounts:
    """count(A, B) as sparse rows: A -> (the Bs ascending, their counts)."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[Ints, Floats]] = {}
        self.pending: defaultdict[int, list[Ints]] = defaultdict(list)

    def add(self, before: Sequence[int], after: Ints) -> None:
        """Count (a, b) once for each a of ``before`` and b of ``after`` (distinct)."""
        for a in before:
            self.pending[a].append(after)

    def row(self, a: int) -> tuple[Ints, Floats]:
        """Row ``a``: its follow-ups ascending and their counts."""
        parts = self.pending.pop(a, None)
        stored = self.rows.get(a)
        if parts:
            idx = np.concatenate([*([stored[0]] if stored else []), *parts])
            ones = np.ones(len(idx) - (len(stored[0]) if stored else 0))
            vals = np.concatenate([*([stored[1]] if stored else []), ones])
            uniq, inverse = np.unique(idx, return_inverse=True)
            merged = np.bincount(inverse, vals, len(uniq)).astype(np.float64)
            stored = self.rows[a] = (uniq.astype(np.int64), merged)
        if stored is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return stored


class FollowedCounts:
    """The followed-by counts and each user's orders (time, item positions) in the window's
    reach. ``index`` is the anchors' item -> position map, which grows as orders stream in:
    :meth:`learn` an order after its new items have positions."""

    def __init__(
        self, train: Sequence[PurchaseEvent], index: dict[str, int], max_items: int
    ) -> None:
        self.index, self.max_items = index, max_items
        self.counts = PairCounts()
        self.orders: defaultdict[str, list[tuple[float, list[int]]]] = defaultdict(list)
        for order in train:
            if order.user_id is not None:
                self.learn(order.user_id, order.ts, order.distinct_items())

    def window(self, user: str, now: float) -> list[int]:
        """The distinct items of ``user``'s orders at most WINDOW before ``now``."""
        out: dict[int, None] = {}
        for ts, items in reversed(self.orders.get(user, [])):
            if now - ts > WINDOW:
                break
            out.update(dict.fromkeys(items))
        return list(out)

    def learn(self, user: str, ts: float, items: Sequence[str]) -> None:
        """Count one order of ``user`` (its first ``max_items`` distinct items) as following
        the user's orders in the window, then keep it for the orders after it."""
        ids = [self.index[item] for item in dict.fromkeys(items) if item in self.index]
        ids = ids[: self.max_items]
        self.counts.add(self.window(user, ts), np.asarray(ids, dtype=np.int64))
        self.orders[user].append((ts, ids))

    def scores(self, user: str | None, now: float, size: int) -> Floats:
        """sum over the user's window items A of count(A, .), over the first ``size`` items."""
        out = np.zeros(size, dtype=np.float64)
        if user is None:
            return out
        for a in self.window(user, now):
            idx, vals = self.counts.row(a)
            keep = idx < size
            out[idx[keep]] += vals[keep]
        return out
