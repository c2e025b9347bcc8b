"""The pure rules of the number of buy-again places' self-tuning (models/rebuy_tuning.py): the
candidates, each one's offers, which adds are cases, and a case scored by later adds; and whose
history ranking reads (models/rebuy_offers.owners)."""

from __future__ import annotations

from xsell.models.ranking import Because, Offer, RankInput, RankRequest
from xsell.models.rebuy import Rebuy, RebuyParams
from xsell.models.rebuy_offers import owners, with_rebuys
from xsell.models.rebuy_tuning import candidate_lists, cart_cases, is_case, rebuy_candidates
from xsell.models.tuning import MAX_OPEN_CASES, OpenCase, counter_fields

NOW = 1_700_000_000.0


def test_the_configured_number_joins_the_grid_in_order() -> None:
    assert rebuy_candidates(1, (0, 1, 2, 3)) == (0, 1, 2, 3)
    assert rebuy_candidates(2, (0, 1)) == (0, 1, 2)
    assert rebuy_candidates(0, ()) == (0,)


def _offer(item: str, score: float) -> Offer:
    return Offer(item, score, "cross_sell", Because("bread", 1.0, 1.0))


def test_each_candidate_is_the_final_offers_with_that_many_places() -> None:
    offers = [_offer("x", 3.0), _offer("y", 2.0), _offer("z", 1.0)]
    due = {"coffee": Rebuy(10, 9), "tea": Rebuy(10, 12), "milk": Rebuy(10, 15)}
    inp = RankInput(
        anchors=["bread"],
        exclude=frozenset({"bread"}),
        neighbours={},
        counts={},
        total=0.0,
        catalog={},
        history={},
        popular=[],
        now=NOW,
        rebuys=due,
    )

    def offers_with(places: int) -> list[Offer]:
        return with_rebuys(offers, inp, 3, RebuyParams(max_offers=places))

    lists = candidate_lists(offers_with, (0, 1, 2, 3))
    assert lists == (
        ("x", "y", "z"),
        ("x", "y", "coffee"),
        ("x", "coffee", "tea"),
        ("coffee", "tea", "milk"),
    )
    assert is_case(lists)
    assert not is_case([("x", "y", "z")] * 4)  # no due rebuy: every candidate agrees


def test_later_adds_score_the_open_cases_and_an_add_opens_one_only_where_lists_differ() -> None:
    lists = (("x", "y", "z"), ("x", "y", "coffee"), ("coffee", "tea", "milk"))
    after, delta, opens = cart_cases([], "bread", lists)
    assert opens and len(after) == 1 and delta == []
    after, delta, opens = cart_cases(after, "milk", [("x",), ("x",), ("x",)])
    assert not opens and len(after) == 1  # scored; no case of its own
    values = dict(zip(counter_fields(3), delta, strict=True))
    assert (values["h0"], values["h1"], values["h2"]) == (0, 0, 1)
    assert (values["w2_0"], values["w2_1"], values["w0_2"]) == (1, 1, 0)
    many = [OpenCase(lists, (False,) * 3)] * MAX_OPEN_CASES
    kept, _, _ = cart_cases(many, "bread", lists)
    assert len(kept) == MAX_OPEN_CASES


def test_histories_are_read_for_offers_or_for_the_tuned_rows_only() -> None:
    def cart(user: str | None) -> RankRequest:
        return RankRequest(["a"], frozenset({"a"}), NOW, user, "cart")

    post = RankRequest(["a"], frozenset({"a"}), NOW, "p", "post_purchase")
    requests = [cart("u1"), cart(None), cart("u2"), post]
    assert owners(requests, True, frozenset(), False) == ["u1", "u2"]
    assert owners(requests, False, frozenset({2, 3}), True) == ["u2"]
    assert owners(requests, False, frozenset({2}), False) == []
