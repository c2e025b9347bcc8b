"""Offers beyond the ranked list: bundles ("buy all three") and the free-shipping gap filler
(models/bundles.py, models/gap.py)."""

from __future__ import annotations

from pydantic import Field

from xsell.config.settings.base import Group


class OffersSettings(Group):
    """Bundle size, discount and margin floor; the free-shipping threshold."""

    bundle_discount_percent: float = Field(
        10.0, ge=0, le=90, description="Discount of a bundle off its list price, in percent."
    )
    bundle_min_margin_percent: float = Field(
        15.0,
        ge=0,
        lt=100,
        description="Where every item has a cost: the discount shrinks so that "
        "(bundle price - cost) / bundle price stays at least this.",
    )
    bundle_loyalty_points: int = Field(
        0, ge=0, le=1_000_000, description="If > 0: bundles carry this loyalty-point incentive."
    )
    bundle_min_support: float = Field(
        2.0,
        gt=0,
        description="Decayed orders holding the anchor and a partner (and, for 3 items, "
        "the two partners) a bundle needs.",
    )
    bundle_lift_prior: float = Field(
        100.0,
        ge=0,
        description="Pseudo-orders pulling the partners' lift toward 1 (independence): "
        "(C12 + m) / (E12 + m); 0 = the raw lift.",
    )
    bundle_candidates: int = Field(
        10, ge=2, le=50, description="Anchor partners considered for a bundle (pairs read: n^2)."
    )
    free_shipping_threshold: float | None = Field(
        None, gt=0, description="Cart total of free shipping; unset = no gap filler."
    )
    free_shipping_max_gap: float = Field(
        20.0, gt=0, description="A gap filler is offered only when the gap is at most this."
    )
