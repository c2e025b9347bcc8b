"""Buy again, the pure policy (models/rebuy.py) and its place among the offers
(models/rebuy_offers.py)."""

from __future__ import annotations

from xsell.models.events import CatalogItem
from xsell.models.ranking import Because, Offer, RankInput, RankRequest
from xsell.models.rebuy import (
    DAY,
    Rebuy,
    RebuyParams,
    RebuyStats,
    due_rebuys,
    gap_seconds,
    is_due,
    is_repeatable,
    mean_gap,
    newest_owned,
    repeat_share,
)
from xsell.models.rebuy_offers import offers_rebuys, replenish_offers, with_rebuys

PARAMS = RebuyParams(max_offers=1, min_share=0.2, min_rebuys=5, due_share=0.8)
COFFEE = RebuyStats(first=10, rebuys=30, mean_gap=21 * DAY)
CAMERA = RebuyStats(first=100, rebuys=2, mean_gap=300 * DAY)
NOW = 1_700_000_000.0


def test_a_consumable_is_repeatable_and_a_durable_is_not() -> None:
    assert repeat_share(COFFEE) == 0.75
    assert is_repeatable(COFFEE, PARAMS)
    assert not is_repeatable(CAMERA, PARAMS)  # 2% of its purchases are repeats
    assert not is_repeatable(None, PARAMS)


def test_a_high_share_on_thin_evidence_is_not_trusted() -> None:
    thin = RebuyStats(first=1, rebuys=4, mean_gap=7 * DAY)
    assert repeat_share(thin) == 0.8
    assert not is_repeatable(thin, PARAMS)
    assert is_repeatable(thin, RebuyParams(min_rebuys=4))


def test_due_from_a_share_of_the_mean_gap() -> None:
    gap = 20 * DAY
    assert not is_due(NOW - 15 * DAY, NOW, gap, 0.8)  # 0.75 of the gap
    assert is_due(NOW - 16 * DAY, NOW, gap, 0.8)  # exactly 0.8
    assert not is_due(NOW - 100 * DAY, NOW, 0.0, 0.8)  # no gap learned: never


def test_due_rebuys_nearest_their_cycle_first_with_the_explanation() -> None:
    stats = {"coffee": COFFEE, "tea": RebuyStats(5, 20, 10 * DAY), "camera": CAMERA}
    history = {"coffee": NOW - 25 * DAY, "tea": NOW - 30 * DAY, "camera": NOW - 400 * DAY}
    due = due_rebuys(history, stats, NOW, PARAMS)
    assert list(due) == ["coffee", "tea"]  # 1.19x the coffee's gap, 3x the tea's
    assert due["coffee"] == Rebuy(every_days=21, last_days=25)
    assert due_rebuys(history, stats, NOW, RebuyParams(max_offers=0)) == {}


def test_the_mean_gap_is_the_sum_of_whole_second_gaps_over_the_rebuys() -> None:
    gaps = [gap_seconds(g) for g in (10.4, 20.6, 30.0)]
    assert gaps == [10, 21, 30]
    assert sum(gaps) == sum(reversed(gaps))  # any order of application, the same sum
    assert mean_gap(sum(gaps), 3) == 61 / 3
    assert mean_gap(0, 0) == 0.0


def _input(rebuys: dict[str, Rebuy], exclude: frozenset[str] = frozenset()) -> RankInput:
    return RankInput(
        anchors=["mug"],
        exclude=exclude | {"mug"},
        neighbours={},
        counts={},
        total=0.0,
        catalog={},
        history={},
        popular=[],
        now=NOW,
        rebuys=rebuys,
    )


def _offer(item: str, score: float, kind: str = "cross_sell") -> Offer:
    return Offer(item, score, kind, Because("mug", 1.0, 0.5))


def test_a_rebuy_takes_the_weakest_place_and_at_most_max_offers() -> None:
    offers = [_offer("a", 3.0), _offer("b", 2.0), _offer("c", 1.0)]
    due = {"coffee": Rebuy(21, 25), "tea": Rebuy(10, 30)}
    out = with_rebuys(offers, _input(due), 3, PARAMS)
    assert [(o.item_id, o.kind) for o in out] == [
        ("a", "cross_sell"),
        ("b", "cross_sell"),
        ("coffee", "rebuy"),
    ]
    assert out[2].because is not None and out[2].because.rebuy == Rebuy(21, 25)
    two = with_rebuys(offers, _input(due), 3, RebuyParams(max_offers=2))
    assert [o.kind for o in two] == ["cross_sell", "rebuy", "rebuy"]
    assert with_rebuys(offers, _input({}), 3, PARAMS) == offers


def test_a_gap_filler_keeps_its_place_and_a_cart_item_is_not_offered_again() -> None:
    offers = [_offer("a", 3.0), _offer("g", 2.0, "gap_filler"), _offer("c", 1.0)]
    out = with_rebuys(offers, _input({"coffee": Rebuy(21, 25)}), 3, PARAMS)
    assert [o.item_id for o in out] == ["a", "g", "coffee"]
    in_cart = _input({"coffee": Rebuy(21, 25)}, exclude=frozenset({"coffee"}))
    assert with_rebuys(offers, in_cart, 3, PARAMS) == offers


def test_rebuys_only_for_a_known_user_in_a_cart_or_checkout() -> None:
    def req(user: str | None, placement: str) -> RankRequest:
        return RankRequest(["mug"], frozenset({"mug"}), NOW, user, placement)

    assert offers_rebuys(req("u1", "cart"))
    assert offers_rebuys(req("u1", "checkout"))
    assert not offers_rebuys(req(None, "cart"))
    for placement in ("post_purchase", "support", "product_page", "cart_abandoned"):
        assert not offers_rebuys(req("u1", placement))


def test_ranking_reads_only_the_newest_owned_items() -> None:
    history = {f"i{n:03d}": NOW - n for n in range(150)}
    newest = newest_owned(history, 100)
    assert len(newest) == 100 and "i000" in newest and "i149" not in newest
    assert newest_owned({"a": NOW}, 100) == {"a": NOW}


def test_a_replenishment_offers_only_due_rebuys_in_stock_and_not_notified_lately() -> None:
    tea = RebuyStats(first=10, rebuys=30, mean_gap=10 * DAY)
    stats = {"coffee": COFFEE, "camera": CAMERA, "tea": tea, "cups": tea}
    history = {"coffee": NOW - 25 * DAY, "camera": NOW - 90 * DAY, "tea": NOW - 9 * DAY}
    history["cups"] = NOW - 30 * DAY
    two = RebuyParams(max_offers=2, min_share=0.2, min_rebuys=5, due_share=0.8)
    offers = replenish_offers(history, stats, {}, frozenset(), NOW, two)
    # nearest their cycle first (tea 0.9 of its gap, coffee 1.19), at most two; never the camera
    assert [(o.item_id, o.kind) for o in offers] == [("tea", "rebuy"), ("coffee", "rebuy")]
    assert offers[1].because == Because("coffee", 0.0, 0.0, rebuy=Rebuy(21, 25))
    # notified within the repeat window, or out of stock: left out, the next due one instead
    sold_out = {"coffee": CatalogItem("coffee", stock=0)}
    left = replenish_offers(history, stats, sold_out, frozenset({"tea"}), NOW, two)
    assert [o.item_id for o in left] == ["cups"]
    # nothing due (3 days after buying coffee): nothing, no filler
    assert replenish_offers({"coffee": NOW - 3 * DAY}, stats, {}, frozenset(), NOW, two) == []
    assert replenish_offers(history, stats, {}, frozenset(), NOW, PARAMS)[0].item_id == "tea"
