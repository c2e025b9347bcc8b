"""What the dashboard shows besides the report: the worker's last hour minute by minute
(events/s, suggestions/s, latency percentiles, dead letters) and the strongest co-purchase
pairs."""

from __future__ import annotations

import math
import time
from typing import Any

from xsell.store import LATENCY_BUCKETS_MS, Store, minute_of

MINUTES = 60
TOP_ITEMS = 30


def latency_percentiles(fields: dict[str, str]) -> dict[str, float | None]:
    """p50, p95, p99 (ms) of a minute's histogram: the upper bound of the bucket reached
    (a conservative reading: never below the true percentile)."""
    bounds = [*LATENCY_BUCKETS_MS, math.inf]
    counts = [int(fields.get(f"lat:{'inf' if b == math.inf else b}", 0)) for b in bounds]
    total = sum(counts)
    out: dict[str, float | None] = {}
    for q in (50, 95, 99):
        if not total:
            out[f"p{q}"] = None
            continue
        seen, rank = 0, total * q / 100
        for bound, n in zip(bounds, counts, strict=True):
            seen += n
            if seen >= rank:
                out[f"p{q}"] = None if bound == math.inf else float(bound)
                break
    return out


async def minutes(store: Store, now: float | None = None) -> list[dict[str, Any]]:
    """The last MINUTES minutes of worker figures, oldest first."""
    current = minute_of(time.time() if now is None else now)
    span = list(range(current - MINUTES + 1, current + 1))
    answers = await store.attribution.minute_figures(span)
    out = []
    for minute, fields in zip(span, answers, strict=True):
        events = sum(int(v) for k, v in fields.items() if k.startswith("events:"))
        out.append(
            {
                "t": minute * 60,
                "events_per_s": round(events / 60, 3),
                "suggestions_per_s": round(int(fields.get("suggestions", 0)) / 60, 3),
                "dead_letters": int(fields.get("dead_letters", 0)),
                **latency_percentiles(fields),
            }
        )
    return out


async def top_pairs(store: Store, n: int = 10) -> list[dict[str, Any]]:
    """The strongest co-purchase pairs among the most popular items (raw stored weights,
    comparable among themselves)."""
    top = await store.ops.most_popular(TOP_ITEMS)
    if not top:
        return []
    pairs: dict[frozenset[str], float] = {}
    for item, best in zip(top, await store.ops.best_partner(top), strict=True):
        if best is not None:
            pairs[frozenset((item, best[0]))] = best[1]
    ranked = sorted(pairs.items(), key=lambda kv: -kv[1])[:n]
    return [{"a": sorted(p)[0], "b": sorted(p)[1], "weight": round(w, 3)} for p, w in ranked]
