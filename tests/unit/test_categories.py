"""The category back-off's pure parts: what an order teaches each category
(models/categories.py), how much a thin anchor leans on its category, and the blended score
(models/scoring.py) computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from xsell.models.categories import order_categories, own_weight, prior_weight
from xsell.models.ranking import NO_ANCHOR, RankParams, RankRequest
from xsell.models.scoring import BatchStats, CategoryStats, anchor_stats, score_batch


def test_an_item_is_not_bought_with_its_own_category_when_it_is_its_only_item() -> None:
    """Why: otherwise every order would count a category's sole item as "bought with" the
    category, and P(item | category) would rank best-sellers of the category, not what goes
    with it."""
    cats = {"phone-1": "phone", "phone-2": "phone", "case": "case", "x": None}
    assert order_categories(["phone-1", "case", "x"], cats) == {
        "phone": ["case", "x"],
        "case": ["phone-1", "x"],
    }
    # two phones: each is bought with the other phone, so both count for "phone"
    assert order_categories(["phone-1", "phone-2"], cats)["phone"] == ["phone-1", "phone-2"]


def test_items_without_a_category_teach_nothing() -> None:
    """Why: the shared retail file has no categories; there must be nothing to learn (and no
    Redis call to make) for it."""
    assert order_categories(["a", "b"], {"a": None}) == {}
    assert order_categories(["a", "b"], {"a": ""}) == {}


def test_own_weight_shrinks_thin_anchors_toward_their_category() -> None:
    """Why: n / (n + m) is the Beta-prior shrinkage of P(b | anchor) toward P(b | category):
    a new item (n = 0) is ranked by its category alone, one with m orders half and half, a
    well-bought one speaks for itself; strength 0 turns the back-off off."""
    assert own_weight(0.0, 1.0) == 0.0
    assert own_weight(1.0, 1.0) == pytest.approx(0.5)
    assert own_weight(99.0, 1.0) == pytest.approx(0.99)
    assert own_weight(10.0, 0.0) == 1.0


def test_prior_weight_keeps_the_mix_summing_to_one() -> None:
    """Why: item, category and popularity weights must sum to 1 so that anchors with and
    without a category stay comparable; with no back-off (own = 1) it is today's 1 - e."""
    own, e_item, e_cat = 0.3, 0.6, 0.9
    total = own * e_item + (1 - own) * e_cat + prior_weight(own, e_item, e_cat)
    assert total == pytest.approx(1.0)
    assert prior_weight(1.0, 0.6, 0.9) == pytest.approx(1 - 0.6)


def _stats(category: bool) -> BatchStats:
    items = ["a", "b", "c", "d"]
    position = {i: n for n, i in enumerate(items)}
    counts = {"a": 2.0, "b": 8.0, "c": 4.0, "d": 20.0}
    anchors = {"a": anchor_stats(position, (["b"], [2.0]), ([], []), 0.0)}
    cats = (
        {"A": CategoryStats(anchor_stats(position, (["c", "b"], [6.0, 3.0]), ([], []), 0.0), 10.0)}
        if category
        else {}
    )
    return BatchStats(
        items=items,
        position=position,
        counts=np.asarray([counts[i] for i in items]),
        total=40.0,
        landmark=0.0,
        half_life=0.0,
        anchors=anchors,
        popular=np.asarray([position["d"]], dtype=np.int64),
        category_of={"a": "A"},
        categories=cats,
    )


def test_a_thin_anchor_blends_its_category_by_hand() -> None:
    """Why: the blend is the hierarchy item -> category -> popularity, each shrunk by its own
    evidence; this pins the arithmetic (confidence, m = 1)."""
    params = RankParams(similarity="confidence", popularity_prior=1.0, category_backoff=1.0)
    req = RankRequest(["a"], frozenset({"a"}), 0.0)
    (got,) = score_batch(_stats(True), [req], params, 10)
    e = 2.0 / 3.0  # n(a) = 2, m = 1
    own = 2.0 / (2.0 + 1.0)  # back-off strength 1
    e_cat = 10.0 / 11.0
    prior = prior_weight(own, e, e_cat)
    want_b = own * e * (2.0 / 2.0) + (1 - own) * e_cat * (3.0 / 10.0) + prior * 8.0 / 40.0
    want_c = (1 - own) * e_cat * (6.0 / 10.0) + prior * 4.0 / 40.0
    want_d = prior * 20.0 / 40.0
    assert got["b"][0] == pytest.approx(want_b)
    assert got["c"][:2] == (pytest.approx(want_c), "a")  # brought in by a's category
    assert got["d"] == (pytest.approx(want_d), NO_ANCHOR, 0.0)


def test_no_category_or_backoff_off_scores_as_before() -> None:
    """Why: shops without categories (the shared retail file) must rank exactly as before,
    to the last bit."""
    req = RankRequest(["a"], frozenset({"a"}), 0.0)
    on = RankParams(similarity="confidence", popularity_prior=1.0, category_backoff=1.0)
    off = RankParams(similarity="confidence", popularity_prior=1.0, category_backoff=0.0)
    baseline = score_batch(_stats(False), [req], off, 10)
    assert score_batch(_stats(False), [req], on, 10) == baseline
    assert score_batch(_stats(True), [req], off, 10) == baseline
