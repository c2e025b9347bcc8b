"""Session-based kNN anchors of ``xsell eval``, computed with numpy.

Both compare the cart with past baskets (the training orders, and when streamed the test orders
already scored), pick the most similar ones and suggest what those baskets held; published
comparisons find them matching or beating neural session recommenders (Ludewig et al.,
"Empirical analysis of session-based recommendation algorithms", 2021).

- ``vsknn``: V-SKNN (Ludewig & Jannach, "Evaluation of session-based recommendation
  algorithms", 2018). The cart's items are weighted by position, the newest most
  (1 / (distance from the newest + 1)); of the past baskets that share an item with the cart,
  the ``SAMPLE`` most recent are compared; a basket's similarity is the sum of the weights of
  the cart items it holds; the ``NEIGHBOURS`` most similar vote for their items with their
  similarity.
- ``stan``: STAN (Garg et al., "Sequence and time aware neighborhood for session-based
  recommendations", SIGIR 2019), basket form: the cart's weights decay exponentially with
  position (exp(-distance / LAMBDA_POSITION)), a basket's similarity is normalised as a cosine
  (sum of weights / sqrt(|cart| |basket|)) and decays with the basket's age at the trigger
  (exp(-age / lambda_time), lambda_time = LAMBDA_TIME_SHARE of the training span). The third
  decay of the paper (positions inside the neighbour basket) needs an order the baskets of
  most datasets lack, so it is left out.

``SessionKnn.extended`` is V-SKNN_E, the ``sknn_e`` anchor of ``xsell eval --cart-personal``
(xsell/evaluation/personal_anchors.py): V-SKNN with the user's last basket before the cart.

All pad a short list with popular items, as the other anchors do. Baskets are indexed in time
order, so "most recent" is "highest index"; an index of item -> baskets (CSR) makes each
trigger touch only the baskets of its cart items.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xsell.evaluation.baselines import Baselines
from xsell.models.events import PurchaseEvent

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

SAMPLE = 500  # most recent candidate baskets compared (V-SKNN's sample size)
NEIGHBOURS = 100  # most similar baskets that vote
LAMBDA_POSITION = 2.0  # STAN: cart position decay, in items
LAMBDA_TIME_SHARE = 0.1  # STAN: basket age decay, as a share of the training time span


class _Growing:
    """A numpy array appended to in place (capacity doubles), read as ``view``."""

    def __init__(self, values: NDArray[Any]) -> None:
        self.buffer, self.size = values, len(values)

    @property
    def view(self) -> NDArray[Any]:
        return self.buffer[: self.size]

    def extend(self, values: Sequence[float] | Sequence[int]) -> None:
        end = self.size + len(values)
        if end > len(self.buffer):
            bigger = np.zeros(max(end, 2 * len(self.buffer)), dtype=self.buffer.dtype)
            bigger[: self.size] = self.view
            self.buffer = bigger
        self.buffer[self.size : end] = values
        self.size = end


class BasketIndex:
    """Baskets in time order as CSR both ways: basket -> items, item -> baskets. The training
    baskets are indexed at once; a streamed basket is appended (:meth:`add`), so "most recent"
    stays "highest index" and no basket added later is ever read before it is added."""

    def __init__(
        self,
        basket_ptr: Ints,
        basket_items: Ints,
        basket_ts: Floats,
        item_ptr: Ints,
        item_baskets: Ints,
    ) -> None:
        self._ptr, self._items = _Growing(basket_ptr), _Growing(basket_items)
        self._ts = _Growing(basket_ts)
        self.item_ptr, self.item_baskets = item_ptr, item_baskets
        self.added: dict[int, list[int]] = {}  # item -> its appended baskets, in time order

    @property
    def basket_ptr(self) -> Ints:
        return self._ptr.view

    @property
    def basket_items(self) -> Ints:
        return self._items.view

    @property
    def basket_ts(self) -> Floats:
        return self._ts.view

    def baskets_of(self, item: int, last: int) -> Ints:
        """The ``last`` most recent baskets holding ``item``, oldest first."""
        added = self.added.get(item, [])[-last:]
        want = last - len(added)
        trained = self.item_baskets[:0]
        if want > 0 and item + 1 < len(self.item_ptr):
            lo, hi = self.item_ptr[item], self.item_ptr[item + 1]
            trained = self.item_baskets[max(lo, hi - want) : hi]
        if not added:
            return trained
        return np.concatenate([trained, np.asarray(added, dtype=np.int64)])

    def sizes_of(self, baskets: Ints) -> Ints:
        """The number of items of each of ``baskets``."""
        ptr = self.basket_ptr
        return ptr[baskets + 1] - ptr[baskets]

    def add(self, items: Sequence[int], ts: float) -> None:
        """Append one basket (distinct item positions) as the most recent."""
        basket = len(self.basket_ts)
        self._items.extend(items)
        self._ptr.extend([self._items.size])
        self._ts.extend([ts])
        for item in items:
            self.added.setdefault(item, []).append(basket)


def index_baskets(train: Sequence[PurchaseEvent], index: dict[str, int]) -> BasketIndex:
    """The index of ``train`` (already in time order) over the item positions of ``index``."""
    rows = [[index[i] for i in order.distinct_items() if i in index] for order in train]
    sizes = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    basket_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    basket_items = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(sizes.sum()))
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), sizes)
    by_item = np.lexsort((owner, basket_items))  # item, then basket (time) order
    counts = np.bincount(basket_items, minlength=len(index))
    item_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    ts = np.asarray([order.ts for order in train], dtype=np.float64)
    return BasketIndex(basket_ptr, basket_items, ts, item_ptr, owner[by_item])


class SessionKnn:
    """V-SKNN and STAN suggestions for every prefix of a test session."""

    def __init__(self, base: Baselines, baskets: BasketIndex) -> None:
        self.base, self.baskets = base, baskets
        span = float(baskets.basket_ts[-1] - baskets.basket_ts[0]) if len(baskets.basket_ts) else 0
        self.lambda_time = max(span * LAMBDA_TIME_SHARE, 1.0)

    def add(self, items: Sequence[str], ts: float) -> None:
        """Learn one more basket (a streamed test order, once it has been scored), after
        :meth:`Baselines.add` has given its new items their positions."""
        index = self.base.co.index
        self.baskets.add([index[item] for item in dict.fromkeys(items)], ts)

    def _support(
        self, posting: list[Ints], weight_sets: Sequence[Floats]
    ) -> tuple[Ints, list[Floats]]:
        """The ``SAMPLE`` most recent baskets sharing an item with the cart (the highest
        indices), and for each weight set the sum of the weights of the cart items each holds.
        ``posting``: each known cart item's most recent ``SAMPLE`` baskets, which is exact: a
        basket among the union's ``SAMPLE`` most recent is among the ``SAMPLE`` most recent of
        each of its items."""
        ids = np.concatenate(posting)
        repeats = [len(p) for p in posting]
        if len(ids) * 8 < len(self.baskets.basket_ts):  # few ids: sort them
            uniq, inverse = np.unique(ids, return_inverse=True)
            sums = [np.bincount(inverse, np.repeat(w, repeats), len(uniq)) for w in weight_sets]
            return uniq[-SAMPLE:], [np.asarray(x[-SAMPLE:], dtype=np.float64) for x in sums]
        size = len(self.baskets.basket_ts)  # many: one dense pass over all baskets
        dense = [np.bincount(ids, np.repeat(w, repeats), size) for w in weight_sets]
        uniq = np.flatnonzero(dense[0])[-SAMPLE:]
        return uniq, [np.asarray(x[uniq], dtype=np.float64) for x in dense]

    def _votes(self, uniq: Ints, sim: Floats) -> Floats:
        """Item votes of the ``NEIGHBOURS`` most similar of the ``uniq`` baskets."""
        b = self.baskets
        if len(uniq) > NEIGHBOURS:
            keep = np.argpartition(-sim, NEIGHBOURS - 1)[:NEIGHBOURS]
            uniq, sim = uniq[keep], sim[keep]
        lo = b.basket_ptr[uniq]
        lengths = b.basket_ptr[uniq + 1] - lo
        starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        items = b.basket_items[starts + np.arange(int(lengths.sum()))]
        votes = np.bincount(items, np.repeat(sim, lengths), len(self.base.co.items))
        return np.asarray(votes, dtype=np.float64)

    def sessions(self, items: Sequence[str], now: float) -> tuple[list[list[str]], list[list[str]]]:
        """For each add but the last: the k items the neighbours vote for most, by V-SKNN and
        by STAN (one pass: both compare the cart with the same sample of baskets)."""
        index, b = self.base.co.index, self.baskets
        cart: list[str] = []
        known: list[int] = []
        posting: list[Ints] = []
        distance: list[int] = []  # position of each known item, counted in the cart
        vsknn: list[list[str]] = []
        stan: list[list[str]] = []
        empty = np.zeros(len(self.base.co.items))
        for n, item in enumerate(items[:-1]):
            cart.append(item)
            i = index.get(item)
            if i is not None:
                known.append(i)
                posting.append(b.baskets_of(i, SAMPLE))
                distance.append(n)
            if not posting:
                vsknn.append(self.base.padded(empty, cart, known))
                stan.append(self.base.padded(empty, cart, known))
                continue
            d = n - np.asarray(distance, dtype=np.float64)  # 0 for the newest
            uniq, (div, expo) = self._support(
                posting, (1.0 / (d + 1.0), np.exp(-d / LAMBDA_POSITION))
            )
            vsknn.append(self.base.padded(self._votes(uniq, div), cart, known))
            age = np.maximum(now - b.basket_ts[uniq], 0.0)
            sim = expo / np.sqrt(len(posting) * b.sizes_of(uniq)) * np.exp(-age / self.lambda_time)
            stan.append(self.base.padded(self._votes(uniq, sim), cart, known))
        return vsknn, stan

    def extended(self, items: Sequence[str], prefix: Sequence[str]) -> list[list[str]]:
        """V-SKNN_E (Latifi, Jannach & Ferraro 2021, "SKNN_E"): V-SKNN of the cart extended
        with ``prefix`` (the user's last past basket) as its older positions: the prefix's
        last item sits just before the cart's first, so a prefix item p positions before the
        cart weighs 1 / (n + p + 1) at add n, less than any cart item. A prefix item the cart
        holds counts once, as a cart item. Only the cart is left out of the suggestions (the
        prefix's items may come back). Empty ``prefix``: V-SKNN."""
        index, b = self.base.co.index, self.baskets
        old = [(index[item], p) for p, item in enumerate(reversed(prefix)) if item in index]
        old_posting = {i: b.baskets_of(i, SAMPLE) for i, _ in old}
        cart: list[str] = []
        known: list[int] = []
        posting: list[Ints] = []
        distance: list[int] = []
        out: list[list[str]] = []
        empty = np.zeros(len(self.base.co.items))
        for n, item in enumerate(items[:-1]):
            cart.append(item)
            i = index.get(item)
            if i is not None and i not in known:
                known.append(i)
                posting.append(old_posting[i] if i in old_posting else b.baskets_of(i, SAMPLE))
                distance.append(n)
            older = [(j, p) for j, p in old if j not in known]
            if not posting and not older:
                out.append(self.base.padded(empty, cart, known))
                continue
            d = [n - x for x in distance] + [n + 1 + p for _, p in older]
            every = posting + [old_posting[j] for j, _ in older]
            uniq, (weights,) = self._support(every, (1.0 / (np.asarray(d, np.float64) + 1.0),))
            out.append(self.base.padded(self._votes(uniq, weights), cart, known))
        return out
