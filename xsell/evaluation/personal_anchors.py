"""The anchors of ``xsell eval --cart-personal`` (docs/evaluation.md#cart-personal), in numpy.

Item statistics (orders per item, order-level co-occurrence: :mod:`xsell.evaluation.baselines`)
and each known user's past baskets are learnt from the training split, then from each test
order (time order) once its triggers are scored, as xsell learns it from the checkout. ``rconf``
below is the cart's recency-weighted confidence: sum_j 0.5^j P(candidate | cart item j), j = 0
the newest. Every list leaves out the cart and is padded with popular items.

- ``rconf``: owned items allowed; ``rconf_unowned``: the user's owned items left out.
- ``rconf_history``: rconf plus the user's past purchases as weak cart items: an item of the
  order ``a`` orders ago (0 = the last) weighs w * decay^a (summed over the orders holding it),
  scaled down so the history's total weight is at most w times the cart's (sum_j 0.5^j); the
  last ``HISTORY_ORDERS`` orders only. Each cell of ``HISTORY_GRID`` is computed; the report
  keeps the best by HR@3 on all triggers, which is tuned on the test set (an upper bound).
- ``user_freq``: "buy again" first: the user's owned items not in the cart, by the share of
  their orders holding the item (ties: rconf), then rconf, then popular.
- ``tifu``: TIFU-KNN (Hu et al., SIGIR 2020) simplified: the user's repeated-item vector (past
  baskets oldest first in groups of 7, the first group the remainder; r_b = 0.9 within a group,
  r_g = 0.7 across groups, each an average), without the paper's k = 300 nearest users' vectors
  (too heavy here); blended 0.5 / 0.5 with rconf of the cart, each scaled to a maximum of 1.
- ``popular_unowned``: the most ordered items the user does not own.
- ``sknn_e``: V-SKNN extended by the user's last basket (Latifi, Jannach & Ferraro 2021,
  SKNN_E; :meth:`xsell.evaluation.session_knn.SessionKnn.extended`): the streamed V-SKNN of
  the cart protocol, its basket index learning each test order, with the user's most recent
  past basket (its first 50 distinct items, in their order) put before the cart as older
  positions, so with V-SKNN's 1 / (distance + 1) weights each weighs less than any cart item.
  Choices: the last basket only (the paper's extension by the last session), no cap on its
  items below the store's 50, no extra weight factor on it, owned items allowed (only the cart
  is left out). A first order or an anonymous one: plain V-SKNN.
- ``same_basket_conf``: sum_j P(candidate | cart item j) without recency weights (rconf
  weighs 0.5^j), owned items allowed.
- ``followed_count``: the followed-by count of :mod:`xsell.evaluation.personal_followed`
  (what the user's items of the last 30 days were followed by, over all users), rconf
  breaking ties; an anonymous user gets rconf's list.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from xsell.evaluation.baselines import Baselines, _top, build
from xsell.evaluation.personal import PersonalSession
from xsell.evaluation.personal_followed import TIE, FollowedCounts
from xsell.evaluation.protocol import MAX_TEST_ITEMS
from xsell.evaluation.session_knn import SessionKnn, index_baskets
from xsell.models.events import PurchaseEvent

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

CART_DECAY = 0.5
HISTORY_GRID = tuple((w, d) for w in (0.1, 0.3, 1.0) for d in (0.5, 0.9))
HISTORY_ORDERS = 30  # past orders rconf_history reads (0.9^30 = 0.04)
TIFU_GROUP, TIFU_RB, TIFU_RG, TIFU_ALPHA = 7, 0.9, 0.7, 0.5
ANCHORS = (
    "rconf",
    "rconf_unowned",
    "rconf_history",
    "user_freq",
    "tifu",
    "popular_unowned",
    "sknn_e",
    "same_basket_conf",
    "followed_count",
)


def history_cell(w: float, decay: float) -> str:
    return f"rconf_history w={w} decay={decay}"


def history_weights(baskets: Sequence[Sequence[str]], decay: float) -> dict[str, float]:
    """Item -> sum over the last HISTORY_ORDERS baskets holding it of decay^(orders ago)."""
    out: defaultdict[str, float] = defaultdict(float)
    for ago, basket in enumerate(reversed(baskets[-HISTORY_ORDERS:])):
        for item in basket:
            out[item] += decay**ago
    return dict(out)


def history_scale(w: float, cart_total: float, history_total: float) -> float:
    """The factor on the history's raw weights: w, less when the history would outweigh w
    times the cart."""
    if history_total <= 0:
        return 0.0
    return w * min(1.0, cart_total / history_total)


def tifu_vector(baskets: Sequence[Sequence[str]]) -> dict[str, float]:
    """TIFU-KNN's repeated-item vector of one user (module doc), as item -> weight."""
    n = len(baskets)
    if n == 0:
        return {}
    groups = math.ceil(n / TIFU_GROUP)
    first = n - (groups - 1) * TIFU_GROUP
    bounds = [0, first, *range(first + TIFU_GROUP, n + 1, TIFU_GROUP)]
    out: defaultdict[str, float] = defaultdict(float)
    for j in range(groups):
        members = baskets[bounds[j] : bounds[j + 1]]
        size = len(members)
        group_weight = TIFU_RG ** (groups - 1 - j) / groups
        for i, basket in enumerate(members):
            weight = group_weight * TIFU_RB ** (size - 1 - i) / size
            for item in basket:
                out[item] += weight
    return dict(out)


def order_shares(baskets: Sequence[Sequence[str]]) -> dict[str, float]:
    """Item -> the share of the user's orders holding it."""
    counts = Counter(item for basket in baskets for item in set(basket))
    return {item: c / len(baskets) for item, c in counts.items()}


class PersonalAnchors:
    """Every anchor's suggestions for a session (:meth:`session`), then :meth:`learn` it."""

    def __init__(self, train: Sequence[PurchaseEvent], k: int, max_items: int) -> None:
        self.base = Baselines(build(train, max_items), k)
        self.k, self.max_items = k, max_items
        self.knn = SessionKnn(self.base, index_baskets(train, self.base.co.index))
        self.followed = FollowedCounts(train, self.base.co.index, max_items)
        self.baskets: defaultdict[str, list[list[str]]] = defaultdict(list)
        for order in train:
            if order.user_id is not None:
                self.baskets[order.user_id].append(order.distinct_items())

    def learn(self, session: PersonalSession) -> None:
        order = session.order
        self.base.add(session.items, self.max_items)
        self.knn.add(session.items, order.ts)
        if order.user_id is not None:
            self.baskets[order.user_id].append(session.items)
            self.followed.learn(order.user_id, order.ts, session.items)

    def _pad(self, scores: Floats, banned: set[str], ids: Ints) -> list[str]:
        """The k best positive scores outside ``ids`` (the positions of ``banned``), padded
        with popular items outside ``banned``."""
        co = self.base.co
        top = [co.items[j] for j in _top(scores, ids, self.k)]
        if len(top) < self.k:
            top += self.base.popular([*banned, *top])[: self.k - len(top)]
        return top

    def _vector(self, weights: dict[str, float], size: int) -> Floats:
        """``weights`` as a dense vector over the items."""
        index = self.base.co.index
        out = np.zeros(size, dtype=np.float64)
        for item, weight in weights.items():
            i = index.get(item)
            if i is not None and i < size:
                out[i] += weight
        return out

    def _history(
        self, baskets: Sequence[Sequence[str]], size: int
    ) -> dict[float, tuple[Floats, float]]:
        """Decay -> (sum_p weight_p P(. | p) over the user's past items p, the weights' sum),
        each item's row read once for all decays."""
        co = self.base.co
        decays = sorted({d for _, d in HISTORY_GRID})
        weights = {d: history_weights(baskets, d) for d in decays}
        vectors = np.zeros((len(decays), size), dtype=np.float64)
        for item in weights[decays[0]]:
            i = co.index.get(item)
            if i is None or i >= size:
                continue
            idx, both = co.row(i)
            column = np.asarray([weights[d][item] for d in decays])[:, None]
            vectors[:, idx] += column * (both / co.counts[i])[None, :]
        return {d: (vectors[n], sum(weights[d].values())) for n, d in enumerate(decays)}

    def session(self, s: PersonalSession) -> dict[str, list[list[str]]]:
        """Each anchor's (and each rconf_history cell's) k items after each add but the last."""
        co = self.base.co
        size = len(co.items)
        baskets = self.baskets.get(s.order.user_id, []) if s.order.user_id else []
        owned = {item for basket in baskets for item in basket}
        owned_ids = [co.index[i] for i in owned if i in co.index]
        hist = self._history(baskets, size)
        tifu = self._vector(tifu_vector(baskets), size)
        if tifu.max(initial=0.0) > 0:
            tifu /= tifu.max()
        shares = order_shares(baskets) if baskets else {}
        out: dict[str, list[list[str]]] = defaultdict(list)
        out["sknn_e"] = self.knn.extended(s.items, baskets[-1][:MAX_TEST_ITEMS] if baskets else [])
        followed = self.followed.scores(s.order.user_id, s.order.ts, size)
        rconf = np.zeros(size, dtype=np.float64)
        conf = np.zeros(size, dtype=np.float64)
        cart: list[str] = []
        cart_ids: list[int] = []
        cart_total = 0.0
        for item in s.items[:-1]:
            cart.append(item)
            rconf *= CART_DECAY
            cart_total = cart_total * CART_DECAY + 1.0
            i = co.index.get(item)
            if i is not None and i < size:
                cart_ids.append(i)
                idx, both = co.row(i)
                given = both / co.counts[i]
                rconf[idx] += given
                conf[idx] += given
            banned, ids = set(cart), np.asarray(cart_ids, dtype=np.int64)
            out["rconf"].append(self._pad(rconf, banned, ids))
            unowned = np.asarray(cart_ids + owned_ids, dtype=np.int64)
            out["rconf_unowned"].append(self._pad(rconf, banned | owned, unowned))
            for w, decay in HISTORY_GRID:
                vec, total = hist[decay]
                scores = rconf + history_scale(w, cart_total, total) * vec
                out[history_cell(w, decay)].append(self._pad(scores, banned, ids))
            out["user_freq"].append(self._user_freq(rconf, shares, banned, ids))
            top = rconf.max(initial=0.0)
            blend = TIFU_ALPHA * tifu + (1 - TIFU_ALPHA) * (rconf / top if top > 0 else rconf)
            out["tifu"].append(self._pad(blend, banned, ids))
            out["popular_unowned"].append(self.base.popular([*banned, *owned]))
            out["same_basket_conf"].append(self._pad(conf, banned, ids))
            out["followed_count"].append(self._pad(followed + TIE * rconf, banned, ids))
        return out

    def _user_freq(
        self, rconf: Floats, shares: dict[str, float], banned: set[str], ids: Ints
    ) -> list[str]:
        """Owned items by share of the user's orders (ties: rconf), then rconf's list."""
        index = self.base.co.index

        def rc(item: str) -> float:
            i = index.get(item)
            return float(rconf[i]) if i is not None and i < len(rconf) else 0.0

        again = sorted(
            (item for item in shares if item not in banned),
            key=lambda item: (-shares[item], -rc(item), item),
        )[: self.k]
        if len(again) == self.k:
            return again
        more = [index[i] for i in again if i in index]
        rest = self._pad(rconf, banned | set(again), np.asarray([*ids, *more], dtype=np.int64))
        return again + rest[: self.k - len(again)]


def personal_anchor_suggestions(
    train: Sequence[PurchaseEvent], sessions: Sequence[PersonalSession], k: int, max_items: int
) -> Iterator[tuple[int, dict[str, list[list[str]]]]]:
    """(session index, its suggestions) in time order, each session learnt once scored."""
    anchors = PersonalAnchors(train, k, max_items)
    for n, s in enumerate(sessions):
        yield n, anchors.session(s) if s.triggers > 0 else {}
        anchors.learn(s)
