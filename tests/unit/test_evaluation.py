"""The evaluation protocol's split, metrics and numpy baselines on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from xsell.evaluation.baselines import Baselines, build
from xsell.evaluation.protocol import Metrics, eval_sessions, split
from xsell.models.events import OrderLine, PurchaseEvent


def order(n: int, items: list[str], ts: float) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", None, ts, tuple(OrderLine(i) for i in items))


def test_split_sorts_by_time_keeps_ties_in_file_order_and_cuts_80_percent() -> None:
    orders = [order(n, ["a"], ts) for n, ts in enumerate([5, 1, 3, 3, 2, 9, 8, 7, 6, 4])]
    train, test = split(orders)
    assert [o.order_id for o in train] == ["o1", "o4", "o2", "o3", "o9", "o0", "o8", "o7"]
    assert [o.order_id for o in test] == ["o6", "o5"]


def test_sessions_need_two_distinct_items_and_keep_the_first_fifty() -> None:
    big = order(1, [str(i) for i in range(60)] + ["0"], 1.0)
    sessions = eval_sessions([order(0, ["a", "a"], 0.0), big])
    assert len(sessions) == 1 and sessions[0][1] == [str(i) for i in range(50)]


def test_metrics_on_hand_computed_triggers() -> None:
    m = Metrics(k=3)
    m.add(["x", "b", "y"], {"b", "c"})  # hit at rank 2
    m.add(["x", "y", "z"], {"b"})  # miss
    res = m.result(catalogue_size=10)
    assert res["hr"] == 0.5
    assert res["precision"] == round((1 / 3) / 2, 4)
    assert res["mrr"] == 0.25
    ndcg_first = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert res["ndcg"] == round(ndcg_first / 2, 4)
    assert res["coverage"] == 0.4  # x, b, y, z of 10


def test_baselines_on_golden_baskets() -> None:
    train = [
        order(0, ["a", "b", "c"], 0),
        order(1, ["a", "b"], 1),
        order(2, ["b", "d"], 2),
        order(3, ["e"], 3),
        order(4, ["e"], 4),
        order(5, ["e"], 5),
    ]
    co = build(train, max_items=50)
    a, b = co.index["a"], co.index["b"]
    idx, together = co.row(a)
    assert dict(zip([co.items[i] for i in idx], together.tolist(), strict=True)) == {
        "b": 2.0,
        "c": 1.0,
    }
    assert co.counts[b] == 3.0
    base = Baselines(co, k=2)
    assert base.popular(["e"]) == ["b", "a"]
    # after "a": Jaccard(a,b) = 2/3, Jaccard(a,c) = 1/2; after "a","c": b gets 2/3 + 1/3
    assert base.jaccard_session(["a", "c", "x"]) == [["b", "c"], ["b", "e"]]


def test_pairs_are_capped_like_the_store() -> None:
    co = build([order(0, ["a", "b", "c"], 0)], max_items=2)
    assert co.items == ["a", "b", "c"] and co.counts.tolist() == [1.0, 1.0, 1.0]
    idx, _ = co.row(co.index["a"])
    assert [co.items[i] for i in idx] == ["b"]
    with pytest.raises(KeyError):
        co.index["z"]
