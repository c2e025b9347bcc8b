"""A shopper's segment from their own stream: lifecycle, spend tier and profile attributes
(docs/personal.md).

- **lifecycle**: ``new`` (no order yet), ``returning`` (fewer than ``loyal_min_orders``
  orders), ``loyal`` (at least that many). Counted per order, not per item: a shop thinks of
  a loyal customer as one who comes back, not one who buys a big basket once.
- **spend tier**: where the shopper's total spend (their customer lifetime value so far)
  falls among the spends of every shopper with an order: ``low`` (the bottom
  ``low_spend_share``), ``high`` (the top ``high_spend_share``), ``mid`` between. The
  quantiles come from a histogram of totals on a log scale (:func:`spend_bucket`), one count
  per shopper, kept in Redis and moved by each purchase: bounded memory whatever the number
  of shoppers, at the cost of a bucket's resolution (about 19%: four buckets per doubling).
- **attributes**: what the shop sent on the profiles topic (``location``, ``age_band`` ...),
  carried as they are.

Merchant rules match a segment by name (:func:`rule_names`): ``loyal``, ``spend:high``,
``location:HN``. Pure: the store reads the counts, this decides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xsell.models.events import OrderLine

BUCKETS_PER_DOUBLING = 4  # histogram resolution: 2**(1/4) = 1.19, about 19% per bucket
MAX_BUCKET = 159  # 2**(159/4) is about 9e11: no shopper spends beyond; a bounded histogram
MAX_SPEND_HUNDREDTHS = 9_000_000_000_000_000  # a total's cap: below 2**53, exact in a double
LIFECYCLES = ("new", "returning", "loyal")
SPEND_TIERS = ("low", "mid", "high")


@dataclass(frozen=True, slots=True)
class SegmentParams:
    """The thresholds (XSELL_SEGMENT_*)."""

    loyal_min_orders: int = 3
    low_spend_share: float = 0.5
    high_spend_share: float = 0.2


@dataclass(frozen=True, slots=True)
class SegmentState:
    """What the store keeps of a shopper: orders, the histogram bucket of their total spend
    (None: nothing spent, or no prices sent) and profile attributes."""

    orders: int = 0
    bucket: int | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Segment:
    """A shopper's segment as carried on messages and matched by rules."""

    lifecycle: str = "new"
    spend: str | None = None  # None: no spend known (a new shopper, or no prices)
    attributes: Mapping[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The ``segment`` object of a message (docs/contract.md)."""
        out: dict[str, Any] = {"lifecycle": self.lifecycle, "spend": self.spend}
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return out


NEW = Segment()


def spend_bucket(spend: float) -> int:
    """The histogram bucket of a total spend: log scale, so that a shop's small and big
    spenders are both resolved to about 19%; 0 for anything below 1 (a currency unit)."""
    if spend < 1.0:
        return 0
    # log(x) / log(2), as the store's Lua computes it (the same C log(), the same bucket)
    return min(MAX_BUCKET, math.floor(math.log(spend) / math.log(2) * BUCKETS_PER_DOUBLING))


def lifecycle(orders: int, loyal_min_orders: int) -> str:
    """``new`` without an order, ``loyal`` from ``loyal_min_orders`` on, else ``returning``."""
    if orders <= 0:
        return "new"
    return "loyal" if orders >= loyal_min_orders else "returning"


def spend_share_below(bucket: int, histogram: Mapping[int, int]) -> float:
    """The share of shoppers who spent less than one in ``bucket`` (half of the bucket's own
    shoppers counted below: the mid-rank, so that one bucket holding everyone is ``mid``, not
    ``low`` or ``high``). 0.5 with an empty histogram."""
    total = sum(n for n in histogram.values() if n > 0)
    if total <= 0:
        return 0.5
    below = sum(n for b, n in histogram.items() if b < bucket and n > 0)
    return (below + 0.5 * max(0, histogram.get(bucket, 0))) / total


def spend_tier(
    bucket: int | None, histogram: Mapping[int, int], params: SegmentParams
) -> str | None:
    """``low``, ``mid`` or ``high`` from the shopper's place among all spends; None when the
    shopper has no spend yet."""
    if bucket is None:
        return None
    share = spend_share_below(bucket, histogram)
    if share >= 1.0 - params.high_spend_share:
        return "high"
    if share < params.low_spend_share:
        return "low"
    return "mid"


def segment_of(
    state: SegmentState | None, histogram: Mapping[int, int], params: SegmentParams
) -> Segment:
    """A shopper's segment from their stored state (None: nothing stored, a new shopper)."""
    if state is None:
        return NEW
    return Segment(
        lifecycle(state.orders, params.loyal_min_orders),
        spend_tier(state.bucket, histogram, params) if state.orders > 0 else None,
        dict(state.attributes),
    )


def rule_names(segment: Segment) -> frozenset[str]:
    """The names a rule's ``when.segments`` matches: the lifecycle, ``spend:TIER`` and
    ``NAME:VALUE`` per profile attribute."""
    names = {segment.lifecycle}
    if segment.spend is not None:
        names.add(f"spend:{segment.spend}")
    names.update(f"{k}:{v}" for k, v in segment.attributes.items())
    return frozenset(names)


def spend_hundredths(spend: float) -> int:
    """An order's spend as the store adds it: whole hundredths of a currency unit, so that a
    shopper's total is an exact integer whatever the order of the additions (the same on a
    redelivery, a bulk load and in the state oracle), capped like a total."""
    return min(MAX_SPEND_HUNDREDTHS, round(spend * 100))


def order_spend(lines: Iterable[OrderLine]) -> float:
    """What an order cost: quantity x price over the lines with a price (a line without one
    adds nothing: spend is a lower bound when a shop sends no prices)."""
    return float(
        sum(max(0.0, line.quantity) * line.price for line in lines if line.price is not None)
    )
