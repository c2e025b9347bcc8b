"""The ranking parameters of the settings: the engine's, a variant's, the segments'."""

from __future__ import annotations

from dataclasses import replace

from xsell.config.settings import Settings
from xsell.models.experiments import Variant
from xsell.models.gap import FreeShipping
from xsell.models.ranking import RankParams
from xsell.models.rebuy import RebuyParams
from xsell.models.rules import RuleParams
from xsell.models.segments import SegmentParams


def rank_params(settings: Settings) -> RankParams:
    """Ranking parameters from the settings."""
    return RankParams(
        k=settings.ranking.max_suggestions,
        similarity=settings.ranking.similarity,
        min_support=settings.ranking.min_support,
        popularity_prior=settings.ranking.popularity_prior,
        category_backoff=settings.ranking.category_backoff,
        recency_decay=settings.ranking.recency_decay,
        popular_fallback=settings.ranking.popular_fallback,
        followed_weight=settings.ranking.followed_weight,
        followed_days=settings.learning.followed_window_days,
        rebuy=RebuyParams(
            # buy-again learns on followed-by's FOLLOW_USER (xsell/store/core/rebuy.py)
            max_offers=settings.ranking.max_rebuys
            if settings.learning.followed_window_days > 0
            else 0,
            min_share=settings.ranking.rebuy_min_share,
            min_rebuys=settings.ranking.rebuy_min_rebuys,
            due_share=settings.ranking.rebuy_due_share,
        ),
        rules=RuleParams(
            exclude_upsell=settings.ranking.exclude_upsell,
            addon_price_ratio=settings.ranking.addon_price_ratio,
            exclude_purchased=settings.ranking.exclude_purchased,
            consumable_categories=frozenset(settings.ranking.consumable_categories),
            repurchase_window_seconds=settings.ranking.repurchase_window_days * 86400.0,
        ),
        free_shipping=None
        if settings.offers.free_shipping_threshold is None
        else FreeShipping(
            settings.offers.free_shipping_threshold, settings.offers.free_shipping_max_gap
        ),
    )


def segment_params(settings: Settings) -> SegmentParams:
    """The segment thresholds of the settings (models/segments.py)."""
    s = settings.segments
    return SegmentParams(s.loyal_min_orders, s.low_spend_share, s.high_spend_share)


def variant_params(params: RankParams, variant: Variant) -> RankParams:
    """The ranking of a variant: the settings' with its overrides."""
    return replace(
        params,
        similarity=variant.similarity or params.similarity,
        k=variant.max_suggestions or params.k,
    )
