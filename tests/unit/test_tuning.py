"""The pure rules of self-tuning (models/tuning.py): the fading factor, hits, the damped
choice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from xsell.models.ranking import RankParams
from xsell.models.tuning import (
    OpenCase,
    TuneStats,
    candidate_label,
    candidate_params,
    case_counts,
    choose,
    corrected_z,
    counter_fields,
    fading_factor,
    is_hit,
    score_open_cases,
    stats_of,
)


def test_fading_factor_halves_a_case_after_the_half_life() -> None:
    f = fading_factor(1000.0)
    assert f**1000 == pytest.approx(0.5)
    assert fading_factor(0.0) == 1.0  # never fades


def test_candidates_differ_only_in_the_recency_weight() -> None:
    base = RankParams(k=3, similarity="confidence", popularity_prior=1.0)
    got = candidate_params(base, [0.5, 1.0])
    assert [p.recency_decay for p in got] == [0.5, 1.0]
    assert all(p.k == 3 and p.popularity_prior == 1.0 for p in got)


def test_backoff_candidates_follow_the_configured_ones() -> None:
    """Why: the first candidates stay the recency weights with the configured back-off, so a
    choice stored before back-off candidates existed keeps its meaning, and each back-off
    strength is tested with every recency weight (a grid: the two interact)."""
    base = RankParams(k=3, category_backoff=1.0)
    got = candidate_params(base, [0.5, 1.0], [0.0, 1.0])
    assert [(p.recency_decay, p.category_backoff) for p in got] == [
        (0.5, 1.0),
        (1.0, 1.0),
        (0.5, 0.0),
        (1.0, 0.0),
    ]
    assert [candidate_label(p, base) for p in got] == [
        "0.5",
        "1.0",
        "0.5/category_backoff=0.0",
        "1.0/category_backoff=0.0",
    ]


def test_similarity_and_prior_candidates_come_last_one_axis_at_a_time() -> None:
    """Why: the grid's candidates keep their places (a stored choice keeps its meaning), and
    each other similarity or prior strength is tried with every recency weight around the
    configured ranking (a star, not a grid: the tests' cost grows with the candidates)."""
    base = RankParams(k=3, similarity="confidence", popularity_prior=1.0, category_backoff=1.0)
    got = candidate_params(base, [0.5, 1.0], [0.0], ["confidence", "jaccard"], [1.0, 1e4])
    assert [
        (p.recency_decay, p.category_backoff, p.similarity, p.popularity_prior) for p in got
    ] == [
        (0.5, 1.0, "confidence", 1.0),
        (1.0, 1.0, "confidence", 1.0),
        (0.5, 0.0, "confidence", 1.0),
        (1.0, 0.0, "confidence", 1.0),
        (0.5, 1.0, "jaccard", 1.0),
        (1.0, 1.0, "jaccard", 1.0),
        (0.5, 1.0, "confidence", 1e4),
        (1.0, 1.0, "confidence", 1e4),
    ]
    assert [candidate_label(p, base) for p in got[4:]] == [
        "0.5/similarity=jaccard",
        "1.0/similarity=jaccard",
        "0.5/popularity_prior=10000",
        "1.0/popularity_prior=10000",
    ]
    assert candidate_params(base, [0.5], [], ["confidence"], [1.0]) == [base]  # nothing new


def test_open_cases_count_a_first_hit_once_and_turn_back_a_paired_win() -> None:
    case = OpenCase((("x", "y"), ("z", "w")), (False, False))
    after, delta = score_open_cases([case], "y")  # candidate 0 hits
    assert after[0].hit == (True, False)
    assert delta == [1, 0, 1, 0]  # h0, h1, w0_1, w1_0
    after, delta = score_open_cases(after, "y")  # the same item again: no second hit
    assert delta == [0, 0, 0, 0]
    after, delta = score_open_cases(after, "w")  # candidate 1 hits too: the win turns back
    assert after[0].hit == (True, True)
    assert delta == [0, 1, -1, 0]
    assert score_open_cases([], "w") == ([], [])


def test_a_hit_is_the_next_add_among_the_list() -> None:
    assert is_hit(["x", "y", "z"], "y")
    assert not is_hit(["x", "y", "z"], "w")
    assert not is_hit([], "w")


def _stats(hits: tuple[float, float], wins: float, losses: float, choice: int) -> TuneStats:
    """Two candidates; ``wins``: cases 1 hit and 0 missed, ``losses`` the reverse."""
    return TuneStats(1000.0, hits, choice, ((0.0, losses), (wins, 0.0)))


@pytest.mark.parametrize(
    ("stats", "min_cases", "expected"),
    [
        (_stats((100.0, 130.0), 40.0, 10.0, 0), 50.0, 1),  # (40-10)/sqrt(50) = 4.2: takes over
        (_stats((100.0, 104.0), 12.0, 8.0, 0), 50.0, 0),  # 4/sqrt(20) = 0.9: no flapping
        (_stats((100.0, 130.0), 40.0, 10.0, 0), 5000.0, 0),  # too few cases: keep the choice
        (_stats((130.0, 130.0), 20.0, 20.0, 0), 50.0, 0),  # a tie with the current: keep it
        (_stats((0.0, 0.0), 0.0, 0.0, 1), 50.0, 1),  # no hits at all: keep the choice
        # a small difference in rates, but consistent where the two differ: significant
        (_stats((830.0, 839.0), 10.0, 1.0, 0), 50.0, 1),
    ],
)
def test_choice_is_damped_by_a_paired_test(
    stats: TuneStats, min_cases: float, expected: int
) -> None:
    assert choose(stats, 2.0, min_cases) == expected


def _outsiders(n: int) -> TuneStats:
    """0: the current choice; 1: its family's best; 2: an outsider 20 hits ahead of 1, with 40
    paired wins and 20 losses against it; then n - 1 outsiders that hit nothing."""
    k = 2 + n
    wins = [[0.0] * k for _ in range(k)]
    wins[1][0], wins[2][0], wins[2][1], wins[1][2] = 60.0, 80.0, 40.0, 20.0
    hits = (100.0, 160.0, 180.0) + (0.0,) * (n - 1)
    return TuneStats(1000.0, hits, 0, tuple(tuple(row) for row in wins))


def test_an_outsider_must_lead_the_configured_family_too() -> None:
    """Why: among several candidates that all beat a poor choice, the one with the most hits
    is partly the luckiest; a candidate of another similarity or prior must prove itself
    against the best of the configured family, else that best is taken."""
    family = (True, True, False)
    near = TuneStats(1000.0, (100.0, 160.0, 170.0), 0, ((0, 0, 0), (60, 0, 30), (70, 40, 0)))
    # 2 over 1: (40 - 30) / sqrt(70) = 1.2, not significant: the family's best takes over
    assert choose(near, 2.0, 50.0, family) == 1
    assert choose(near, 2.0, 50.0) == 2  # without a family, the most hits
    clear = TuneStats(1000.0, (100.0, 160.0, 200.0), 0, ((0, 0, 0), (60, 0, 5), (100, 45, 0)))
    # 2 over 1: (45 - 5) / sqrt(50) = 5.7: the outsider has proved itself
    assert choose(clear, 2.0, 50.0, family) == 2
    # 2 over 1: (40 - 20) / sqrt(60) = 2.58 passes z = 2 with one outsider, not 2.67 with six
    assert choose(_outsiders(1), 2.0, 50.0, (True, True, False)) == 2
    assert choose(_outsiders(6), 2.0, 50.0, (True, True) + (False,) * 6) == 1
    # the current choice is the family's best and the outsider is within noise: keep it
    assert choose(replace(near, choice=1), 2.0, 50.0, family) == 1


def test_the_threshold_is_corrected_for_the_number_of_challengers() -> None:
    assert corrected_z(2.0, 1) == 2.0
    assert corrected_z(2.0, 6) == pytest.approx(2.670, abs=1e-3)
    assert corrected_z(2.0, 6) < corrected_z(2.0, 12)


def test_counters_of_a_batch_of_cases() -> None:
    assert counter_fields(3) == ["h0", "h1", "h2", "w0_1", "w0_2", "w1_0", "w1_2", "w2_0", "w2_1"]
    outcomes = [[True, False, True], [False, True, True], [False, False, False]]
    counts = case_counts(outcomes, 3)
    assert counts == [1, 1, 2, 1, 0, 1, 0, 1, 1]
    stats = stats_of(3.0, [float(c) for c in counts], 3, 0)
    assert stats.hits == (1.0, 1.0, 2.0)
    assert stats.win(2, 0) == 1.0 and stats.win(0, 2) == 0.0 and stats.win(1, 0) == 1.0
