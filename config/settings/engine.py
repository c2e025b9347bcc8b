"""What the worker learns and how it ranks: learning (weights, carts, dedup), ranking,
self-tuning, the worker's batches and metrics, and the input limits of every parser."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, field_serializer, field_validator, model_validator

from xsell.config.settings.base import Group, comma_items
from xsell.models.events import Limits

Similarity = Literal["count", "jaccard", "lift", "confidence", "cosine", "asym_cosine"]


class LearningSettings(Group):
    """How events turn into co-occurrence weights in Redis."""

    half_life_days: float = Field(0.0, ge=0, description="Forward-decay half-life; 0 = none.")
    cart_weight: float = Field(0.25, ge=0, description="Weight of an add-to-cart co-add.")
    cart_ttl_seconds: int = Field(7 * 86400, gt=0, description="Idle cart lifetime.")
    max_items_per_order: int = Field(50, ge=2, le=1000, description="Items used for pairs.")
    max_cart_items: int = Field(100, ge=2, le=10000, description="Cart keeps the newest N.")
    co_add_window: int = Field(
        10, ge=1, le=999, description="Newest cart items an add-to-cart pairs with."
    )
    max_neighbors: int = Field(200, ge=0, description="Neighbours kept per item; 0 = all.")
    views_max_items: int = Field(
        20, ge=1, le=1000, description="Recently viewed items a user keeps (newest N)."
    )
    views_ttl_seconds: int = Field(
        30 * 86400, gt=0, description="Recent views expire this long after the user's last view."
    )
    co_view_window: int = Field(
        5, ge=1, le=100, description="Newest earlier views a view pairs with (co-view +1 each)."
    )
    co_view_window_seconds: float = Field(
        3600.0, gt=0, description="Earlier views pair only when at most this long before."
    )
    history_ttl_days: int = Field(
        365, ge=1, le=3650, description="A purchase history expires this long after its last order."
    )
    max_history_items: int = Field(
        2000, ge=10, le=100_000, description="A purchase history keeps the newest N items."
    )
    followed_window_days: int = Field(
        30,
        ge=0,
        le=365,
        description="Followed-by: a purchase counts after the user's orders of this many days "
        "before; 0 = off.",
    )
    max_recent_items: int = Field(
        200, ge=1, le=10_000, description="Followed-by: a user's window keeps the newest N items."
    )
    dedup_horizon_seconds: int = Field(
        3 * 86400,
        ge=1,
        le=400 * 86400,
        description="How long event ids are kept to absorb duplicate sends.",
    )
    dedup_retention_days: float | None = Field(
        None, gt=0, description="Alias of dedup_horizon_seconds, in days."
    )
    dedup_window_seconds: int = Field(
        3600, gt=0, description="Partial-apply guard kept after a batch is committed."
    )
    dedup_pending_seconds: int = Field(
        30 * 86400, gt=0, description="Most a crashed batch's partial-apply guard is kept."
    )

    @model_validator(mode="after")
    def _retention_alias(self) -> Self:
        """``dedup_retention_days`` (the name before the horizon) sets the horizon, unless
        the horizon is given too."""
        days = self.dedup_retention_days
        if days is not None and "dedup_horizon_seconds" not in self.model_fields_set:
            object.__setattr__(self, "dedup_horizon_seconds", max(1, round(days * 86400)))
        return self

    @property
    def half_life_seconds(self) -> float:
        return self.half_life_days * 86400.0


class RankingSettings(Group):
    """How the learned pairs become up to ``max_suggestions`` offers."""

    max_suggestions: int = Field(3, ge=1, le=50, description="Offers per suggestion message.")
    similarity: Similarity = Field("confidence", description="Pair similarity used to rank.")
    min_support: float = Field(
        0.0, ge=0, description="Minimum decayed co-purchase + co-add weight of a pair."
    )
    popularity_prior: float = Field(
        1.0,
        ge=0,
        description="Prior orders per anchor toward popularity (n / (n + m)); 0 = none.",
    )
    category_backoff: float = Field(
        1.0,
        ge=0,
        description="Thin items back off to their category: threshold in the category's "
        "mean orders per item (n / (n + t)); 0 = off.",
    )
    candidates_per_anchor: int = Field(50, ge=1, le=1000, description="Neighbours read each.")
    max_anchors: int = Field(10, ge=1, le=500, description="Most recent cart items used.")
    recency_decay: float = Field(0.5, gt=0, le=1, description="Anchor weight per step back.")
    exclude_upsell: bool = Field(True, description="Drop same-category pricier items.")
    addon_price_ratio: float = Field(0.0, ge=0, description="If > 0: price <= ratio x anchor.")
    exclude_purchased: bool = Field(True, description="Never suggest what the user bought.")
    consumable_categories: tuple[str, ...] = Field((), description="Re-suggest after window.")
    repurchase_window_days: float = Field(30.0, ge=0, description="For consumable categories.")
    popular_fallback: bool = Field(True, description="Pad with popular items, kind=popular.")
    followed_weight: float = Field(
        1.0,
        ge=0,
        description="Post-purchase and support: weight of followed-by shares beside "
        "same-basket scores; 0 = off.",
    )
    max_rebuys: int = Field(
        1,
        ge=0,
        le=50,
        description="Buy again: at most this many of the offers are owned items due again "
        "(kind=rebuy; a known user's cart or checkout); 0 = off.",
    )
    rebuy_min_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Buy again: an item is repeatable when at least this share of its known "
        "purchases were a buyer's repeat.",
    )
    rebuy_min_rebuys: float = Field(
        5.0, ge=1, description="Buy again: rebuys an item needs before its share is trusted."
    )
    rebuy_due_share: float = Field(
        0.8,
        ge=0,
        description="Buy again: due when the time since the user's last purchase is at least "
        "this share of the item's mean gap between purchases.",
    )

    @field_validator("consumable_categories", mode="before")
    @classmethod
    def _categories(cls, value: Any) -> Any:
        """Comma-separated text is added beside JSON and TOML arrays (kept as given)."""
        return comma_items(value) if isinstance(value, str) else value


class RulesSettings(Group):
    """Merchant rules (docs/rules.md): how many, and how soon every process sees a change."""

    max: int = Field(1000, ge=1, le=100_000, description="Most merchant rules stored.")
    refresh_seconds: float = Field(
        0.5,
        gt=0,
        le=60,
        description="Each worker and API process checks the rules' version at most this often.",
    )


class SegmentSettings(Group):
    """Shoppers' segments (docs/personal.md): lifecycle thresholds and spend-tier shares."""

    loyal_min_orders: int = Field(
        3,
        ge=2,
        le=1000,
        description="Orders from which a shopper is 'loyal' (1 up to it: 'returning').",
    )
    low_spend_share: float = Field(
        0.5, gt=0, lt=1, description="The bottom share of shoppers by total spend: tier 'low'."
    )
    high_spend_share: float = Field(
        0.2, gt=0, lt=1, description="The top share of shoppers by total spend: tier 'high'."
    )


class TuningSettings(Group):
    """Self-tuning (models/tuning.py): candidate recency weights tested on the live stream."""

    enabled: bool = Field(True, description="Rank with the best candidate, tested live.")
    recency: tuple[float, ...] = Field(
        (0.5, 0.75, 1.0), description="Candidate recency weights (comma-separated, in (0, 1])."
    )
    category_backoff: tuple[float, ...] = Field(
        (0.0, 1.0),
        description="Candidate category back-off strengths, each with every recency weight "
        "(comma-separated, >= 0; XSELL_CATEGORY_BACKOFF is always one).",
    )
    similarity: tuple[Similarity, ...] = Field(
        ("confidence", "jaccard"),
        description="Candidate pair similarities, each with every recency weight "
        "(comma-separated; XSELL_SIMILARITY is always one).",
    )
    popularity_prior: tuple[float, ...] = Field(
        (1.0, 10000.0),
        description="Candidate popularity-prior strengths, each with every recency weight "
        "(comma-separated, >= 0; a large one ranks mostly by popularity; "
        "XSELL_POPULARITY_PRIOR is always one).",
    )
    max_rebuys: tuple[int, ...] = Field(
        (0, 1, 2, 3),
        description="Candidate numbers of buy-again places (comma-separated, 0 to 3; "
        "XSELL_MAX_REBUYS is always one, the starting choice).",
    )
    sample: float = Field(
        0.25, gt=0, le=1, description="Share of shoppers whose adds and purchases are test cases."
    )
    half_life_cases: float = Field(
        5000.0, ge=0, description="Test cases after which one counts half; 0 = never fades."
    )
    z: float = Field(
        2.0, ge=0, description="Standard errors of paired lead a challenger needs (damping)."
    )
    min_cases: float = Field(200.0, ge=0, description="Decayed test cases before any switch.")

    @field_validator("recency", mode="before")
    @classmethod
    def _recency(cls, value: Any) -> tuple[float, ...]:
        try:
            weights = tuple(float(p) for p in comma_items(value))
        except ValueError:
            raise ValueError("expected numbers, comma-separated (e.g. 0.5,0.75,1.0)") from None
        if not weights or any(not 0 < w <= 1 for w in weights):
            raise ValueError("expected one or more weights in (0, 1]")
        return weights

    @field_validator("max_rebuys", mode="before")
    @classmethod
    def _max_rebuys(cls, value: Any) -> tuple[int, ...]:
        try:
            counts = tuple(int(p) for p in comma_items(value))
        except ValueError:
            raise ValueError("expected whole numbers, comma-separated (e.g. 0,1,2,3)") from None
        if any(not 0 <= c <= 3 for c in counts):
            raise ValueError("expected numbers of places from 0 to 3")
        return counts

    @field_serializer("max_rebuys")
    def _max_rebuys_text(self, value: tuple[int, ...]) -> str:
        return ",".join(str(c) for c in value)

    @field_validator("similarity", mode="before")
    @classmethod
    def _similarities(cls, value: Any) -> tuple[str, ...]:
        return comma_items(value)  # each then checked against Similarity's names

    @field_serializer("similarity")
    def _similarity_text(self, value: tuple[str, ...]) -> str:
        return ",".join(value)

    @field_serializer("recency", "category_backoff", "popularity_prior")
    def _recency_text(self, value: tuple[float, ...]) -> str:
        return ",".join(repr(w) for w in value)

    @field_validator("category_backoff", "popularity_prior", mode="before")
    @classmethod
    def _backoffs(cls, value: Any) -> tuple[float, ...]:
        try:
            strengths = tuple(float(p) for p in comma_items(value))
        except ValueError:
            raise ValueError("expected numbers, comma-separated (e.g. 0,1)") from None
        if any(not b >= 0 for b in strengths):
            raise ValueError("expected strengths >= 0")
        return strengths


class WorkerSettings(Group):
    """The stream worker's micro-batches, its metrics endpoint and its outputs' lifetime."""

    batch_size: int = Field(200, ge=1, le=10000, description="Events per micro-batch.")
    batch_window: float = Field(0.02, gt=0, description="Seconds to wait to fill a batch.")
    metrics_host: str = Field("127.0.0.1", description="Address of the worker's metrics.")
    metrics_port: int = Field(0, ge=0, le=65535, description="Worker's Prometheus port; 0 = off.")
    suggestion_ttl_seconds: int = Field(
        7 * 86400, gt=0, description="How long a user's latest suggestion is kept."
    )
    minute_figures_retention_days: int = Field(
        3, ge=1, le=365, description="Days the dashboard's minute figures are kept."
    )


class InputSettings(Group):
    """The input limits every parser of records (worker, CSV, API) applies."""

    max_payload_bytes: int = Field(1 << 20, ge=256, description="Larger payloads: dead letter.")
    max_id_length: int = Field(128, ge=1, le=1024, description="Longest accepted id.")
    max_order_lines: int = Field(1000, ge=1, description="Larger orders go to dead letter.")
    max_name_length: int = Field(
        1000, ge=1, le=100_000, description="Longest catalogue name; longer: dead letter."
    )
    dead_letter_payload_chars: int = Field(
        100_000, ge=100, le=100_000, description="A dead letter's payload is cut to this (at most)."
    )

    @property
    def limits(self) -> Limits:
        return Limits(
            self.max_id_length,
            self.max_order_lines,
            self.max_payload_bytes,
            self.max_name_length,
            self.dead_letter_payload_chars,
        )
