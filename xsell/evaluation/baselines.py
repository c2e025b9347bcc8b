"""Item-based anchors computed with numpy: learnt from the training split, then (streamed,
the default of ``xsell eval``) from each test order once it has been scored.

- ``popular``: the k most-ordered items not in the cart.
- ``jaccard``: SAR-style "frequently bought together": the sum over cart items of
  Jaccard(cart item, candidate) on order-level co-occurrence, padded with popular items.
- ``rconf``: recency-weighted confidence item-kNN, the batch form of xsell's own method: the
  sum over cart items, newest first with weights 0.5^j, of P(candidate | cart item), all
  neighbours, no decay, no minimum support; padded with popular items.

The session-kNN anchors (V-SKNN, STAN) are in :mod:`xsell.evaluation.session_knn`.

The co-occurrence is built once as CSR arrays from integer pair codes (np.unique), so it scales
to catalogues far beyond a dense matrix; each trigger then touches only its cart items' rows.
A streamed order adds its pairs to the rows it touches (:meth:`Cooccurrence.add`), no rebuild.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from xsell.models.events import PurchaseEvent

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


class Cooccurrence:
    """Order-level co-occurrence as CSR rows (the training orders), and the orders added since
    (:meth:`add`, the streamed test orders).

    An added order's pair counts wait in ``pending`` until its row is next read, then are
    merged into that row once: adding an order costs its pairs, not a rebuild, and each
    trigger still touches only its cart items' rows."""

    def __init__(
        self, items: list[str], counts: Floats, indptr: Ints, indices: Ints, together: Floats
    ) -> None:
        self.items = items
        self.index = {item: i for i, item in enumerate(items)}
        self.counts = counts  # orders per item
        self.indptr, self.indices, self.together = indptr, indices, together
        self.merged: dict[int, tuple[Ints, Floats]] = {}  # rows changed since the build
        self.pending: dict[int, dict[int, float]] = {}  # pair counts not yet merged into a row

    def row(self, i: int) -> tuple[Ints, Floats]:
        """Row ``i``: its partners and the orders holding both, partners ascending."""
        if i in self.pending:
            self.merged[i] = _merge(self._stored(i), self.pending.pop(i))
        return self._stored(i)

    def _stored(self, i: int) -> tuple[Ints, Floats]:
        if i in self.merged:
            return self.merged[i]
        if i + 1 >= len(self.indptr):  # an item first seen in an added order
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.indices[lo:hi], self.together[lo:hi]

    def add(self, items: Sequence[str], max_items: int) -> list[int]:
        """Count one more order (its distinct ``items``) by the rule of :func:`build`; the
        positions of its items, whose counts each went up by one (new items are appended)."""
        new = [item for item in dict.fromkeys(items) if item not in self.index]
        for item in new:
            self.index[item] = len(self.items)
            self.items.append(item)
        if new:
            self.counts = np.concatenate([self.counts, np.zeros(len(new))])
        ids = [self.index[item] for item in dict.fromkeys(items)]
        self.counts[ids] += 1.0
        paired = ids[:max_items]
        for a in paired:
            pending = self.pending.setdefault(a, {})
            for b in paired:
                if b != a:
                    pending[b] = pending.get(b, 0.0) + 1.0
        return ids


def _merge(row: tuple[Ints, Floats], extra: dict[int, float]) -> tuple[Ints, Floats]:
    """``row`` plus the pair counts ``extra``, partners ascending (as the CSR build gives)."""
    idx = np.concatenate([row[0], np.fromiter(extra, dtype=np.int64, count=len(extra))])
    vals = np.concatenate([row[1], np.fromiter(extra.values(), dtype=np.float64)])
    uniq, inverse = np.unique(idx, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inverse, vals, len(uniq)).astype(np.float64)


def build(train: Sequence[PurchaseEvent], max_items: int) -> Cooccurrence:
    """Pairs among each order's first ``max_items`` distinct items; counts over all of them
    (the same rule as the streaming store)."""
    items: dict[str, int] = {}
    counts: list[int] = []
    codes: list[Ints] = []
    for order in train:
        ids = []
        for item in order.distinct_items():
            if item not in items:
                items[item] = len(items)
                counts.append(0)
            counts[items[item]] += 1
            ids.append(items[item])
        paired = np.asarray(ids[:max_items], dtype=np.int64)
        if len(paired) >= 2:
            a, b = np.meshgrid(paired, paired, indexing="ij")
            mask = a != b
            codes.append(a[mask] * (1 << 32) + b[mask])
    n = len(items)
    allcodes = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    uniq, together = np.unique(allcodes, return_counts=True)
    rows = uniq >> 32
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return Cooccurrence(
        list(items),
        np.asarray(counts, dtype=np.float64),
        np.cumsum(indptr),
        (uniq & 0xFFFFFFFF).astype(np.int64),
        together.astype(np.float64),
    )


def _top(scores: Floats, banned: Ints, k: int) -> Ints:
    """Indices of the k highest positive scores outside ``banned`` (ties: lower index)."""
    masked = scores.copy()
    masked[banned] = -np.inf
    candidates = np.flatnonzero(masked > 0)
    if len(candidates) > k:
        part = candidates[np.argpartition(-masked[candidates], k - 1)[:k]]
    else:
        part = candidates
    return part[np.lexsort((part, -masked[part]))]


class Baselines:
    """Suggestions of the item-based anchors for every prefix of a test session."""

    def __init__(self, co: Cooccurrence, k: int) -> None:
        self.co, self.k = co, k
        # (-orders, position) ascending: most ordered first, ties by first seen (a stable
        # argsort), kept sorted as orders are added rather than sorted again per order
        self.ranked = sorted((-float(c), i) for i, c in enumerate(co.counts))

    def add(self, items: Sequence[str], max_items: int) -> None:
        """Learn one more order (a streamed test order, once it has been scored)."""
        for i in self.co.add(items, max_items):
            count = float(self.co.counts[i])
            if count > 1:
                del self.ranked[bisect.bisect_left(self.ranked, (1.0 - count, i))]
            bisect.insort(self.ranked, (-count, i))

    def popular(self, cart: Sequence[str]) -> list[str]:
        banned = set(cart)
        out: list[str] = []
        for _, i in self.ranked:
            item = self.co.items[i]
            if item not in banned:
                out.append(item)
                if len(out) == self.k:
                    break
        return out

    def padded(self, scores: Floats, cart: Sequence[str], banned: list[int]) -> list[str]:
        """The k best positive scores outside the cart, padded with popular items."""
        co = self.co
        top = [co.items[j] for j in _top(scores, np.asarray(banned, dtype=np.int64), self.k)]
        if len(top) < self.k:
            top += self.popular([*cart, *top])[: self.k - len(top)]
        return top

    def _item_knn_session(
        self, items: Sequence[str], decay: float, similarity: Callable[[int, Ints, Floats], Floats]
    ) -> list[list[str]]:
        """For each add but the last: sum_j decay^j similarity(cart item j, candidate), j = 0
        the newest, padded with popular items. Kept as one running vector: each add multiplies
        the old sum by ``decay`` and adds the new item's row, the same sum without rebuilding
        it (decay 1: a plain sum)."""
        co = self.co
        scores = np.zeros(len(co.items), dtype=np.float64)
        cart: list[str] = []
        banned: list[int] = []
        out = []
        for item in items[:-1]:
            cart.append(item)
            if decay != 1.0:
                scores *= decay
            i = co.index.get(item)
            if i is not None:
                banned.append(i)
                idx, both = co.row(i)
                scores[idx] += similarity(i, idx, both)
            out.append(self.padded(scores, cart, banned))
        return out

    def rconf_session(self, items: Sequence[str], decay: float = 0.5) -> list[list[str]]:
        """For each add but the last: sum_j decay^j P(b | cart item j), j = 0 the newest."""
        counts = self.co.counts
        return self._item_knn_session(items, decay, lambda i, idx, both: both / counts[i])

    def jaccard_session(self, items: Sequence[str]) -> list[list[str]]:
        """For each add but the last: sum of Jaccard(cart item, candidate), popular padding."""
        counts = self.co.counts
        return self._item_knn_session(
            items, 1.0, lambda i, idx, both: both / (counts[i] + counts[idx] - both)
        )
