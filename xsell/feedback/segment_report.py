"""The report's per-segment rows (``segments``): what the offers did and what the orders were
worth per shopper segment (models/segments.py) and variant.

A segment is a lifecycle (``dimension`` ``lifecycle``: new, returning, loyal) or a spend tier
(``spend``: low, mid, high). Offers count in the segment their message carried (the user's
when ranked: offered, accepted, acceptance_rate, attributed_revenue, cannibalized); orders in
the segment the buyer was in when buying (orders, revenue, aov: a first order is a ``new``
shopper's). The control group is shown no offers, but its orders count: each variant's AOV in
a segment is compared with the control group's in the same segment (Welch, as the report's
comparisons), so that a variant's effect on loyal shoppers is not hidden by the new ones.
Offers made to a guest, or to a user before segments were recorded, are in no segment.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from xsell.models.experiments import CONTROL
from xsell.models.segments import LIFECYCLES, SPEND_TIERS
from xsell.models.stats import Sample, welch
from xsell.store import SEGMENT_PREFIX, SPEND_PREFIX

SEGMENT_COLUMNS = ("offered", "accepted", "acceptance_rate", "attributed_revenue", "orders", "aov")
SEGMENT_COUNTERS = ("offered", "accepted", "attributed_revenue", "cannibalized")
DIMENSIONS = {SEGMENT_PREFIX: ("lifecycle", LIFECYCLES), SPEND_PREFIX: ("spend", SPEND_TIERS)}


def segment_key(placement: str) -> tuple[str, str] | None:
    """(dimension, segment) of a counter's placement part, None when not a segment's."""
    for prefix, (dimension, _) in DIMENSIONS.items():
        if placement.startswith(prefix):
            return dimension, placement[len(prefix) :]
    return None


def _order(dimension: str, segment: str) -> tuple[int, int]:
    names = LIFECYCLES if dimension == "lifecycle" else SPEND_TIERS
    return (0 if dimension == "lifecycle" else 1), (
        names.index(segment) if segment in names else len(names)
    )


def _sample(c: dict[str, float]) -> Sample:
    return Sample(int(c.get("orders", 0.0)), c.get("revenue", 0.0), c.get("revenue_sq", 0.0))


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def segment_rows(
    segmented: dict[tuple[str, str, str], dict[str, float]],
) -> list[dict[str, Any]]:
    """One row per (dimension, segment, variant), lifecycles first, in their order; a
    variant's row carries ``aov_vs_control`` (ratio, 95% interval, p-value; None where the
    data cannot tell), the control's row None."""
    rows = []
    for (dimension, segment, variant), c in sorted(
        segmented.items(), key=lambda kv: (*_order(kv[0][0], kv[0][1]), kv[0][2])
    ):
        orders = _sample(c)
        control = segmented.get((dimension, segment, CONTROL), {})
        vs = None
        if variant != CONTROL:
            vs = {
                k: None if v is None else round(float(v), 6)
                for k, v in asdict(welch(orders, _sample(control))).items()
            }
        rows.append(
            {
                "dimension": dimension,
                "segment": segment,
                "variant": variant,
                **{n: round(c.get(n, 0.0), 6) for n in SEGMENT_COUNTERS},
                "acceptance_rate": _ratio(c.get("accepted", 0.0), c.get("offered", 0.0)),
                "orders": orders.n,
                "revenue": round(orders.total, 6),
                "aov": round(orders.mean, 6) if orders.n else None,
                "aov_vs_control": vs,
            }
        )
    return rows


def segment_line(row: dict[str, Any]) -> list[Any]:
    """A ``segments`` row of the table: its columns, then the AOV ratio and p-value."""
    vs = row.get("aov_vs_control") or {}
    return [
        row["dimension"],
        row["segment"],
        row["variant"],
        *(row[h] for h in SEGMENT_COLUMNS),
        vs.get("ratio"),
        vs.get("p_value"),
    ]
