"""The anchors of ``xsell eval`` learn the test orders as they stream: incrementally, to the
same statistics as a build at the end, and never from an order before it is scored."""

from __future__ import annotations

import random

import numpy as np

from xsell.evaluation.baselines import Baselines, build
from xsell.evaluation.protocol import EvalData
from xsell.evaluation.runner import anchor_suggestions, report, run_baselines, table
from xsell.evaluation.session_knn import SAMPLE, SessionKnn, index_baskets
from xsell.models.events import OrderLine, PurchaseEvent


def order(n: int, items: list[str], ts: float) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", None, ts, tuple(OrderLine(i) for i in items))


def random_orders(count: int, seed: int) -> list[PurchaseEvent]:
    """Baskets over a catalogue that keeps growing, so later orders bring new items."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        catalogue = 8 + n // 3
        size = rng.randint(1, 7)
        out.append(order(n, [f"i{rng.randrange(catalogue)}" for _ in range(size)], float(n)))
    return out


def stream(train: list[PurchaseEvent], test: list[PurchaseEvent], max_items: int) -> SessionKnn:
    base = Baselines(build(train, max_items), k=3)
    knn = SessionKnn(base, index_baskets(train, base.co.index))
    for o in test:
        base.add(o.distinct_items(), max_items)
        knn.add(o.distinct_items(), o.ts)
    return knn


def rows(base: Baselines) -> list[dict[int, float]]:
    co = base.co
    out = []
    for i in range(len(co.items)):
        idx, both = co.row(i)
        assert list(idx) == sorted(idx)  # partners ascending, as the CSR build gives
        out.append(dict(zip(idx.tolist(), both.tolist(), strict=True)))
    return out


def test_streaming_orders_one_by_one_equals_building_from_all_of_them() -> None:
    orders = random_orders(120, seed=3)
    train, test = orders[:80], orders[80:]
    for max_items in (50, 3):
        streamed = stream(train, test, max_items)
        built_base = Baselines(build(orders, max_items), k=3)
        built = SessionKnn(built_base, index_baskets(orders, built_base.co.index))
        s, b = streamed.base, built.base
        assert s.co.items == b.co.items and s.co.index == b.co.index
        assert len(s.co.items) > len(build(train, max_items).items)  # the test brought new items
        assert s.co.counts.tolist() == b.co.counts.tolist()
        assert rows(s) == rows(b)
        assert s.ranked == b.ranked
        sb, bb = streamed.baskets, built.baskets
        assert sb.basket_ptr.tolist() == bb.basket_ptr.tolist()
        assert sb.basket_items.tolist() == bb.basket_items.tolist()
        assert sb.basket_ts.tolist() == bb.basket_ts.tolist()
        for i in range(len(s.co.items)):
            for last in (1, 4, SAMPLE):
                assert sb.baskets_of(i, last).tolist() == bb.baskets_of(i, last).tolist()
        cart = ["i1", "i5", "i30", "i2"]
        assert s.rconf_session(cart) == b.rconf_session(cart)
        assert s.jaccard_session(cart) == b.jaccard_session(cart)
        assert s.popular(cart) == b.popular(cart)
        built.lambda_time = streamed.lambda_time  # STAN's time scale: the training span's
        now = 200.0
        assert streamed.sessions(cart, now) == built.sessions(cart, now)


def test_a_row_read_between_adds_merges_each_added_order_once() -> None:
    base = Baselines(build([order(0, ["a", "b"], 0)], 50), k=2)
    base.add(["a", "c"], 50)
    idx, both = base.co.row(base.co.index["a"])
    assert dict(zip(idx.tolist(), both.tolist(), strict=True)) == {1: 1.0, 2: 1.0}
    base.add(["a", "b", "c"], 50)
    idx, both = base.co.row(base.co.index["a"])
    assert dict(zip(idx.tolist(), both.tolist(), strict=True)) == {1: 2.0, 2: 2.0}
    assert base.co.counts.tolist() == [3.0, 2.0, 2.0]
    assert base.popular([]) == ["a", "b"]  # b and c tie at 2: the first seen first


def split_data() -> EvalData:
    """Training of old items; a test stream of new items: (x, y), (x, z), then (x, y) again."""
    train = [order(n, ["a", "b"], float(n)) for n in range(8)]
    test = [order(8, ["x", "y"], 8.0), order(9, ["x", "z"], 9.0)]
    return EvalData(
        train, test, [(o, o.distinct_items()) for o in test], ["a", "b"]
    )  # two sessions


def test_a_suggestion_never_uses_its_own_order_or_a_later_one() -> None:
    data = split_data()
    streamed = list(anchor_suggestions(data, k=2, max_items=50, stream=True))
    trained = list(anchor_suggestions(data, k=2, max_items=50, stream=False))
    # first order: nothing of the test stream is known yet, in both modes
    for _, lists in (streamed[0], trained[0]):
        for name, suggested in lists.items():
            assert suggested == [["a", "b"]], name
    # second order: the streamed anchors learnt the first order (x with y), not this one (z)
    for name, suggested in streamed[1][1].items():
        assert "z" not in suggested[0], name
        if name != "popular":
            assert suggested[0][0] == "y", name
    for name, suggested in trained[1][1].items():
        assert suggested == [["a", "b"]], name


def test_streamed_anchors_hit_what_earlier_test_orders_taught_them() -> None:
    train = [order(n, ["a", "b"], float(n)) for n in range(8)]
    test = [order(8 + n, ["x", "y"], 8.0 + n) for n in range(4)]
    data = EvalData(train, test, [(o, o.distinct_items()) for o in test], ["a", "b"])
    streamed = run_baselines(data, k=1, max_items=50, stream=True)
    trained = run_baselines(data, k=1, max_items=50, stream=False)
    for name in ("jaccard", "rconf", "vsknn", "stan"):
        assert streamed[name].result(2)["hr"] == 0.75, name  # all but the first order
        assert trained[name].result(2)["hr"] == 0.0, name
    assert np.isclose(streamed["popular"].result(2)["hr"], 0.0)  # x and y: 4 each, "a": 8


def test_the_table_says_how_the_anchors_learnt() -> None:
    data = split_data()
    results = run_baselines(data, k=2, max_items=50, stream=False)
    rep = report("shop", data, 2, results, 1.0, anchors="train-only")
    assert rep["anchors"] == "train-only"
    assert "anchors: train-only (learnt from the training split only)" in table(rep)
    streamed = report("shop", data, 2, results, 1.0)
    assert streamed["anchors"] == "streamed"
    assert "anchors: streamed (each test order learnt once scored" in table(streamed)
