"""The report's per-segment rows (xsell/feedback/segment_report.py), from day counters worked
out by hand: offers and orders per lifecycle and spend tier, and each variant's AOV in a
segment against the control group's in the same segment."""

from __future__ import annotations

from xsell.feedback.report import summarise, table
from xsell.notify.messages import as_offer
from xsell.store import SEP
from xsell.store.attribution.segment_rows import segment_arg


def counters(**values: float) -> dict[str, str]:
    """``placement__variant__name=amount`` as the day hash's fields (``seg_`` and ``spend_``:
    the segment prefixes)."""
    out = {}
    for k, v in values.items():
        field = k.replace("__", SEP)
        for prefix in ("seg_", "spend_"):
            if field.startswith(prefix):
                field = prefix[:-1] + ":" + field[len(prefix) :]
        out[field] = str(v)
    return out


DAY = counters(
    cart__a__offered=10,
    cart__a__accepted=3,
    seg_new__a__offered=4,
    seg_new__a__accepted=1,
    seg_new__a__attributed_revenue=20.0,
    seg_loyal__a__offered=6,
    seg_loyal__a__accepted=2,
    seg_loyal__a__orders=2,
    seg_loyal__a__revenue=100.0,
    seg_loyal__a__revenue_sq=5200.0,  # orders of 40 and 60
    seg_loyal__control__orders=2,
    seg_loyal__control__revenue=60.0,
    seg_loyal__control__revenue_sq=1850.0,  # orders of 25 and 35
    spend_high__a__offered=6,
    spend_high__a__orders=1,
    spend_high__a__revenue=40.0,
    spend_high__a__revenue_sq=1600.0,
)


def test_each_segment_and_variant_and_the_aov_against_control() -> None:
    rep = summarise({20000: (DAY, {})})
    assert [(r["placement"], r["variant"]) for r in rep["rows"]] == [("cart", "a")]
    keyed = [(r["dimension"], r["segment"], r["variant"]) for r in rep["segments"]]
    assert keyed == [  # lifecycles in their order, then the spend tiers
        ("lifecycle", "new", "a"),
        ("lifecycle", "loyal", "a"),
        ("lifecycle", "loyal", "control"),
        ("spend", "high", "a"),
    ]
    new, loyal, control, high = rep["segments"]
    assert new["acceptance_rate"] == 0.25 and new["attributed_revenue"] == 20.0
    assert new["orders"] == 0 and new["aov"] is None
    assert loyal["orders"] == 2 and loyal["aov"] == 50.0 and loyal["acceptance_rate"] == 0.333333
    assert control["aov"] == 30.0 and control["aov_vs_control"] is None
    vs = loyal["aov_vs_control"]
    assert vs is not None and vs["ratio"] == round(50.0 / 30.0, 6)
    assert vs["low"] is not None and vs["low"] < vs["ratio"] < vs["high"]
    assert 0.0 < vs["p_value"] < 1.0
    assert high["aov_vs_control"]["ratio"] is None  # no control order in the tier
    text = table({**rep, "days": ["2024-10-04"], "experiment": "e"})
    lines = text.splitlines()
    start = lines.index(next(x for x in lines if x.startswith("per shopper segment")))
    assert lines[start + 1].split()[:3] == ["dimension", "segment", "variant"]
    assert lines[start + 3].split()[:3] == ["lifecycle", "loyal", "a"]
    assert lines[start + 3].split()[-2] == "1.6667"


def test_no_segment_counters_no_rows() -> None:
    assert summarise({20000: (counters(cart__a__offered=3), {})})["segments"] == []


def test_a_notifications_offers_carry_its_segment_and_only_known_names_reach_a_row() -> None:
    message = {
        "notification_id": "n1",
        "user_id": "u",
        "reason": "post_purchase",
        "variant": "a",
        "items": [],
        "segment": {"lifecycle": "loyal", "spend": "high", "attributes": {"location": "HN"}},
    }
    assert segment_arg(as_offer(message)) == "loyal,high"
    assert segment_arg(as_offer({**message, "segment": None})) == ""  # the holdout, a guest
    assert segment_arg({"segment": {"lifecycle": "vip|x", "spend": "high"}}) == ""
    assert segment_arg({"segment": {"lifecycle": "new", "spend": "huge"}}) == "new,"
