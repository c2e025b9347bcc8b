"""Read-only views of the state for operators (``xsell neighbors``)."""

from __future__ import annotations

from typing import Any

from xsell.models.decay import decayed_value
from xsell.models.similarity import SIMILARITIES
from xsell.store import Store, scaled, state_clock


async def neighbours(store: Store, item_id: str, k: int) -> list[dict[str, Any]]:
    """Top ``k`` co-purchase partners of ``item_id``, decayed to the latest event time.

    ``together`` is the decayed co-purchase weight (exact integers when decay is off);
    ``score`` the configured similarity on co-purchase + co-add weight.
    """
    hl = store.settings.learning.half_life_seconds
    clock = await state_clock(store)
    n_raw, land_g, now = clock.total, clock.landmark, clock.latest
    partners = await store.ops.item_partners(item_id, k)
    land_i = partners.landmark if partners.landmark is not None else now
    factor = decayed_value(1.0, land_i, now, hl)
    together = scaled(partners.together, factor)
    co_added = scaled(partners.co_added, factor)
    items = [item_id, *together]
    scores = await store.ops.order_counts(items)
    gfactor = decayed_value(1.0, land_g, now, hl)
    counts = {i: s * gfactor for i, s in zip(items, scores, strict=True)}
    sim = SIMILARITIES[store.settings.ranking.similarity]
    rows = []
    for other, weight in together.items():
        co = weight + co_added.get(other, 0.0)
        score = float(sim(co, counts[item_id], counts[other], n_raw * gfactor))
        rows.append({"item_id": other, "together": _exact(weight), "score": round(score, 6)})
    return rows


def _exact(x: float) -> float | int:
    return int(x) if x == int(x) and abs(x) < 2**53 else round(x, 6)
