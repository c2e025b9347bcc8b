"""The cart-personal anchors added for issue 21's full set: ``sknn_e`` (SessionKnn.extended),
``same_basket_conf`` and ``followed_count`` (personal_followed.py), on tiny hand-made orders."""

from __future__ import annotations

import numpy as np
import pytest

from xsell.evaluation.baselines import Baselines, build
from xsell.evaluation.personal import personal_sessions
from xsell.evaluation.personal_anchors import ANCHORS, PersonalAnchors
from xsell.evaluation.personal_followed import WINDOW, FollowedCounts, PairCounts
from xsell.evaluation.session_knn import SessionKnn, index_baskets
from xsell.models.events import OrderLine, PurchaseEvent

DAY = 86_400.0


def _order(n: int, user: str | None, ts: float, *items: str) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", user, ts, tuple(OrderLine(i) for i in items))


def test_pair_counts_merge_pending_follow_ups_on_read() -> None:
    counts = PairCounts()
    counts.add([0, 1], np.asarray([2, 3], dtype=np.int64))
    counts.add([0], np.asarray([3], dtype=np.int64))
    idx, vals = counts.row(0)
    assert idx.tolist() == [2, 3] and vals.tolist() == [1.0, 2.0]
    counts.add([0], np.asarray([2, 5], dtype=np.int64))
    idx, vals = counts.row(0)
    assert idx.tolist() == [2, 3, 5] and vals.tolist() == [2.0, 2.0, 1.0]
    assert counts.row(1)[1].tolist() == [1.0, 1.0]
    assert len(counts.row(9)[0]) == 0


def test_followed_counts_within_the_window_of_earlier_orders() -> None:
    index = {"milk": 0, "cookies": 1, "tea": 2}
    train = [
        _order(0, "u", 0.0, "milk"),
        _order(1, "u", 1 * DAY, "cookies"),  # follows milk
        _order(2, "u", 2 * DAY, "milk"),  # follows milk (a rebuy) and cookies
        _order(3, "v", 0.0, "milk"),
        _order(4, "v", 31 * DAY, "tea"),  # 31 days later: outside the window
        _order(5, None, 1 * DAY, "tea"),  # anonymous: not counted
    ]
    f = FollowedCounts(train, index, 50)
    assert f.counts.row(0)[0].tolist() == [0, 1]  # milk -> milk, cookies; not tea
    assert f.counts.row(0)[1].tolist() == [1.0, 1.0]
    assert f.counts.row(1)[0].tolist() == [0]  # cookies -> milk
    assert f.window("u", 2 * DAY + WINDOW) == [0]  # the order of day 2 only
    assert sorted(f.window("u", 2 * DAY)) == [0, 1]
    assert f.scores("u", 3 * DAY, 3).tolist() == [2.0, 1.0, 0.0]  # milk, cookies in window
    assert f.scores(None, 3 * DAY, 3).tolist() == [0.0, 0.0, 0.0]
    f.learn("v", 32 * DAY, ["cookies", "unknown"])  # follows tea; unknown items ignored
    assert f.counts.row(2)[0].tolist() == [1]


def _knn(train: list[PurchaseEvent], k: int) -> SessionKnn:
    base = Baselines(build(train, 50), k)
    return SessionKnn(base, index_baskets(train, base.co.index))


KNN_TRAIN = [
    _order(0, "u", 0.0, "a", "p"),
    _order(1, "u", 1.0, "a", "q"),
    _order(2, "v", 2.0, "q", "r"),
    _order(3, "v", 3.0, "s", "p", "a"),
]


def test_sknn_e_without_a_prefix_is_vsknn() -> None:
    knn = _knn(KNN_TRAIN, 2)
    for items in (["a", "z", "s"], ["p", "q", "r", "a"], ["new", "a"]):
        assert knn.extended(items, []) == knn.sessions(items, 9.0)[0]


def test_sknn_e_prefix_items_weigh_as_older_positions() -> None:
    knn = _knn(KNN_TRAIN, 1)
    # cart [a]: the 3 baskets holding a each weigh 1; p is in two of them
    assert knn.extended(["a", "z"], []) == [["p"]]
    # the prefix [r] (weight 1 / 2) brings the basket (q, r): q gets 1 + 0.5 < p's 2
    assert knn.extended(["a", "z"], ["r"]) == [["p"]]
    # the prefix [q, r]: r 1 / 2, q 1 / 3: (q, r) weighs 5 / 6, (a, q) 1 + 1 / 3
    # q: 4 / 3 + 5 / 6 = 2.17 > p's 2 (q's own basket (a, q) now weighs more)
    assert knn.extended(["a", "z"], ["q", "r"]) == [["q"]]
    # a prefix item in the cart counts once, as a cart item
    assert knn.extended(["a", "z"], ["a"]) == [["p"]]
    # an unknown cart with a prefix votes from the prefix alone
    assert knn.extended(["new", "z"], ["r"]) == [["q"]]


def test_same_basket_conf_drops_rconf_recency_weights() -> None:
    train = [
        _order(0, "u", 0.0, "x", "a"),
        _order(1, "u", 1.0, "x", "a"),
        _order(2, "v", 2.0, "y", "b"),
        _order(3, "v", 3.0, "y", "b"),
        _order(4, "v", 4.0, "y", "c"),
    ]
    anchors = PersonalAnchors(train, 1, 50)
    s = personal_sessions(train, [_order(5, None, 5.0, "x", "y", "z")])[0]
    got = anchors.session(s)
    # after y: rconf = 0.5 P(. | x) + P(. | y): a 0.5, b 2 / 3; the plain sum: a 1, b 2 / 3
    assert got["rconf"] == [["a"], ["b"]]
    assert got["same_basket_conf"] == [["a"], ["a"]]
    assert got["followed_count"] == got["rconf"]  # anonymous: rconf's list
    assert got["sknn_e"] == anchors.knn.sessions(s.items, s.order.ts)[0]


def test_followed_count_and_sknn_e_use_the_users_past_and_stream() -> None:
    train = [
        _order(0, "u", 0.0, "milk", "x"),
        _order(1, "u", 1 * DAY, "cookies"),
        _order(2, "v", 0.0, "bread", "jam"),
        _order(3, "v", 0.5 * DAY, "bread", "jam"),
        _order(4, "w", 5 * DAY, "milk"),
    ]
    anchors = PersonalAnchors(train, 1, 50)
    w = personal_sessions(train, [_order(5, "w", 6 * DAY, "bread", "tea")])[0]
    got = anchors.session(w)
    assert got["rconf"] == [["jam"]]
    assert got["followed_count"] == [["cookies"]]  # w's milk was followed by cookies
    assert got["sknn_e"] == [["jam"]]  # (bread, jam) weigh 1, milk's baskets 1 / 2
    anchors.learn(w)
    index = anchors.base.co.index
    assert anchors.followed.orders["w"][-1] == (6 * DAY, [index["bread"], index["tea"]])
    assert anchors.followed.counts.row(index["milk"])[0].tolist() == sorted(
        [index["cookies"], index["bread"], index["tea"]]
    )
    # 44 days after w's last order: nothing in the window, so rconf's list
    later = personal_sessions(train, [_order(6, "w", 50 * DAY, "jam", "z")])[0]
    assert anchors.session(later)["followed_count"] == anchors.session(later)["rconf"]
    assert set(ANCHORS) >= {"sknn_e", "same_basket_conf", "followed_count"}


def test_followed_scores_sum_the_window_items_rows() -> None:
    index = {"a": 0, "b": 1, "c": 2}
    f = FollowedCounts([], index, 50)
    f.learn("u", 0.0, ["a"])
    f.learn("u", DAY, ["b", "c"])
    scores = f.scores("u", 2 * DAY, 3)
    assert scores.tolist() == pytest.approx([0.0, 1.0, 1.0])  # a -> b, c; a, b, c in window
    f.learn("u", 1.5 * DAY, ["c"])  # follows a, b, c: c's score is a->c 2, b->c 1, c->c 1
    assert f.scores("u", 2 * DAY, 3).tolist() == pytest.approx([0.0, 1.0, 4.0])
