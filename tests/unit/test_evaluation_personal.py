"""The cart-personal protocol's pure parts (xsell/evaluation/personal.py) and its anchors
(personal_anchors.py), on tiny hand-made orders."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from xsell.evaluation.personal import (
    CartQueue,
    GroupMetrics,
    PersonalSession,
    checkout,
    group_triggers,
    personal_sessions,
    replay_personal,
)
from xsell.evaluation.personal_anchors import (
    PersonalAnchors,
    history_cell,
    history_scale,
    history_weights,
    order_shares,
    tifu_vector,
)
from xsell.evaluation.personal_run import personal_report, personal_table
from xsell.models.events import OrderLine, PurchaseEvent


def _order(n: int, user: str | None, *items: str) -> PurchaseEvent:
    return PurchaseEvent(f"e{n}", f"o{n}", user, float(n), tuple(OrderLine(i) for i in items))


TRAIN = [_order(0, "u", "milk", "bread"), _order(1, "v", "milk", "jam")]
TEST = [
    _order(2, "u", "milk", "eggs", "bread"),  # returning: bread and milk owned
    _order(3, "w", "tea", "milk"),  # first order of w
    _order(4, None, "milk", "jam"),  # anonymous
    _order(5, "w", "tea", "cake"),  # returning by an earlier test order
    _order(6, "x", "solo"),  # one item: no trigger, still w's... x's history
]


def test_groups_and_new_items_follow_each_users_earlier_orders() -> None:
    sessions = personal_sessions(TRAIN, TEST)
    assert [s.group for s in sessions] == ["returning", "first", "anonymous", "returning", "first"]
    assert [s.user for s in sessions] == ["u", "w", "eval-o4", "w", "x"]
    assert sessions[0].new == {"eggs"}
    assert sessions[1].new == {"tea", "milk"}
    assert sessions[3].new == {"cake"}  # tea was bought in w's first (test) order
    assert group_triggers(sessions) == {"all": 5, "returning": 3, "first": 1, "anonymous": 1}


def test_forms_any_and_explore() -> None:
    sessions = personal_sessions(TRAIN, TEST)
    m = GroupMetrics(1)
    m.add(sessions[0], 0, ["bread"])  # rest {eggs, bread}: an any hit, an explore miss
    m.add(sessions[0], 1, ["bread"])  # rest {bread}: owned only, so no explore trigger
    m.add(sessions[1], 0, ["milk"])  # first order: milk is new
    r = m.result()
    assert r["returning"]["any"] == {"hr": 1.0, "mrr": 1.0, "triggers": 2}
    assert r["returning"]["explore"] == {"hr": 0.0, "mrr": 0.0, "triggers": 1}
    assert r["first"]["explore"]["hr"] == 1.0
    assert r["all"]["any"]["triggers"] == 3 and r["all"]["explore"]["triggers"] == 2
    assert r["anonymous"]["any"]["triggers"] == 0


def test_queue_defers_a_users_next_cart_and_keeps_time_order_otherwise() -> None:
    queue = CartQueue(["a", "a", "b", "c", "a"])
    open_users: set[str] = set()
    assert queue.take(3, open_users) == [0, 2, 3]  # a's second order waits
    assert queue.take(1, open_users) == []  # a still open; 4 (a) waits too
    open_users.discard("a")
    assert queue.take(5, open_users) == [1]  # the earliest waiting first, one per user
    open_users.discard("a")
    assert queue.take(5, open_users) == [4]
    assert queue.done()


class _FakeStore:
    def __init__(self, log: list[Any]) -> None:
        self.log = log

    async def apply(self, events: list[PurchaseEvent]) -> None:
        self.log.append(("checkout", [e.user_id for e in events]))


class _FakeEngine:
    def __init__(self) -> None:
        self.log: list[Any] = []
        self.store = _FakeStore(self.log)

    async def process(self, events: list[Any]) -> list[dict[str, Any]]:
        self.log.append(("batch", [e.user_id for e in events]))
        return [{"items": []} for _ in events]


class _Bar:
    def update(self) -> None:
        pass


def test_replay_never_opens_two_carts_of_a_user() -> None:
    orders = [
        _order(0, "u", "a", "b", "c"),
        _order(1, "u", "d", "e"),
        _order(2, None, "a", "b"),
        _order(3, "v", "x"),
        _order(4, "u", "f", "g"),
    ]
    sessions = personal_sessions([], orders)
    engine = _FakeEngine()
    scored: list[tuple[int, int]] = []
    asyncio.run(
        replay_personal(engine, sessions, 10, lambda i, n, m: scored.append((i, n)), _Bar())
    )
    assert sorted(scored) == [(0, 0), (0, 1), (1, 0), (2, 0), (4, 0)]
    open_carts: dict[str, int] = {}
    for kind, users in engine.log:
        if kind == "batch":
            assert len(users) == len(set(users))
        else:
            for u in users:
                open_carts[u] = open_carts.get(u, 0) + 1
    assert open_carts == {"u": 3, "eval-o2": 1, "v": 1}
    # u's carts follow each other: first batch holds u once; each of u's later carts starts
    # only after a checkout of u
    batches = [users for kind, users in engine.log if kind == "batch"]
    assert batches[0] == ["u", "eval-o2", "v"]
    assert checkout(sessions[0]).user_id == "u"


def _session(order: PurchaseEvent, train: list[PurchaseEvent]) -> PersonalSession:
    return personal_sessions(train, [order])[0]


def test_history_weights_scale_and_shares() -> None:
    baskets = [["a", "b"], ["a"], ["c"]]
    assert history_weights(baskets, 0.5) == {"c": 1.0, "a": 0.5 + 0.25, "b": 0.25}
    assert history_scale(0.3, 1.5, 3.0) == pytest.approx(0.15)  # capped at 0.3 x the cart
    assert history_scale(0.3, 3.0, 1.0) == pytest.approx(0.3)
    assert history_scale(0.3, 1.0, 0.0) == 0.0
    assert order_shares(baskets) == {"a": 2 / 3, "b": 1 / 3, "c": 1 / 3}


def test_tifu_vector_groups_of_seven_with_the_remainder_first() -> None:
    one = tifu_vector([["a"]])
    assert one == {"a": 1.0}
    baskets = [["old"]] + [["x"]] * 6 + [["new"]]  # 8 baskets: groups of 1 and 7
    v = tifu_vector(baskets)
    assert v["old"] == pytest.approx(0.7 / 2)  # the older group, one basket
    assert v["new"] == pytest.approx(1 / 7 / 2)  # the newest basket of the newest group
    assert v["x"] == pytest.approx(sum(0.9**e for e in range(1, 7)) / 7 / 2)


TOY_TRAIN = [
    _order(0, "u", "milk", "cereal"),
    _order(1, "u", "milk", "cereal", "bananas"),
    _order(2, "v", "pasta", "sauce"),
    _order(3, "v", "pasta", "sauce"),
    _order(4, "z", "pasta", "cheese"),
    _order(5, "z", "pasta", "cheese"),
    _order(6, "z", "pasta", "cheese"),
]


def test_anchors_on_a_toy_case() -> None:
    anchors = PersonalAnchors(TOY_TRAIN, 1, 50)
    got = anchors.session(_session(_order(7, "u", "pasta", "milk"), TOY_TRAIN))
    assert got["rconf"] == [["cheese"]]  # 3/5 against sauce's 2/5
    assert got["rconf_unowned"] == [["cheese"]]
    assert got["user_freq"] == [["cereal"]]  # u's items by share: cereal and milk 1.0, ties by id
    assert got["tifu"] == [["milk"]]  # 0.5 x 1 (scaled), tied with cheese; lower index first
    assert got["popular_unowned"] == [["cheese"]]  # pasta in the cart, milk owned
    # u's history weighs 1.9 (milk, cereal) and 1 (bananas), scaled to the cart's 1: milk's
    # neighbours give it 2.9 / 4.8 = 0.604 > cheese's 0.6; at w = 0.1 it stays far below
    assert got[history_cell(1.0, 0.9)] == [["milk"]]
    assert got[history_cell(0.1, 0.5)] == [["cheese"]]
    anchors_k2 = PersonalAnchors(TOY_TRAIN, 2, 50)
    got2 = anchors_k2.session(_session(_order(7, "u", "milk", "x"), TOY_TRAIN))
    assert got2["rconf"] == [["cereal", "bananas"]]
    assert got2["rconf_unowned"] == [["pasta", "cheese"]]  # owned left out: popular padding
    assert got2["user_freq"] == [["cereal", "bananas"]]


def test_history_lifts_the_users_neighbours_and_anchors_learn_each_session() -> None:
    anchors = PersonalAnchors(TOY_TRAIN, 1, 50)
    u_cart = _session(_order(7, "u", "bread", "pasta"), TOY_TRAIN)
    got = anchors.session(u_cart)
    assert got["rconf"] == [["pasta"]]  # bread unknown: popular padding
    # u's history alone scores: milk and cereal 2.9 each (ties: first seen), bananas 1.9
    assert got[history_cell(0.1, 0.5)] == [["milk"]]
    anchors.learn(u_cart)
    assert anchors.baskets["u"][-1] == ["bread", "pasta"]
    again = anchors.session(_session(_order(8, "w", "bread", "cake"), TOY_TRAIN))
    assert again["rconf"] == [["pasta"]]  # learnt: bread -> pasta


def test_report_picks_the_best_history_cell_and_tables() -> None:
    sessions = personal_sessions(TRAIN, TEST)
    results = {"xsell": GroupMetrics(3)}
    for name in ("rconf", "rconf_unowned", "user_freq", "tifu", "popular_unowned"):
        results[name] = GroupMetrics(3)
    for n, (w, d) in enumerate([(w, d) for w in (0.1, 0.3, 1.0) for d in (0.5, 0.9)]):
        m = GroupMetrics(3)
        m.add(sessions[0], 0, ["eggs"] if n == 4 else ["zzz"])
        results[history_cell(w, d)] = m
    rep = personal_report("toy", 3, TRAIN, sessions, results, 1.0, None)
    assert rep["rconf_history_cell"] == history_cell(1.0, 0.5)
    assert rep["results"]["rconf_history"]["returning"]["explore"]["hr"] == 1.0
    assert next(iter(rep["results"])) == "xsell"
    assert rep["triggers"]["returning"] == 3
    assert "rconf_history" in personal_table(rep)


def test_the_flag_parses_with_the_cart_options() -> None:
    import argparse

    from xsell.cli.eval_args import add_eval_parser

    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers())
    args = parser.parse_args(["eval", "--orders", "x.csv", "--cart-personal", "--k", "5", "--json"])
    assert args.cart_personal and args.k == 5 and args.json
