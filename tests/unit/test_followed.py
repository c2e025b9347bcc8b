"""Followed-by, the pure parts: follow-ups of a purchase, shares, the blend with same-basket
scores, and the replay a bulk load uses (models/followed.py, models/post_purchase.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from xsell.models.followed import (
    FollowedBy,
    UserWindows,
    blend,
    follow_up,
    followed_scores,
    share,
)
from xsell.models.post_purchase import wants_followed, with_followed
from xsell.models.ranking import NO_ANCHOR, RankInput, RankParams, RankRequest, rank

DAY = 86400.0


def test_follow_up_takes_earlier_orders_within_the_window_and_splits_rebuys() -> None:
    window = {"cam": 100.0, "bag": 100.0 - 40 * DAY, "card": 100.0 + 5 * DAY}
    got = follow_up(window, {"coffee": 50.0}, ["coffee", "mug"], 100.0 + 5 * DAY, 30 * DAY)
    # card: bought at the same time (this order, or one at the very same second): not earlier;
    # bag: 45 days before: outside the window
    assert got.earlier == ["cam"]
    assert (got.first, got.rebuys) == (["mug"], ["coffee"])


def test_an_item_in_the_history_at_the_order_time_is_a_first_purchase() -> None:
    """A redelivered order finds its own items in the history at its ts."""
    got = follow_up({}, {"mug": 10.0}, ["mug"], 10.0, DAY)
    assert (got.first, got.rebuys) == (["mug"], [])


def test_share_is_capped_and_zero_without_orders() -> None:
    assert share(2.0, 4.0) == 0.5
    assert share(5.0, 4.0) == 1.0
    assert share(1.0, 0.0) == 0.0


def test_followed_scores_weigh_anchors_by_position_and_skip_excluded() -> None:
    partners = {"a": {"x": 2.0, "b": 1.0}, "b": {"x": 1.0, "y": 3.0}}
    got = followed_scores(["a", "b"], partners, {"a": 4.0, "b": 4.0}, frozenset({"b"}), 0.5)
    assert got["x"] == pytest.approx((0.5 + 0.5 * 0.25, "a", 0.5))
    assert got["y"] == pytest.approx((0.5 * 0.75, "b", 0.75))
    assert "b" not in got


def test_blend_adds_and_explains_only_where_followed_by_weighs_most() -> None:
    scored = {"x": (0.4, "a", 0.4), "y": (0.1, "a", 0.1), "p": (0.05, NO_ANCHOR, 0.0)}
    follow = {"x": (0.2, "a", 0.2), "y": (0.3, "b", 0.3), "z": (0.5, "a", 0.5)}
    out, explained = blend(scored, follow, 1.0)
    assert out["x"] == pytest.approx((0.6, "a", 0.4))  # the basket explains x
    assert out["y"] == pytest.approx((0.4, "b", 0.3))
    assert out["z"] == (0.5, "a", 0.5)
    assert out["p"] == scored["p"]
    assert explained == {"y": "b", "z": "a"}
    assert blend(scored, follow, 0.0) == (scored, {})


def _input(**kw: object) -> RankInput:
    base: dict[str, object] = {
        "anchors": ["cam"],
        "exclude": frozenset({"cam"}),
        "neighbours": {},
        "counts": {"cam": 4.0},
        "total": 10.0,
        "catalog": {},
        "history": {},
        "popular": [],
        "now": 1000.0,
        "scored": {"strap": (0.25, "cam", 0.25)},
    }
    base.update(kw)
    return RankInput(**base)  # type: ignore[arg-type]


def test_post_purchase_offers_a_follow_up_first_with_its_explanation() -> None:
    params = RankParams(k=2, followed_weight=1.0, followed_days=30)
    stored = {"cam": (0.0, [("card", 2.0), ("cam", 1.0)])}
    inp = with_followed(_input(), stored, params, half_life=0.0)
    offers = rank(inp, params)
    assert [o.item_id for o in offers] == ["card", "strap"]
    assert offers[0].because is not None
    assert offers[0].because.followed_by == FollowedBy("cam", 0.5, 30, 2.0)
    assert offers[1].because is not None and offers[1].because.followed_by is None


def test_followed_by_is_for_post_purchase_and_support_only_and_off_at_zero_weight() -> None:
    on = RankParams(followed_weight=1.0, followed_days=30)
    post = RankRequest(["a"], frozenset({"a"}), 0.0, placement="post_purchase")
    then = RankRequest(["a"], frozenset({"a"}), 0.0, placement="product_page", followed_only=True)
    assert wants_followed(post, on)
    assert wants_followed(replace(post, placement="support"), on)  # from what the user owns
    assert not wants_followed(replace(post, placement="cart"), on)
    assert not wants_followed(replace(post, placement="support"), replace(on, followed_weight=0))
    assert not wants_followed(post, RankParams(followed_weight=0.0, followed_days=30))
    assert wants_followed(then, RankParams(followed_weight=0.0, followed_days=30))
    assert not wants_followed(then, RankParams(followed_weight=1.0, followed_days=0))


def test_customers_then_bought_offers_followed_by_partners_alone() -> None:
    params = RankParams(k=3, followed_weight=0.0, followed_days=30, popular_fallback=False)
    stored = {"cam": (0.0, [("card", 2.0)])}
    inp = with_followed(_input(), stored, params, half_life=0.0, alone=True)
    assert [o.item_id for o in rank(inp, params)] == ["card"]  # strap: a basket partner only
    assert with_followed(_input(), {}, params, half_life=0.0, alone=True).scored == {}


def test_followed_weights_decay_to_the_ranking_time() -> None:
    params = RankParams(followed_weight=1.0, followed_days=30)
    # stored at landmark 0 with a half-life of 1000 s, read at 1000 s: half
    inp = with_followed(_input(), {"cam": (0.0, [("card", 4.0)])}, params, half_life=1000.0)
    assert inp.followed["card"].share == pytest.approx(0.5)


def test_user_windows_replay_the_scripts() -> None:
    w = UserWindows(window_seconds=10 * DAY, max_recent=2, max_history=100)
    assert w.purchase("u", ["a", "b"], 0.0).earlier == []
    got = w.purchase("u", ["c", "a"], DAY)
    assert (got.earlier, got.first, got.rebuys) == (["b", "a"], ["c"], ["a"])
    assert w.windows["u"] == {"a": DAY, "c": DAY}  # the newest 2 (b dropped: oldest)
    got = w.purchase("u", ["d"], 20 * DAY)  # everything left the window
    assert got.earlier == [] and w.windows["u"] == {"d": 20 * DAY}
