"""The post-purchase protocol's pure parts (xsell/evaluation/post_purchase.py): which orders are
triggers, the metrics, the streamed anchors and the micro-batches of distinct users."""

from __future__ import annotations

from xsell.evaluation.post_purchase import PostMetrics, StreamedAnchors, batches, next_orders
from xsell.models.events import OrderLine, PurchaseEvent

DAY = 86400.0


def _order(n: int, user: str | None, ts: float, *items: str) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", user, ts, tuple(OrderLine(i) for i in items))


def test_a_trigger_is_a_test_order_whose_user_orders_again_within_the_window() -> None:
    ordered = [
        _order(0, "u", 0.0, "a"),  # train
        _order(1, "u", 1 * DAY, "b"),  # test: next order 2 days later
        _order(2, "v", 2 * DAY, "c"),  # test: next order 40 days later: no trigger
        _order(3, "u", 3 * DAY, "c", "d"),  # test: last of u
        _order(4, None, 4 * DAY, "e"),
        _order(5, "v", 42 * DAY, "f"),
    ]
    assert next_orders(ordered, 1, 30 * DAY) == {1: {"c", "d"}}


def test_metrics_count_hits_recall_of_new_items_and_owned_offers() -> None:
    m = PostMetrics(3)
    m.add(["x", "y", "z"], {"y", "w", "old"}, {"old"})  # hit; 1 of 2 new items
    m.add(["old", "q", "r"], {"old"}, {"old"})  # only a rebuy follows: no new item
    assert m.result() == {"hr": 0.5, "recall": 0.25, "owned_suggested": 1}


def test_streamed_anchors_learn_same_basket_follow_ups_and_popularity() -> None:
    anchors = StreamedAnchors(max_items=50, window=30 * DAY)
    for order in [
        _order(0, "u", 0.0, "cam", "bag"),
        _order(1, "u", DAY, "card"),
        _order(2, "v", 0.0, "cam", "strap"),
        _order(3, None, 0.0, "cam"),
    ]:
        anchors.learn(order)
    got = anchors.suggest(["cam"], {"cam"}, 2)
    assert got["same_basket"] == ["bag", "strap"]  # 1/3 each, ties by id
    assert got["followed_by"] == ["card"]
    assert got["popular"] == ["bag", "card"]


def test_batches_never_hold_a_user_twice() -> None:
    orders = [_order(0, "u", 0, "a"), _order(1, None, 0, "a"), _order(2, "u", 0, "a")]
    orders.append(_order(3, "v", 0, "a"))
    assert list(batches(orders, 10)) == [[0, 1], [2, 3]]
    assert list(batches(orders, 1)) == [[0], [1], [2], [3]]
