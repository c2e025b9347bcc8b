"""The rules of attribution (models/attribution.py), the experiment's assignment
(models/experiments.py) and the statistics of the report (models/stats.py), against values
worked out by hand."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from xsell.models.attribution import Ledger, on_add, on_buy, record
from xsell.models.experiments import BUCKETS, CONTROL, Experiment, Variant, bucket, variant_of
from xsell.models.stats import Sample, t_cdf, t_quantile, welch

DAY = 86400.0


def test_explicit_before_implicit() -> None:
    ledger = Ledger()
    record(ledger, "s1", 100, "cart", "a", ["case", "charger"])
    record(ledger, "s2", 200, "post_purchase", "a", ["case"])
    # implicit: the latest offer of the case is s2
    assert on_add(ledger, "case", None, 300, DAY) == [("post_purchase", "a", "accepted", 1.0)]
    ledger = Ledger()
    record(ledger, "s1", 100, "cart", "a", ["case"])
    record(ledger, "s2", 200, "post_purchase", "a", ["case"])
    # explicit: the page says the case came from s1
    assert on_add(ledger, "case", "s1", 300, DAY) == [("cart", "a", "accepted", 1.0)]
    # an explicit suggestion that did not offer the item falls back to the latest offer
    assert on_add(ledger, "case", "s9", 300, DAY) == [("post_purchase", "a", "accepted", 1.0)]


def test_the_window_and_the_order_of_time() -> None:
    ledger = Ledger()
    record(ledger, "s1", 1000, "cart", "a", ["case"])
    assert on_add(ledger, "case", None, 1000 + DAY + 1, DAY) == []  # too late
    assert on_add(ledger, "case", None, 999, DAY) == []  # before the offer was made
    assert on_add(ledger, "case", None, 1000 + DAY, DAY) == [("cart", "a", "accepted", 1.0)]


def test_each_item_counts_once() -> None:
    ledger = Ledger()
    record(ledger, "s1", 0, "cart", "a", ["case"])
    assert on_add(ledger, "case", None, 10, DAY) == [("cart", "a", "accepted", 1.0)]
    assert on_add(ledger, "case", None, 20, DAY) == []  # added again: accepted once
    assert on_buy(ledger, "case", None, 40.0, 30, DAY) == [
        ("cart", "a", "attributed_revenue", 40.0)
    ]
    assert on_buy(ledger, "case", None, 40.0, 40, DAY) == []  # bought again: revenue once
    ledger = Ledger()
    record(ledger, "s1", 0, "cart", "a", ["case"])  # bought without an add: accepted + revenue
    assert on_buy(ledger, "case", None, 20.0, 10, DAY) == [
        ("cart", "a", "accepted", 1.0),
        ("cart", "a", "attributed_revenue", 20.0),
    ]


def test_a_redelivered_suggestion_and_an_older_one_keep_the_latest_offer() -> None:
    ledger = Ledger()
    record(ledger, "s2", 200, "cart", "a", ["case"])
    record(ledger, "s1", 100, "cart", "b", ["case"])  # older, processed later
    record(ledger, "s2", 200, "cart", "a", ["case"])  # redelivered
    assert ledger.latest["case"] == "s2"
    assert on_add(ledger, "case", None, 300, DAY) == [("cart", "a", "accepted", 1.0)]


def test_buckets_are_stable_uniform_and_the_holdout_takes_its_share() -> None:
    assert bucket("salt", "u1") == bucket("salt", "u1")
    assert bucket("salt", "u1") != bucket("other", "u1") or bucket("salt", "u2") != bucket(
        "other", "u2"
    )
    exp = Experiment("e", "salt", (Variant("a", 1), Variant("b", 3)), holdout_percent=10)
    counts = Counter(variant_of(exp, f"user-{n}") for n in range(40_000))
    assert abs(counts[CONTROL] / 40_000 - 0.10) < 0.01
    assert abs(counts["a"] / 40_000 - 0.9 * 0.25) < 0.01
    assert abs(counts["b"] / 40_000 - 0.9 * 0.75) < 0.01
    assert variant_of(exp, None) == "a"  # no unit: the first variant, never the holdout
    assert all(0 <= bucket("s", str(n)) < BUCKETS for n in range(1000))


def test_no_holdout_no_control() -> None:
    exp = Experiment("e", "s", (Variant("a"),))
    assert {variant_of(exp, f"u{n}") for n in range(2000)} == {"a"}
    assert exp.names == ("a",)


def test_the_t_distribution_against_tables() -> None:
    assert 2 * (1 - t_cdf(2.0, 10)) == pytest.approx(0.073388, abs=1e-6)
    assert t_quantile(0.975, 10) == pytest.approx(2.228139, abs=1e-6)
    assert t_quantile(0.975, 30) == pytest.approx(2.042272, abs=1e-6)
    assert t_cdf(-1.5, 3) == pytest.approx(0.115292, abs=1e-6)
    assert t_cdf(0.0, 7) == 0.5


def test_welch_against_a_hand_computed_example() -> None:
    # variant 20, 22, 19, 24, 25, 23, 21 (mean 22, variance 14/3); control 18, 17, 19, 16, 20,
    # 18 (mean 18, variance 2): se^2 = 2/3 + 1/3 = 1, t = 4,
    # df = 1 / ((2/3)^2 / 6 + (1/3)^2 / 5) = 10.3846...
    a = [20.0, 22, 19, 24, 25, 23, 21]
    b = [18.0, 17, 19, 16, 20, 18]
    got = welch(Sample(7, sum(a), sum(x * x for x in a)), Sample(6, sum(b), sum(x * x for x in b)))
    assert got.df == pytest.approx(1 / ((2 / 3) ** 2 / 6 + (1 / 3) ** 2 / 5))
    assert got.ratio == pytest.approx(22 / 18)
    assert got.p_value == pytest.approx(2 * (1 - t_cdf(4.0, got.df)))
    assert got.p_value is not None and 0.002 < got.p_value < 0.003
    half = t_quantile(0.975, got.df) * math.sqrt((14 / 3) / 7 / 22**2 + 2 / 6 / 18**2)
    assert got.low == pytest.approx(22 / 18 * math.exp(-half))
    assert got.high == pytest.approx(22 / 18 * math.exp(half))


def test_welch_says_nothing_about_groups_too_small() -> None:
    assert welch(Sample(1, 5, 25), Sample(10, 50, 300)).ratio is None
    same = welch(Sample(3, 30, 300), Sample(3, 30, 300))  # no spread, equal means
    assert same.p_value == 1.0 and same.ratio == 1.0
