"""xsell.models.ranking (score_candidates, rank) and xsell.models.rules on hand-built inputs.

Most tests rank with ``similarity="count"`` so a score is simply the recency-weighted sum of
co-occurrence weights and can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from xsell.models.events import CatalogItem
from xsell.models.ranking import (
    Because,
    Neighbours,
    Offer,
    RankInput,
    RankParams,
    rank,
    score_candidates,
)
from xsell.models.rules import RuleParams, is_available, is_upsell, owned, within_addon_price

NOW = 1_700_000_000.0
DAY = 86400.0
COUNT = RankParams(k=3, similarity="count", min_support=1.0, popular_fallback=False)


def make_input(
    anchors: Sequence[str] = ("a",),
    neighbours: Mapping[str, Neighbours] | None = None,
    *,
    exclude: Sequence[str] | None = None,
    counts: Mapping[str, float] | None = None,
    total: float = 100.0,
    catalog: Sequence[CatalogItem] = (),
    history: Mapping[str, float] | None = None,
    popular: Sequence[tuple[str, float]] = (),
) -> RankInput:
    return RankInput(
        anchors=list(anchors),
        exclude=frozenset(anchors if exclude is None else exclude),
        neighbours=neighbours or {},
        counts=counts or {},
        total=total,
        catalog={item.item_id: item for item in catalog},
        history=history or {},
        popular=list(popular),
        now=NOW,
    )


def params(**changes: Any) -> RankParams:
    rules = changes.pop("rules", COUNT.rules)
    fields = {
        "k": COUNT.k,
        "similarity": COUNT.similarity,
        "min_support": COUNT.min_support,
        "recency_decay": COUNT.recency_decay,
        "popular_fallback": COUNT.popular_fallback,
    }
    fields.update(changes)
    return RankParams(rules=rules, **fields)


def ids(offers: list[Offer]) -> list[str]:
    return [offer.item_id for offer in offers]


# --- score_candidates ----------------------------------------------------------------------


def test_scores_are_recency_weighted_sums() -> None:
    inp = make_input(
        ["new", "old"],
        {
            "new": Neighbours({"x": 3.0, "z": 1.0}),
            "old": Neighbours({"y": 3.0, "z": 4.0}),
        },
        counts={"new": 4.0, "old": 8.0},
    )
    assert score_candidates(inp, COUNT) == {
        "x": (3.0, "new", 3.0),
        "y": (1.5, "old", 1.5),  # 0.5 * 3
        "z": (3.0, "old", 2.0),  # 1 * 1 + 0.5 * 4; old contributes most
    }


def test_co_added_weight_adds_to_co_purchases() -> None:
    inp = make_input(["a"], {"a": Neighbours({"b": 2.0}, co_added={"b": 0.5, "c": 1.25})})
    assert score_candidates(inp, COUNT) == {"b": (2.5, "a", 2.5), "c": (1.25, "a", 1.25)}


def test_min_support_drops_weak_pairs() -> None:
    inp = make_input(
        ["a"], {"a": Neighbours({"weak": 1.0, "strong": 2.0, "mixed": 1.0}, {"mixed": 1.0})}
    )
    assert set(score_candidates(inp, params(min_support=2.0))) == {"strong", "mixed"}
    assert set(score_candidates(inp, params(min_support=1.0))) == {"weak", "strong", "mixed"}
    offers = rank(inp, params(min_support=2.0))
    assert "weak" not in ids(offers)


def test_excluded_candidates_are_not_scored() -> None:
    inp = make_input(
        ["a", "b"], {"a": Neighbours({"b": 5.0, "c": 1.0, "cart": 9.0})}, exclude=["a", "b", "cart"]
    )
    assert set(score_candidates(inp, COUNT)) == {"c"}


def test_anchor_without_neighbours_still_ages_the_next_anchor() -> None:
    inp = make_input(["a", "gone", "c"], {"a": Neighbours({"x": 1.0}), "c": Neighbours({"y": 4.0})})
    assert score_candidates(inp, COUNT)["y"] == (1.0, "c", 1.0)  # 0.5^2 * 4


def test_default_similarity_asym_cosine() -> None:
    inp = make_input(["a"], {"a": Neighbours({"b": 2.0})}, counts={"a": 2.0, "b": 3.0}, total=3.0)
    score, anchor, part = score_candidates(inp, RankParams())["b"]
    assert score == pytest.approx(2 / (2**0.9 * 3**0.1))  # asym_cosine, alpha 0.9
    assert (anchor, part) == ("a", score)


def test_zero_similarity_is_not_a_candidate() -> None:
    # unknown counts: every denominator is 0, so the similarity is 0 and the pair is skipped
    inp = make_input(["a"], {"a": Neighbours({"b": 2.0})})
    assert score_candidates(inp, RankParams(similarity="confidence")) == {}


# --- rank: basics --------------------------------------------------------------------------


def test_at_most_k_offers_best_first() -> None:
    inp = make_input(["a"], {"a": Neighbours({"b": 5.0, "c": 4.0, "d": 3.0, "e": 2.0, "f": 1.0})})
    offers = rank(inp, params(k=3))
    assert ids(offers) == ["b", "c", "d"]
    assert [o.score for o in offers] == [5.0, 4.0, 3.0]
    assert all(o.kind == "cross_sell" for o in offers)
    assert ids(rank(inp, params(k=1))) == ["b"]
    assert len(rank(inp, params(k=10))) == 5


def test_tie_break_by_item_id() -> None:
    inp = make_input(["a"], {"a": Neighbours({"m": 2.0, "c": 2.0, "x": 2.0, "b": 2.0})})
    assert ids(rank(inp, params(k=4))) == ["b", "c", "m", "x"]
    assert ids(rank(inp, params(k=1))) == ["b"]


def test_never_an_excluded_item_even_as_popular() -> None:
    inp = make_input(
        ["a"],
        {"a": Neighbours({"cart": 9.0, "b": 1.0})},
        exclude=["a", "cart"],
        popular=[("a", 50.0), ("cart", 40.0), ("p", 10.0)],
    )
    offers = rank(inp, params(popular_fallback=True))
    assert ids(offers) == ["b", "p"]


def test_because_names_largest_contribution_and_confidence() -> None:
    inp = make_input(
        ["new", "old"],
        {
            "new": Neighbours({"z": 1.0}),
            "old": Neighbours({"z": 4.0}, co_added={"z": 2.0}),
        },
        counts={"new": 4.0, "old": 8.0},
    )
    [offer] = rank(inp, params(k=1))
    # new contributes 1, old 0.5 * (4 + 2) = 3: old is named, with co-purchases only
    assert offer == Offer("z", 4.0, "cross_sell", Because("old", 4.0, 0.5))


def test_because_confidence_zero_for_unknown_anchor_count() -> None:
    inp = make_input(["a"], {"a": Neighbours({"b": 3.0})})
    [offer] = rank(inp, params())
    assert offer.because == Because("a", 3.0, 0.0)


def test_because_on_equal_contributions_names_most_recent_anchor() -> None:
    inp = make_input(
        ["a", "b"],
        {"a": Neighbours({"x": 1.0}), "b": Neighbours({"x": 1.0})},
        counts={"a": 2.0, "b": 4.0},
        exclude=["a", "b"],
    )
    [offer] = rank(inp, params(recency_decay=1.0))
    assert offer == Offer("x", 2.0, "cross_sell", Because("a", 1.0, 0.5))


def test_recency_most_recent_anchor_partner_outranks() -> None:
    counts = {"new": 10.0, "old": 10.0, "x": 5.0, "y": 5.0}
    inp = make_input(
        ["new", "old"],
        {"new": Neighbours({"y": 3.0}), "old": Neighbours({"x": 3.0})},
        counts=counts,
    )
    offers = rank(inp, RankParams(k=2, recency_decay=0.5, popular_fallback=False))
    assert ids(offers) == ["y", "x"]  # "x" < "y" would win a tie: recency decides
    assert offers[1].score == pytest.approx(0.5 * offers[0].score)
    assert offers[0].because is not None and offers[0].because.item_id == "new"
    assert offers[1].because is not None and offers[1].because.item_id == "old"
    # without recency decay the two tie and the id decides
    assert ids(rank(inp, RankParams(k=2, recency_decay=1.0, popular_fallback=False))) == ["x", "y"]


def test_empty_input_gives_no_offers() -> None:
    assert rank(make_input([], {}), params(popular_fallback=True)) == []


# --- rank: business rules ------------------------------------------------------------------


def test_owned_items_are_never_offered() -> None:
    inp = make_input(
        ["a"],
        {"a": Neighbours({"owned": 5.0, "b": 1.0})},
        history={"owned": NOW - 365 * DAY},
        popular=[("owned", 9.0)],
    )
    assert ids(rank(inp, params(popular_fallback=True))) == ["b"]
    no_rule = RuleParams(exclude_purchased=False)
    assert ids(rank(inp, params(rules=no_rule))) == ["owned", "b"]


def test_consumables_come_back_after_the_repurchase_window() -> None:
    catalog = [
        CatalogItem("ink-old", category="ink"),
        CatalogItem("ink-new", category="ink"),
        CatalogItem("cam", category="cameras"),
    ]
    history = {"ink-old": NOW - 31 * DAY, "ink-new": NOW - 29 * DAY, "cam": NOW - 400 * DAY}
    inp = make_input(
        ["a"],
        {"a": Neighbours({"ink-old": 3.0, "ink-new": 2.0, "cam": 1.0})},
        catalog=catalog,
        history=history,
    )
    rules = RuleParams(consumable_categories=frozenset({"ink"}), repurchase_window_seconds=30 * DAY)
    assert ids(rank(inp, params(rules=rules))) == ["ink-old"]
    # without the consumable rule every owned item is excluded
    assert ids(rank(inp, params())) == []


@pytest.mark.parametrize(
    "item",
    [
        CatalogItem("b", stock=0),
        CatalogItem("b", stock=0.0, active=True),
        CatalogItem("b", active=False),
        CatalogItem("b", stock=10, active=False),
    ],
)
def test_never_out_of_stock_or_inactive(item: CatalogItem) -> None:
    inp = make_input(
        ["a"],
        {"a": Neighbours({"b": 5.0, "c": 1.0})},
        catalog=[item],
        popular=[("b", 9.0), ("p", 1.0)],
    )
    assert ids(rank(inp, params(popular_fallback=True))) == ["c", "p"]


def test_items_in_stock_or_unknown_are_available() -> None:
    catalog = [CatalogItem("b", stock=1), CatalogItem("c", stock=None)]
    inp = make_input(
        ["a"], {"a": Neighbours({"b": 3.0, "c": 2.0, "unknown": 1.0})}, catalog=catalog
    )
    assert ids(rank(inp, params())) == ["b", "c", "unknown"]


UPSELL_CATALOG = [
    CatalogItem("cam", category="cameras", price=100.0),
    CatalogItem("cam-pro", category="cameras", price=150.0),
    CatalogItem("cam-lite", category="cameras", price=50.0),
    CatalogItem("lens", category="lenses", price=300.0),
]


def upsell_input() -> RankInput:
    return make_input(
        ["cam"],
        {"cam": Neighbours({"cam-pro": 4.0, "cam-lite": 3.0, "lens": 2.0})},
        catalog=UPSELL_CATALOG,
    )


def test_pricier_same_category_is_an_excluded_upsell() -> None:
    offers = rank(upsell_input(), params())
    assert [(o.item_id, o.kind) for o in offers] == [
        ("cam-lite", "cross_sell"),
        ("lens", "cross_sell"),
    ]


def test_upsell_included_and_labelled_when_allowed() -> None:
    offers = rank(upsell_input(), params(rules=RuleParams(exclude_upsell=False)))
    assert [(o.item_id, o.kind) for o in offers] == [
        ("cam-pro", "upsell"),
        ("cam-lite", "cross_sell"),  # cheaper, same category
        ("lens", "cross_sell"),  # pricier, other category
    ]


def test_addon_price_ratio_drops_pricier_addons() -> None:
    catalog = [
        CatalogItem("tv", category="tv", price=100.0),
        CatalogItem("mount", category="acc", price=50.0),
        CatalogItem("soundbar", category="audio", price=60.0),
        CatalogItem("cable", category="acc", price=None),
    ]
    inp = make_input(
        ["tv"], {"tv": Neighbours({"soundbar": 3.0, "mount": 2.0, "cable": 1.0})}, catalog=catalog
    )
    rules = RuleParams(addon_price_ratio=0.5)
    assert ids(rank(inp, params(rules=rules))) == ["mount", "cable"]  # 50 <= 0.5 * 100
    assert ids(rank(inp, params())) == ["soundbar", "mount", "cable"]  # rule off


def test_popular_padding() -> None:
    inp = make_input(
        ["a"],
        {"a": Neighbours({"b": 2.0})},
        popular=[("b", 10.0), ("p1", 8.0), ("a", 6.0), ("p2", 4.0), ("p3", 2.0)],
    )
    offers = rank(inp, params(k=3, popular_fallback=True))
    assert offers == [
        Offer("b", 2.0, "cross_sell", Because("a", 2.0, 0.0)),
        Offer("p1", 0.8, "popular", None),  # scores relative to the most popular item
        Offer("p2", 0.4, "popular", None),
    ]
    assert len(set(ids(offers))) == len(offers)


def test_popular_padding_off_or_empty() -> None:
    inp = make_input(["a"], {"a": Neighbours({"b": 2.0})}, popular=[("p", 3.0)])
    assert ids(rank(inp, params(popular_fallback=False))) == ["b"]
    assert ids(rank(make_input(["a"], {}), params(popular_fallback=True))) == []


def test_popular_only_when_nothing_scores() -> None:
    inp = make_input(["a"], {}, popular=[("p", 4.0), ("q", 1.0)])
    assert rank(inp, params(k=3, popular_fallback=True)) == [
        Offer("p", 1.0, "popular", None),
        Offer("q", 0.25, "popular", None),
    ]


# --- rules predicates ----------------------------------------------------------------------


def test_is_available() -> None:
    assert is_available(None)
    assert is_available(CatalogItem("x"))
    assert is_available(CatalogItem("x", stock=0.5))
    assert not is_available(CatalogItem("x", stock=0))
    assert not is_available(CatalogItem("x", active=False))


def test_owned_predicate() -> None:
    catalog = {"ink": CatalogItem("ink", category="ink"), "tv": CatalogItem("tv", category="tv")}
    rules = RuleParams(consumable_categories=frozenset({"ink"}), repurchase_window_seconds=10.0)
    assert not owned("new", {}, catalog, NOW, rules)
    assert owned("tv", {"tv": 0.0}, catalog, NOW, rules)
    assert owned("unknown", {"unknown": NOW - 1e6}, catalog, NOW, rules)
    assert owned("ink", {"ink": NOW - 9.0}, catalog, NOW, rules)
    assert not owned("ink", {"ink": NOW - 10.0}, catalog, NOW, rules)  # window has passed
    assert not owned("tv", {"tv": NOW}, catalog, NOW, RuleParams(exclude_purchased=False))


def test_is_upsell_predicate() -> None:
    cam = CatalogItem("cam", category="c", price=100.0)
    assert is_upsell(CatalogItem("x", category="c", price=100.01), cam)
    assert not is_upsell(CatalogItem("x", category="c", price=100.0), cam)
    assert not is_upsell(CatalogItem("x", category="d", price=500.0), cam)
    assert not is_upsell(CatalogItem("x", category="c", price=None), cam)
    assert not is_upsell(CatalogItem("x", category=None, price=500.0), CatalogItem("a"))
    assert not is_upsell(None, cam)
    assert not is_upsell(CatalogItem("x", category="c", price=500.0), None)


def test_within_addon_price_predicate() -> None:
    tv = CatalogItem("tv", price=100.0)
    assert within_addon_price(CatalogItem("x", price=500.0), tv, 0.0)  # rule off
    assert within_addon_price(CatalogItem("x", price=50.0), tv, 0.5)
    assert not within_addon_price(CatalogItem("x", price=50.5), tv, 0.5)
    assert within_addon_price(CatalogItem("x"), tv, 0.5)  # unknown price passes
    assert within_addon_price(None, tv, 0.5)
    assert within_addon_price(CatalogItem("x", price=1e6), CatalogItem("tv"), 0.5)
