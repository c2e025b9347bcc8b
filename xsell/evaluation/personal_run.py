"""Runs ``xsell eval --cart-personal``: xsell through the worker's code path with the real user
ids (:mod:`xsell.evaluation.personal`) and the anchors beside it
(:mod:`xsell.evaluation.personal_anchors`), and the report."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from xsell.config.settings import Settings
from xsell.engine import Engine, rebuy_tuning_status, tuning_status
from xsell.evaluation.personal import (
    FORMS,
    GROUPS,
    GroupMetrics,
    PersonalSession,
    group_triggers,
    personal_data,
    replay_personal,
)
from xsell.evaluation.personal_anchors import (
    ANCHORS,
    HISTORY_GRID,
    history_cell,
    personal_anchor_suggestions,
)
from xsell.evaluation.runner import SHOPPERS, eval_redis, rebuy_places_line
from xsell.models.events import CatalogItem, PurchaseEvent
from xsell.ops.loading import load_history, progress_bar
from xsell.store import Store


def run_personal_anchors(
    train: Sequence[PurchaseEvent], sessions: Sequence[PersonalSession], k: int, max_items: int
) -> dict[str, GroupMetrics]:
    """Every anchor's (and every rconf_history cell's) metrics."""
    metrics: dict[str, GroupMetrics] = {}
    for n, lists in personal_anchor_suggestions(train, sessions, k, max_items):
        for name, suggested in lists.items():
            m = metrics.setdefault(name, GroupMetrics(k))
            for step, items in enumerate(suggested):
                m.add(sessions[n], step, items)
    return metrics


async def run_xsell_personal(
    settings: Settings,
    train: Sequence[PurchaseEvent],
    sessions: Sequence[PersonalSession],
    *,
    progress: bool,
    catalog: Sequence[CatalogItem],
    shoppers: int,
) -> tuple[GroupMetrics, dict[str, Any] | None]:
    """Trained as ``xsell backfill`` does, then the sessions through ``Engine.process``
    (:func:`replay_personal`); xsell's metrics and what self-tuning ended with."""
    settings = settings.model_copy(update={"key_namespace": f"evalcp-{uuid.uuid4().hex[:8]}"})
    store = await Store.open(settings)
    metrics = GroupMetrics(settings.ranking.max_suggestions)
    rebuys = Counter[str]()

    def score(i: int, n: int, message: dict[str, Any]) -> None:
        offers = message["items"]
        metrics.add(sessions[i], n, [o["item_id"] for o in offers])
        again = [o["item_id"] for o in offers if o.get("kind") == "rebuy"]
        rest = sessions[i].items[n + 1 :]
        rebuys["triggers"] += bool(again)
        rebuys["offers"] += len(again)
        rebuys["hits"] += sum(1 for item in again if item in rest)

    try:
        await load_history(store, list(train), mode="auto", catalog=catalog)
        engine = Engine(store, settings)
        total = sum(s.triggers for s in sessions)
        with progress_bar("eval", total, "triggers", enabled=progress) as bar:
            await replay_personal(engine, sessions, shoppers, score, bar)
        tuning = await tuning_status(store, settings) if settings.tuning.enabled else None
        if tuning is not None and engine.rebuy_tuner is not None:
            tuning["rebuy_places"] = await rebuy_tuning_status(store, settings)
    finally:
        await store.flush_namespace()
        await store.close()
    metrics.rebuys = dict(rebuys)
    return metrics, tuning


def personal_report(
    dataset: str,
    k: int,
    train: Sequence[PurchaseEvent],
    sessions: Sequence[PersonalSession],
    results: dict[str, GroupMetrics],
    seconds: float,
    tuning: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON of ``xsell eval --cart-personal``: ``results.<method>.<group>.<form>`` (hr,
    mrr, triggers); ``rconf_history`` is its best grid cell by HR@k on all triggers (named in
    ``rconf_history_cell``; every cell's in ``rconf_history_grid``); ``xsell_rebuys``: xsell's
    ``kind: "rebuy"`` offers (triggers with one, offers, offers in the rest of the order)."""
    done = {name: m.result() for name, m in results.items()}
    grid = {history_cell(w, d): done.pop(history_cell(w, d)) for w, d in HISTORY_GRID}
    best = max(grid, key=lambda cell: grid[cell]["all"]["any"]["hr"])
    order = ["xsell", *ANCHORS]
    merged = {**done, "rconf_history": grid[best]}
    return {
        "dataset": dataset,
        "protocol": "cart_personal",
        "k": k,
        "train_orders": len(train),
        "test_orders": len(sessions),
        "replayed_carts": sum(1 for s in sessions if s.triggers > 0),
        "triggers": group_triggers(sessions),
        "results": {name: merged[name] for name in order if name in merged},
        "xsell_rebuys": results["xsell"].rebuys if "xsell" in results else {},
        "rconf_history_cell": best,
        "rconf_history_grid": {c: v["all"]["any"]["hr"] for c, v in grid.items()},
        "tuning": tuning,
        "seconds": round(seconds, 1),
    }


def personal_table(rep: dict[str, Any]) -> str:
    """HR@k per method (rows) and group/form (columns), then the triggers per cell."""
    res = rep["results"]
    cols = [(g, f) for g in GROUPS for f in FORMS]
    lines = [
        f"dataset {rep['dataset']}, cart-personal: {rep['train_orders']} train / "
        f"{rep['test_orders']} test orders ({rep['replayed_carts']} carts of >= 2 items), "
        f"k={rep['k']}, {rep['seconds']}s; HR@{rep['k']} per group and form",
        f"{'method':<16}" + "".join(f"{g[:9] + ' ' + f[:3]:>14}" for g, f in cols),
    ]
    for name, groups in res.items():
        lines.append(f"{name:<16}" + "".join(f"{groups[g][f]['hr']:>14.4f}" for g, f in cols))
    first = next(iter(res.values()))
    lines.append(f"{'triggers':<16}" + "".join(f"{first[g][f]['triggers']:>14}" for g, f in cols))
    grid = ", ".join(f"{c.split(' ', 1)[1]}: {hr}" for c, hr in rep["rconf_history_grid"].items())
    lines.append(
        f"rconf_history: best cell {rep['rconf_history_cell']!r} chosen on this test set "
        f"(an upper bound); all cells' HR (all, any): {grid}"
    )
    again = rep.get("xsell_rebuys") or {}
    if again:
        lines.append(
            f"xsell's buy-again offers: {again.get('offers', 0)} on {again.get('triggers', 0)} "
            f"triggers, {again.get('hits', 0)} of them in the rest of the order"
        )
    tuning = rep.get("tuning")
    if tuning:
        lines.append(f"self-tuning: recency weight {tuning['recency_decay']}")
        if tuning.get("rebuy_places"):
            lines.append(rebuy_places_line(tuning["rebuy_places"]))
    return "\n".join(lines)


def evaluate_personal(
    settings: Settings,
    orders: Sequence[PurchaseEvent],
    dataset: str,
    *,
    progress: bool = True,
    catalog: Sequence[CatalogItem] = (),
    shoppers: int | None = None,
) -> dict[str, Any]:
    """The report of ``xsell eval --cart-personal`` (a private Redis unless XSELL_REDIS_URL)."""
    started = time.monotonic()
    train, sessions = personal_data(orders)
    k, max_items = settings.ranking.max_suggestions, settings.learning.max_items_per_order
    options: dict[str, Any] = {
        "progress": progress,
        "catalog": catalog,
        "shoppers": shoppers or SHOPPERS,
    }
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        anchors = pool.submit(run_personal_anchors, train, sessions, k, max_items)
        with eval_redis(settings) as local:
            xsell, tuning = asyncio.run(run_xsell_personal(local, train, sessions, **options))
        results = {"xsell": xsell, **anchors.result()}
    seconds = time.monotonic() - started
    return personal_report(dataset, k, train, sessions, results, seconds, tuning)
