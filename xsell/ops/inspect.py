"""Read-only views of the state for the CLI and tests (``xsell neighbors``, ``xsell stats``)."""

from __future__ import annotations

from typing import Any

from models.decay import decayed_value
from models.similarity import SIMILARITIES
from xsell.store.lua import READ_ITEM
from xsell.store.reader import _pairs, _parse
from xsell.store.apply import Store


async def state_clock(store: Store) -> tuple[float, float, float]:
    """(order total N, popularity landmark L, latest event ts T) as stored."""
    (meta,) = await store.runner.run([("HMGET", store.keys.meta, "N", "L", "T")])
    n, land, latest = (float(x) if x is not None else 0.0 for x in meta)
    return n, land, latest


async def neighbours(store: Store, item_id: str, k: int) -> list[dict[str, Any]]:
    """Top ``k`` co-purchase partners of ``item_id``, decayed to the latest event time.

    ``together`` is the decayed co-purchase weight (exact integers when decay is off);
    ``score`` the configured similarity on co-purchase + co-add weight.
    """
    hl = store.settings.half_life_seconds
    keys = store.keys.item(item_id)
    n_raw, land_g, now = await state_clock(store)
    ((land_raw, p_flat, c_flat),) = await store.runner.run(
        [(READ_ITEM, [keys.pairs, keys.cart_pairs, keys.info], [k])]
    )
    land_i = float(land_raw) if land_raw is not None else now
    factor = decayed_value(1.0, land_i, now, hl)
    together, co_added = _pairs(_parse(p_flat), factor), _pairs(_parse(c_flat), factor)
    items = [item_id, *together]
    (scores,) = await store.runner.run([("ZMSCORE", store.keys.popularity, *items)])
    gfactor = decayed_value(1.0, land_g, now, hl)
    counts = {i: float(s or 0.0) * gfactor for i, s in zip(items, scores, strict=True)}
    sim = SIMILARITIES[store.settings.similarity]
    rows = []
    for other, weight in together.items():
        co = weight + co_added.get(other, 0.0)
        score = float(sim(co, counts[item_id], counts[other], n_raw * gfactor))
        rows.append({"item_id": other, "together": _exact(weight), "score": round(score, 6)})
    return rows


def _exact(x: float) -> float | int:
    return int(x) if x == int(x) and abs(x) < 2**53 else round(x, 6)


async def key_census(store: Store) -> dict[str, int]:
    """Number of keys per kind (the part after the hash tag), for ``xsell stats``."""
    counts: dict[str, int] = {}
    async for key in store.client.scan_iter(match=store.keys.pattern(), count=1000):
        kind = key.rsplit("}", 1)[-1].lstrip(":") or key.split(":{", 1)[-1].split(":", 1)[0]
        counts[kind] = counts.get(kind, 0) + 1
    return counts
