"""Runs the protocol for xsell (through the worker's own code) and the baselines."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Sequence
from typing import Any

from config.settings import Settings
from models.events import PurchaseEvent
from xsell.devenv.servers import LocalRedis
from xsell.engine import Engine
from xsell.evaluation.baselines import Baselines, build
from xsell.evaluation.protocol import EvalData, Metrics, session_events
from xsell.evaluation.through_kafka import run_through_kafka
from xsell.ops.loading import backfill, progress_bar
from xsell.store.apply import Store

log = logging.getLogger(__name__)


def run_baselines(data: EvalData, k: int, max_items: int) -> dict[str, Metrics]:
    base = Baselines(build(data.train, max_items), k)
    popular, jaccard = Metrics(k), Metrics(k)
    for _, items in data.sessions:
        for n, suggested in enumerate(base.jaccard_session(items)):
            rest = set(items[n + 1 :])
            jaccard.add(suggested, rest)
            popular.add(base.popular(items[: n + 1]), rest)
    return {"popular": popular, "jaccard": jaccard}


async def run_xsell(settings: Settings, data: EvalData, *, progress: bool = True) -> Metrics:
    """Train through Store.apply and rank through Engine, in a fresh Redis namespace."""
    settings = settings.model_copy(update={"key_namespace": f"eval-{uuid.uuid4().hex[:8]}"})
    store = await Store.open(settings)
    metrics = Metrics(settings.max_suggestions)
    try:
        await backfill(store, data.train, total=len(data.train))
        engine = Engine(store, settings)
        with progress_bar("eval", data.triggers, "triggers", enabled=progress) as bar:
            for order, items in data.sessions:
                events = session_events(order, items)
                for n, event in enumerate(events):
                    (message,) = await engine.process([event])
                    if n < len(events) - 1:
                        metrics.add([i["item_id"] for i in message["items"]], set(items[n + 1 :]))
                        bar.update()
    finally:
        await store.flush_namespace()
        await store.close()
    return metrics


def report(
    dataset: str, data: EvalData, k: int, results: dict[str, Metrics], seconds: float
) -> dict[str, Any]:
    """The JSON object of ``xsell eval --json``."""
    size = len(data.catalogue)
    return {
        "dataset": dataset,
        "k": k,
        "train_orders": len(data.train),
        "test_orders": len(data.test),
        "triggers": data.triggers,
        "results": {name: m.result(size) for name, m in results.items()},
        "seconds": round(seconds, 1),
    }


def table(rep: dict[str, Any]) -> str:
    """A side-by-side table, with xsell / best baseline."""
    res = rep["results"]
    metrics = ["hr", "precision", "ndcg", "mrr", "coverage"]
    heads = ["HR@k", "precision@k", "NDCG@k", "MRR", "coverage"]
    lines = [
        f"dataset {rep['dataset']}: {rep['train_orders']} train / {rep['test_orders']} test "
        f"orders, {rep['triggers']} triggers, k={rep['k']}, {rep['seconds']}s",
        f"{'method':<10}" + "".join(f"{h:>12}" for h in heads),
    ]
    for name, values in res.items():
        lines.append(f"{name:<10}" + "".join(f"{values[m]:>12.4f}" for m in metrics))
    best = max(v["hr"] for n, v in res.items() if n != "xsell")
    if "xsell" in res and best > 0:
        lines.append(f"xsell / best baseline HR@{rep['k']}: {res['xsell']['hr'] / best:.3f}")
    return "\n".join(lines)


def evaluate(
    settings: Settings,
    orders: Sequence[PurchaseEvent],
    dataset: str,
    *,
    progress: bool = True,
    through_kafka: bool = False,
) -> dict[str, Any]:
    """Run xsell and the baselines on one split; the report of ``xsell eval``.

    Redis (and for ``through_kafka`` the broker) are private, throw-away servers unless
    XSELL_REDIS_URL / XSELL_KAFKA_BROKERS are set in the environment.
    """
    started = time.monotonic()
    data = EvalData.of(orders)
    own_redis = "XSELL_REDIS_URL" not in os.environ
    own_broker = "XSELL_KAFKA_BROKERS" not in os.environ
    if through_kafka:
        xsell = run_through_kafka(
            settings, data, private_broker=own_broker, private_redis=own_redis
        )
    elif own_redis:
        with LocalRedis() as server:
            local = settings.model_copy(update={"redis_url": server.url})
            xsell = asyncio.run(run_xsell(local, data, progress=progress))
    else:
        xsell = asyncio.run(run_xsell(settings, data, progress=progress))
    results = {"xsell": xsell}
    results.update(run_baselines(data, settings.max_suggestions, settings.max_items_per_order))
    return report(dataset, data, settings.max_suggestions, results, time.monotonic() - started)
