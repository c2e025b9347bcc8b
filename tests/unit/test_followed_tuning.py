"""The pure rules of the followed-by weight's self-tuning (models/followed_tuning.py): the
candidate weights, a top k without owned items, and a case closed by the next order."""

from __future__ import annotations

from xsell.models.followed_tuning import (
    close_case,
    followed_candidates,
    opened_case,
    shortlist,
    top_unowned,
)
from xsell.models.tuning import counter_fields, lead, stats_of


def test_the_configured_weight_joins_the_grid_in_order() -> None:
    assert followed_candidates(1.0) == (0.0, 1.0, 2.0, 4.0, 8.0)
    assert followed_candidates(3.0) == (0.0, 1.0, 2.0, 3.0, 4.0, 8.0)


def test_a_top_k_skips_owned_items_and_a_shortlist_keeps_spares() -> None:
    scored = {
        "a": (3.0, "x", 1.0),
        "b": (2.0, "x", 1.0),
        "c": (2.0, "x", 1.0),
        "d": (1.0, "x", 1.0),
    }
    ranked = shortlist(scored, 2, 1)
    assert ranked == ("a", "b", "c")  # ties by id
    assert top_unowned(ranked, lambda i: i == "a", 2) == ("b", "c")


def test_the_next_order_scores_every_candidate_once_within_the_window() -> None:
    case = opened_case([("x", "y"), ("f", "x"), ("f", "g")], 100.0)
    delta = close_case(case, ["f", "g", "f"], 150.0, 60.0)
    assert delta is not None
    values = dict(zip(counter_fields(3), delta, strict=True))
    assert (values["h0"], values["h1"], values["h2"]) == (0, 1, 1)  # f and g count once
    assert (values["w1_0"], values["w0_1"], values["w1_2"]) == (1, 0, 0)
    stats = stats_of(1.0, delta, 3, 0)
    assert stats.win(2, 0) == 1


def test_a_late_order_or_no_case_scores_nothing() -> None:
    case = opened_case([("x",), ("f",)], 100.0)
    assert close_case(case, ["f"], 161.0, 60.0) is None  # after the window
    assert close_case(case, ["f"], 99.0, 60.0) is None  # an older order (a redelivery)
    assert close_case(None, ["f"], 120.0, 60.0) is None


def test_the_lead_is_the_paired_statistic_of_the_best_against_the_choice() -> None:
    # h0..h2, then w0_1, w0_2, w1_0, w1_2, w2_0, w2_1
    stats = stats_of(100.0, [5, 9, 13, 1, 0, 5, 0, 9, 4], 3, 0)
    best, wins, losses, z = lead(stats)
    assert (best, wins, losses) == (2, 9, 0)
    assert z == 3.0
    assert lead(stats_of(10.0, [0.0] * 9, 3, 1))[1:] == (0.0, 0.0, 0.0)
