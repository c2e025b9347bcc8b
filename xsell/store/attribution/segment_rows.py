"""The report's per-segment rows of the attribution (ledger.py): an offer made to a user of a
known segment (models/segments.py, the message's ``segment``) earns under
``seg:LIFECYCLE`` and ``spend:TIER`` as under its placement, and a known user's order counts
there in the segment the user was in when buying."""

from __future__ import annotations

from typing import Any

from xsell.models.segments import LIFECYCLES, SPEND_TIERS, SegmentParams, SegmentState, segment_of

SEGMENT_PREFIX = "seg:"  # the placement-like dimension of a lifecycle (new, returning, loyal)
SPEND_PREFIX = "spend:"  # ... of a spend tier (low, mid, high)


def segment_of_message(message: dict[str, Any]) -> tuple[str, str]:
    """A message's segment as (lifecycle, spend tier) for the ledger ('' when unknown: no
    user, or the holdout, whose segment is not read). Only the names models/segments.py
    makes: nothing else could reach a report row."""
    segment = message.get("segment") or {}
    life, spend = segment.get("lifecycle"), segment.get("spend")
    if life not in LIFECYCLES:
        return "", ""
    return str(life), str(spend) if spend in SPEND_TIERS else ""


def segment_arg(message: dict[str, Any]) -> str:
    """The ledger's segment argument of a message: 'LIFECYCLE,SPEND', '' when unknown."""
    life, spend = segment_of_message(message)
    return f"{life},{spend}" if life else ""


def segment_rows(life: str, spend: str) -> list[str]:
    """The report rows of a segment: ``seg:LIFECYCLE`` and ``spend:TIER`` when known."""
    out = [SEGMENT_PREFIX + life] if life else []
    return out + ([SPEND_PREFIX + spend] if spend else [])


def buying_segment(
    answer: Any, histogram: dict[int, int], params: SegmentParams
) -> tuple[str, str]:
    """The segment a user was in when buying, from the order's SEGMENT_ORDER answer
    ``[old bucket, new bucket, moved, orders before]`` (xsell/store/core/segments.py) and the
    spend histogram read before the batch: ('', '') when the answer is empty (counted before:
    a redelivery whose first attempt died before the report's counters)."""
    if not answer or len(answer) < 4:
        return "", ""
    old, before = int(answer[0]), int(answer[3])
    state = SegmentState(before, None if old < 0 else old)
    seg = segment_of(state, histogram, params)
    return seg.lifecycle, seg.spend or ""
