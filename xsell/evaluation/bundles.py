"""``xsell eval --bundles``: how often a bundle is bought whole, xsell's against the anchors'.

Protocol. The fixed temporal split (protocol.py). The training orders are loaded as
``xsell backfill`` does into a fresh namespace; the state is then frozen. For every distinct item
of the test orders, xsell's bundle of 3 is read through the store and chosen exactly as
``GET /v1/items/{item_id}/bundle`` does (xsell/engine/bundles.py; no user, so no ownership).
The anchors pick their 2 partners from the same eligible partners (the same store reads, the
same availability and category rules, the same ``XSELL_BUNDLE_MIN_SUPPORT`` with the anchor):

- ``fbt``: the top 2 by confidence P(b | anchor) (Amazon-style "frequently bought together");
- ``lift``: the top 2 by lift P(b | anchor) / P(b), among partners with the minimum support;
- ``categories``: the best by confidence, then the best of another category than it (none when
  the catalogue has no categories: then it is ``fbt``).

Each (test order, item of it with a 3-item xsell bundle) is one bundle shown, for every method
alike. Full attach: the order holds every partner of the method's bundle; partial: some but not
all. Revenue: full attach x the bundle's price at XSELL_BUNDLE_DISCOUNT_PERCENT (within the
margin floor when costs are known), per bundle shown. Occurrences where xsell only has a
bundle of 2 are counted apart (``pairs``): the anchors would offer 3 items there.

``triples`` is a reference, not an anchor: the pair of the same candidates that the most
training orders hold with the anchor, from exact triple counts (which xsell does not keep: they
grow with the cube of the catalogue), without any prior: what exact counting of the training
orders alone would choose.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from xsell.config.settings import Settings
from xsell.engine import rank_params
from xsell.evaluation.bundle_methods import (
    ANCHOR_METHODS,
    CONCURRENT_READS,
    MAX_ANCHORS_PER_ORDER,
    Attach,
    Chosen,
    add_triples,
    anchor_bundles,
    price_of,
    score,
)
from xsell.evaluation.protocol import EvalData
from xsell.evaluation.runner import eval_redis
from xsell.models.bundles import BundleData, choose_bundle, eligible_partners, evidence_of
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.ops.loading import load_history, progress_bar
from xsell.store import Store


def choose_all(data: BundleData, settings: Settings) -> Chosen:
    """xsell's bundle (as the route chooses it) and the anchors', from one anchor's reads."""
    ev = evidence_of(data, settings.learning.half_life_seconds)
    candidates = eligible_partners(data, rank_params(settings).rules)
    cats = {b: (e.category if (e := data.catalog.get(b)) else None) for b in candidates}
    support = settings.offers.bundle_min_support
    bundle = choose_bundle(ev, candidates, cats, 3, support, settings.offers.bundle_lift_prior)
    mine = list(bundle.partners) if bundle is not None else []
    anchors = anchor_bundles(ev, candidates, cats, support)
    entries = {i: data.catalog.get(i) for i in [data.anchor, *candidates]}
    prices = {
        name: price_of(entries, [data.anchor, *partners], settings)
        for name, partners in [("xsell", mine), *anchors.items()]
    }
    spanning = (
        len(mine) == 2
        and all(cats.get(b) is not None for b in mine)
        and cats[mine[0]] != cats[mine[1]]
    )
    strong = [b for b in candidates if ev.together.get(b, 0.0) >= support]
    return Chosen(mine, anchors, prices, spanning, strong, entries)


async def read_bundles(
    store: Store, anchors: Sequence[str], settings: Settings, progress: bool
) -> dict[str, Chosen]:
    """Every anchor's bundles, ``CONCURRENT_READS`` anchors' reads at a time."""
    out: dict[str, Chosen] = {}
    with progress_bar("bundles", len(anchors), "anchors", enabled=progress) as bar:
        for lo in range(0, len(anchors), CONCURRENT_READS):
            chunk = anchors[lo : lo + CONCURRENT_READS]
            got = await asyncio.gather(*(store.bundles.bundle_data(a, None) for a in chunk))
            for a, data in zip(chunk, got, strict=True):
                out[a] = choose_all(data, settings)
            bar.update(len(chunk))
    return out


async def run_bundles(
    settings: Settings,
    data: EvalData,
    catalog: Sequence[CatalogItem],
    progress: bool,
) -> dict[str, Attach]:
    """Train (bulk, a fresh namespace), read and choose every test item's bundles, score."""
    settings = settings.model_copy(update={"key_namespace": f"evalb-{uuid.uuid4().hex[:8]}"})
    store = await Store.open(settings)
    try:
        await load_history(store, data.train, mode="auto", catalog=catalog)
        anchors = sorted({i for o in data.test for i in o.distinct_items()[:MAX_ANCHORS_PER_ORDER]})
        chosen = await read_bundles(store, anchors, settings, progress)
        add_triples(chosen, data.train, settings)
    finally:
        await store.flush_namespace()
        await store.close()
    return score(data.test, chosen)


def with_prices(
    catalog: Sequence[CatalogItem], train: Sequence[PurchaseEvent]
) -> list[CatalogItem]:
    """The catalogue, with the last training line's price for items that have none (an orders
    file without a catalogue: the bundles' prices)."""
    last: dict[str, float] = {}
    for order in train:
        for line in order.items:
            if line.price is not None and line.price > 0:
                last[line.item_id] = line.price
    known = {c.item_id: c for c in catalog}
    out = [
        c if c.price is not None or c.item_id not in last else replace(c, price=last[c.item_id])
        for c in catalog
    ]
    out += [CatalogItem(i, price=p) for i, p in last.items() if i not in known]
    return out


def evaluate_bundles(
    settings: Settings,
    orders: Sequence[PurchaseEvent],
    dataset: str,
    *,
    catalog: Sequence[CatalogItem] = (),
    progress: bool = True,
) -> dict[str, Any]:
    """The report of ``xsell eval --bundles`` (a private, throw-away redis-server unless
    XSELL_REDIS_URL names one, as ``xsell eval``)."""
    started = time.monotonic()
    data = EvalData.of(orders)
    catalog = with_prices(catalog, data.train)
    with eval_redis(settings) as local:
        counts = asyncio.run(run_bundles(local, data, catalog, progress))
    results = {name: a.result() for name, a in counts.items()}
    best = max(results[m]["full_attach"] for m in ANCHOR_METHODS)
    mine = counts["xsell"]
    with_categories = any(c.category is not None for c in catalog)
    return {
        "dataset": dataset,
        "train_orders": len(data.train),
        "test_orders": len(data.test),
        "discount_percent": settings.offers.bundle_discount_percent,
        "min_support": settings.offers.bundle_min_support,
        "results": results,
        "xsell_vs_best_anchor": round(results["xsell"]["full_attach"] / best, 3) if best else None,
        "spanning_categories": round(mine.spanning / mine.shown, 4)
        if with_categories and mine.shown
        else None,
        "seconds": round(time.monotonic() - started, 1),
    }


def bundle_table(rep: dict[str, Any]) -> str:
    """The report as a table."""
    lines = [
        f"dataset {rep['dataset']}: {rep['train_orders']} train / {rep['test_orders']} test "
        f"orders; bundles of 3 at {rep['discount_percent']}% off, min support "
        f"{rep['min_support']}; {rep['seconds']}s",
        f"{'method':<11}{'shown':>9}{'full':>10}{'partial':>10}{'revenue/shown':>15}",
    ]
    for name, r in rep["results"].items():
        lines.append(
            f"{name:<11}{r['shown']:>9}{r['full_attach']:>10.4f}{r['partial_attach']:>10.4f}"
            f"{r['revenue_per_bundle']:>15.4f}"
        )
    lines.append(f"xsell / best anchor, full attach: {rep['xsell_vs_best_anchor']}")
    spanning = rep["spanning_categories"]
    lines.append(
        "bundles spanning 2 categories: "
        + ("n/a (no categories)" if spanning is None else f"{spanning:.1%}")
    )
    return "\n".join(lines)
