"""The pure segment logic (models/segments.py), the support placement's choices
(models/support.py) and how rules match a user's computed segment (models/rulebook.py)."""

from __future__ import annotations

import math

import pytest

from xsell.models.errors import InvalidEvent
from xsell.models.events import Limits, OrderLine
from xsell.models.messages.merchant import StoredRule
from xsell.models.profile import parse_profile
from xsell.models.ranking import Because, Offer
from xsell.models.rulebook import RuleBook, RuleContext
from xsell.models.segments import (
    MAX_BUCKET,
    NEW,
    Segment,
    SegmentParams,
    SegmentState,
    lifecycle,
    order_spend,
    rule_names,
    segment_of,
    spend_bucket,
    spend_share_below,
    spend_tier,
)
from xsell.models.support import explained_by_owned, support_anchors, support_request

PARAMS = SegmentParams(loyal_min_orders=3, low_spend_share=0.5, high_spend_share=0.2)


def test_lifecycle_counts_orders_against_the_loyal_threshold() -> None:
    assert [lifecycle(n, 3) for n in (0, 1, 2, 3, 10)] == [
        "new",
        "returning",
        "returning",
        "loyal",
        "loyal",
    ]
    assert lifecycle(2, 2) == "loyal"


def test_spend_buckets_are_log_scaled_bounded_and_monotone() -> None:
    assert spend_bucket(0.0) == spend_bucket(0.99) == 0
    assert spend_bucket(1.0) == 0 and spend_bucket(2.0) == 4 and spend_bucket(4.0) == 8
    assert spend_bucket(1e30) == MAX_BUCKET
    values = [1.5**k for k in range(60)]
    buckets = [spend_bucket(v) for v in values]
    assert buckets == sorted(buckets)
    # four buckets per doubling: a bucket spans at most 2**(1/4), about 19%
    assert spend_bucket(100.0) != spend_bucket(100.0 * 2 ** (1 / 4) * 1.001)
    assert spend_bucket(1000.0) == math.floor(math.log(1000.0) / math.log(2) * 4)


def test_spend_tier_takes_the_shoppers_place_among_all_spends() -> None:
    # ten shoppers, one per bucket 0..9
    histogram = {b: 1 for b in range(10)}
    tiers = [spend_tier(b, histogram, PARAMS) for b in range(10)]
    # mid-rank shares 0.05, 0.15, ..., 0.95: < 0.5 low, >= 0.8 high
    assert tiers == ["low"] * 5 + ["mid"] * 3 + ["high"] * 2
    assert spend_tier(None, histogram, PARAMS) is None


def test_one_bucket_holding_everyone_is_mid_and_an_empty_histogram_too() -> None:
    assert spend_share_below(7, {7: 40}) == 0.5
    assert spend_tier(7, {7: 40}, PARAMS) == "mid"
    assert spend_tier(7, {}, PARAMS) == "mid"


def test_segment_of_a_stored_state() -> None:
    histogram = {0: 8, 20: 2}
    big = SegmentState(orders=4, bucket=20, attributes={"location": "HN"})
    assert segment_of(big, histogram, PARAMS) == Segment("loyal", "high", {"location": "HN"})
    small = SegmentState(orders=1, bucket=0)
    assert segment_of(small, histogram, PARAMS) == Segment("returning", "low")
    assert segment_of(None, histogram, PARAMS) == NEW
    # attributes without an order: a new shopper with a profile, no spend tier
    profiled = SegmentState(orders=0, bucket=None, attributes={"age_band": "25-34"})
    assert segment_of(profiled, histogram, PARAMS).as_json() == {
        "lifecycle": "new",
        "spend": None,
        "attributes": {"age_band": "25-34"},
    }


def test_rule_names_hold_lifecycle_spend_and_attributes() -> None:
    seg = Segment("loyal", "high", {"location": "HN"})
    assert rule_names(seg) == {"loyal", "spend:high", "location:HN"}
    assert rule_names(NEW) == {"new"}


def test_order_spend_is_quantity_times_price_of_the_priced_lines() -> None:
    lines = [OrderLine("a", 2, 10.0), OrderLine("b", 1, None), OrderLine("c", 1, 5.5)]
    assert order_spend(lines) == 25.5
    assert order_spend([]) == 0.0


def _rule(segments: list[str]) -> StoredRule:
    return StoredRule.model_validate(
        {
            "rule_id": "rule-seg",
            "name": "loyal",
            "when": {"segments": segments},
            "then": {"pin": ["gift"]},
        }
    )


def test_a_rule_matches_the_computed_segment_unless_the_request_names_one() -> None:
    book = RuleBook([_rule(["loyal"])])
    loyal = frozenset({"loyal", "spend:high"})
    ctx = RuleContext("cart", frozenset({"x"}), frozenset(), None, 0.0, loyal)
    assert [r.rule_id for r in book.matching(ctx)] == ["rule-seg"]
    newcomer = RuleContext("cart", frozenset({"x"}), frozenset(), None, 0.0, frozenset({"new"}))
    assert book.matching(newcomer) == []
    # a request's own segment wins over the computed one
    named = RuleContext("cart", frozenset({"x"}), frozenset(), "vip", 0.0, loyal)
    assert book.matching(named) == []
    # no segment known at all: a segment rule never leaks to everyone
    anonymous = RuleContext("cart", frozenset({"x"}), frozenset(), None, 0.0)
    assert book.matching(anonymous) == []


def test_profile_attributes_are_checked() -> None:
    raw = '{"type": "user", "user_id": "u1", "attributes": {"location": "HN", "age_band": null}}'
    update = parse_profile(raw, Limits())
    assert update.attributes == {"location": "HN", "age_band": None}
    for bad in (
        '{"location": 5}',
        '{"Bad-Name": "x"}',
        '{"spend": "high"}',
        '{"location": ""}',
        '["location"]',
    ):
        with pytest.raises(InvalidEvent):
            parse_profile(f'{{"type": "user", "user_id": "u1", "attributes": {bad}}}', Limits())


def test_support_anchors_are_the_newest_purchases_and_owned_items_are_excluded() -> None:
    history = {"old": 1.0, "new": 3.0, "mid": 2.0, "tie": 3.0}
    assert support_anchors(history, 3) == ["new", "tie", "mid"]
    req = support_request("u1", history, 10.0, 2)
    assert req is not None
    assert list(req.anchors) == ["new", "tie"] and req.exclude == frozenset(history)
    assert req.placement == "support" and req.user_id == "u1"
    assert support_request("u1", {}, 10.0, 2) is None


def test_support_keeps_only_offers_explained_by_an_owned_item() -> None:
    owned = {"phone": 1.0}
    offers = [
        Offer("case", 0.9, "cross_sell", Because("phone", 2, 0.4)),
        Offer("bag", 0.5, "popular", None),
        Offer("pin", 0.4, "cross_sell", Because("phone", 0, 0, rule_id="rule-1")),
        Offer("other", 0.3, "cross_sell", Because("cart-item", 1, 0.1)),
        Offer("phone", 0.2, "cross_sell", Because("phone", 1, 0.1)),
    ]
    assert [o.item_id for o in explained_by_owned(offers, owned)] == ["case", "pin"]
