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
from models.events import CatalogItem, PurchaseEvent
from xsell.devenv.servers import LocalRedis
from xsell.engine import Engine
from xsell.evaluation.baselines import Baselines, build
from xsell.evaluation.protocol import EvalData, Metrics, session_events
from xsell.evaluation.session_knn import SessionKnn, index_baskets
from xsell.evaluation.through_kafka import run_through_kafka
from xsell.ops.loading import load_history, progress_bar
from xsell.store.apply import Store

log = logging.getLogger(__name__)


ANCHORS = ("popular", "jaccard", "rconf", "vsknn", "stan")


def run_baselines(data: EvalData, k: int, max_items: int) -> dict[str, Metrics]:
    """Every anchor's metrics on the split (see baselines.py and session_knn.py)."""
    base = Baselines(build(data.train, max_items), k)
    knn = SessionKnn(base, index_baskets(data.train, base.co.index))
    metrics = {name: Metrics(k) for name in ANCHORS}
    for order, items in data.sessions:
        lists = {
            "jaccard": base.jaccard_session(items),
            "rconf": base.rconf_session(items),
            "vsknn": knn.session(items, order.ts, stan=False),
            "stan": knn.session(items, order.ts, stan=True),
        }
        for n in range(len(items) - 1):
            rest = set(items[n + 1 :])
            metrics["popular"].add(base.popular(items[: n + 1]), rest)
            for name, suggested in lists.items():
                metrics[name].add(suggested[n], rest)
    return metrics


REPLAY_BATCH = 128  # test sessions replayed side by side, as concurrent shoppers
REPLAY_LANES = 2  # groups in flight at once: one ranks in Python while Redis runs the other's


async def replay_group(
    engine: Engine, group: Sequence[tuple[PurchaseEvent, list[str]]], metrics: Metrics, bar: Any
) -> None:
    """Step n of every session of ``group`` is one micro-batch through ``Engine.process``."""
    events = [session_events(order, items) for order, items in group]
    for n in range(max(len(e) for e in events)):
        live = [g for g, e in enumerate(events) if n < len(e)]
        messages = await engine.process([events[g][n] for g in live])
        for g, message in zip(live, messages, strict=True):
            items = group[g][1]
            if n < len(items) - 1:
                metrics.add([i["item_id"] for i in message["items"]], set(items[n + 1 :]))
                bar.update()


async def run_xsell(
    settings: Settings,
    data: EvalData,
    *,
    progress: bool = True,
    catalog: Sequence[CatalogItem] = (),
) -> Metrics:
    """Train as ``xsell backfill`` does (bulk into the fresh namespace: the state streaming
    leaves, tests/integration/test_bulk.py), then replay the test sessions through
    ``Engine.process``, the worker's own apply-and-rank path.

    Sessions are replayed as concurrent shoppers, ``REPLAY_BATCH`` per group: step n of every
    session of a group is one micro-batch (one round of reads and scripts per batch, not per
    event), and ``REPLAY_LANES`` groups run at once."""
    settings = settings.model_copy(update={"key_namespace": f"eval-{uuid.uuid4().hex[:8]}"})
    store = await Store.open(settings)
    metrics = Metrics(settings.max_suggestions)
    try:
        await load_history(store, data.train, mode="auto", catalog=catalog)
        engine = Engine(store, settings)
        groups = [
            data.sessions[i : i + REPLAY_BATCH] for i in range(0, len(data.sessions), REPLAY_BATCH)
        ]
        with progress_bar("eval", data.triggers, "triggers", enabled=progress) as bar:
            for i in range(0, len(groups), REPLAY_LANES):
                lanes = groups[i : i + REPLAY_LANES]
                await asyncio.gather(*(replay_group(engine, g, metrics, bar) for g in lanes))
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
    catalog: Sequence[CatalogItem] = (),
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
            xsell = asyncio.run(run_xsell(local, data, progress=progress, catalog=catalog))
    else:
        xsell = asyncio.run(run_xsell(settings, data, progress=progress, catalog=catalog))
    results = {"xsell": xsell}
    results.update(run_baselines(data, settings.max_suggestions, settings.max_items_per_order))
    return report(dataset, data, settings.max_suggestions, results, time.monotonic() - started)
