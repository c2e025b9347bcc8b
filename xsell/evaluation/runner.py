"""Runs the protocol for xsell (through the worker's own code) and the baselines."""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from xsell.config.settings import Settings
from xsell.devenv.servers import LocalRedis
from xsell.engine import Engine, rebuy_tuning_status, tuning_status
from xsell.evaluation.baselines import Baselines, build
from xsell.evaluation.protocol import EvalData, Metrics, session_checkout, session_events
from xsell.evaluation.session_knn import SessionKnn, index_baskets
from xsell.evaluation.through_kafka import run_through_kafka
from xsell.models.events import CartEvent, CatalogItem, PurchaseEvent
from xsell.ops.loading import load_history, progress_bar
from xsell.store import Store

log = logging.getLogger(__name__)


ANCHORS = ("popular", "jaccard", "rconf", "vsknn", "stan")
ANCHOR_MODES = {
    "streamed": "streamed (each test order learnt once scored, as xsell learns)",
    "train-only": "train-only (learnt from the training split only)",
}


Suggestions = dict[str, list[list[str]]]  # anchor -> its k items after each add but the last


def anchor_suggestions(
    data: EvalData, k: int, max_items: int, *, stream: bool = True
) -> Iterator[tuple[list[str], Suggestions]]:
    """Each test session's items and every anchor's suggestions for it, in time order.

    ``stream``: each session, once all its triggers are scored, is learnt by every anchor
    (popularity, co-occurrence, the basket index), as xsell learns the carts it is fed; so a
    suggestion never uses its own order or a later one. Off: the training split only
    (``xsell eval --train-only``)."""
    base = Baselines(build(data.train, max_items), k)
    knn = SessionKnn(base, index_baskets(data.train, base.co.index))
    for order, items in data.sessions:
        vsknn, stan = knn.sessions(items, order.ts)
        yield (
            items,
            {
                "popular": [base.popular(items[: n + 1]) for n in range(len(items) - 1)],
                "jaccard": base.jaccard_session(items),
                "rconf": base.rconf_session(items),
                "vsknn": vsknn,
                "stan": stan,
            },
        )
        if stream:
            base.add(items, max_items)
            knn.add(items, order.ts)


def run_baselines(
    data: EvalData, k: int, max_items: int, *, stream: bool = True
) -> dict[str, Metrics]:
    """Every anchor's metrics on the split (see baselines.py and session_knn.py)."""
    metrics = {name: Metrics(k) for name in ANCHORS}
    for items, lists in anchor_suggestions(data, k, max_items, stream=stream):
        for n in range(len(items) - 1):
            rest = set(items[n + 1 :])
            for name, suggested in lists.items():
                metrics[name].add(suggested[n], rest)
    return metrics


def scorer(metrics: Metrics) -> Callable[[dict[str, Any], set[str]], None]:
    """:func:`replay`'s ``score`` that adds each suggestion's items to ``metrics``."""

    def score(message: dict[str, Any], rest: set[str]) -> None:
        metrics.add([i["item_id"] for i in message["items"]], rest)

    return score


SHOPPERS = 500  # test sessions replayed side by side, as concurrent shoppers


@contextmanager
def eval_redis(settings: Settings) -> Iterator[Settings]:
    """``settings`` pointed at a private, throw-away redis-server for one evaluation, unless
    XSELL_REDIS_URL names one (then as they are): every ``xsell eval`` protocol runs here."""
    if "XSELL_REDIS_URL" in os.environ:
        yield settings
        return
    with LocalRedis() as server:
        yield settings.model_copy(update={"redis_url": server.url})


@dataclass
class XsellRun:
    """xsell's side of a run: its metrics and, with self-tuning, what the tuner ended with."""

    metrics: Metrics
    tuning: dict[str, Any] | None = None


async def replay(
    engine: Engine,
    sessions: Sequence[tuple[PurchaseEvent, list[str]]],
    shoppers: int,
    score: Callable[[dict[str, Any], set[str]], None],
    bar: Any,
) -> None:
    """Replay ``sessions`` (in time order) as a stream of shoppers, ``shoppers`` of them in
    their carts at once: each micro-batch through ``Engine.process`` holds the next add of
    every open cart, and a finished cart's place goes to the next session. So batches stay
    full, and what the worker (its self-tuning included) learns from earlier carts serves the
    later ones, as in a live shop. ``score`` gets each suggestion message and the items its
    order goes on to contain. A cart whose last add is done is checked out: its purchase is
    applied (learnt; its post-purchase suggestion is not asked for) before the next batch."""
    queue = iter(sessions)
    open_carts: list[tuple[PurchaseEvent, list[str], list[CartEvent]]] = []
    step: list[int] = []
    while True:
        for order, items in itertools.islice(queue, shoppers - len(open_carts)):
            open_carts.append((order, items, session_events(order, items)))
            step.append(0)
        if not open_carts:
            return
        batch = [events[n] for (_, _, events), n in zip(open_carts, step, strict=True)]
        messages = await engine.process(batch)
        still, still_step, checkouts = [], [], []
        for cart, n, message in zip(open_carts, step, messages, strict=True):
            order, items, events = cart
            if n < len(items) - 1:
                score(message, set(items[n + 1 :]))
                bar.update()
            if n + 1 < len(events):
                still.append(cart)
                still_step.append(n + 1)
            else:
                checkouts.append(session_checkout(order, items))
        if checkouts:
            await engine.store.apply(checkouts)
        open_carts, step = still, still_step


async def run_xsell(
    settings: Settings,
    data: EvalData,
    *,
    progress: bool = True,
    catalog: Sequence[CatalogItem] = (),
    shoppers: int = SHOPPERS,
) -> XsellRun:
    """Train as ``xsell backfill`` does (bulk into the fresh namespace: the state streaming
    leaves, tests/integration/test_bulk.py), then replay the test sessions through
    ``Engine.process``, the worker's own apply-and-rank path (self-tuning included).

    Test sessions are replayed as a stream of ``shoppers`` concurrent shoppers
    (:func:`replay`): one round of reads and scripts per micro-batch, not per event."""
    settings = settings.model_copy(update={"key_namespace": f"eval-{uuid.uuid4().hex[:8]}"})
    store = await Store.open(settings)
    metrics = Metrics(settings.ranking.max_suggestions)
    try:
        await load_history(store, data.train, mode="auto", catalog=catalog)
        engine = Engine(store, settings)
        with progress_bar("eval", data.triggers, "triggers", enabled=progress) as bar:
            await replay(engine, data.sessions, shoppers, scorer(metrics), bar)
        tuning = await tuning_status(store, settings) if settings.tuning.enabled else None
        if tuning is not None and engine.rebuy_tuner is not None:
            tuning["rebuy_places"] = await rebuy_tuning_status(store, settings)
    finally:
        await store.flush_namespace()
        await store.close()
    return XsellRun(metrics, tuning)


def report(
    dataset: str,
    data: EvalData,
    k: int,
    results: dict[str, Metrics],
    seconds: float,
    tuning: dict[str, Any] | None = None,
    anchors: str = "streamed",
) -> dict[str, Any]:
    """The JSON object of ``xsell eval --json``: ``results.<name>`` for xsell and each anchor,
    how the anchors learnt (``anchors``: ``streamed`` or ``train-only``) and what self-tuning
    ended with (``tuning``, null when it is off)."""
    size = len(data.catalogue)
    return {
        "dataset": dataset,
        "k": k,
        "train_orders": len(data.train),
        "test_orders": len(data.test),
        "triggers": data.triggers,
        "anchors": anchors,
        "results": {name: m.result(size) for name, m in results.items()},
        "tuning": tuning,
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
        f"anchors: {ANCHOR_MODES.get(rep.get('anchors', ''), rep.get('anchors'))}",
        f"{'method':<10}" + "".join(f"{h:>12}" for h in heads),
    ]
    for name, values in res.items():
        lines.append(f"{name:<10}" + "".join(f"{values[m]:>12.4f}" for m in metrics))
    best_name, best = max(
        ((n, v["hr"]) for n, v in res.items() if n != "xsell"), key=lambda nv: nv[1]
    )
    if "xsell" in res and best > 0:
        lines.append(
            f"xsell / best anchor ({best_name}) HR@{rep['k']}: {res['xsell']['hr'] / best:.3f}"
        )
    tuning = rep.get("tuning")
    if tuning:
        rates = ", ".join(f"{w}: {r}" for w, r in tuning["hit_rates"].items())
        lines.append(
            f"self-tuning: recency weight {tuning['recency_decay']}, category back-off "
            f"{tuning.get('category_backoff')} (hit rates of its test cases {rates}; "
            f"{tuning['cases']} decayed cases)"
        )
    if tuning and tuning.get("rebuy_places"):
        lines.append(rebuy_places_line(tuning["rebuy_places"]))
    return "\n".join(lines)


def rebuy_places_line(status: dict[str, Any]) -> str:
    """The report's line of the number of buy-again places' self-tuning
    (xsell/engine/rebuy_tuning.py)."""
    rates = ", ".join(f"{n}: {r}" for n, r in status["hit_rates"].items())
    lead = status["lead"]
    return (
        f"self-tuning: buy-again places {status['max_rebuys']} (hit rates of its test cases "
        f"{rates}; {status['cases']} decayed cases; best {lead['max_rebuys']}: "
        f"{lead['wins']} wins / {lead['losses']} losses, z {lead['z']})"
    )


def evaluate(
    settings: Settings,
    orders: Sequence[PurchaseEvent],
    dataset: str,
    *,
    progress: bool = True,
    through_kafka: bool = False,
    catalog: Sequence[CatalogItem] = (),
    shoppers: int | None = None,
    train_only: bool = False,
) -> dict[str, Any]:
    """Run xsell and the baselines on one split; the report of ``xsell eval``.

    The anchors learn each test order once it is scored, as xsell does (``train_only``: from
    the training split only, the figures before streamed anchors).

    Redis (and for ``through_kafka`` the broker) are private, throw-away servers unless
    XSELL_REDIS_URL / XSELL_KAFKA_BROKERS are set in the environment.
    """
    started = time.monotonic()
    data = EvalData.of(orders)
    own_redis = "XSELL_REDIS_URL" not in os.environ
    own_broker = "XSELL_KAFKA_BROKERS" not in os.environ
    k, max_items = settings.ranking.max_suggestions, settings.learning.max_items_per_order
    options: dict[str, Any] = {
        "progress": progress,
        "catalog": catalog,
        "shoppers": shoppers or SHOPPERS,
    }
    # the anchors are pure numpy: they run in a second process beside xsell's replay
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        anchors = pool.submit(run_baselines, data, k, max_items, stream=not train_only)
        if through_kafka:
            xsell = XsellRun(
                run_through_kafka(
                    settings, data, private_broker=own_broker, private_redis=own_redis
                )
            )
        else:
            with eval_redis(settings) as local:
                xsell = asyncio.run(run_xsell(local, data, **options))
        results = {"xsell": xsell.metrics, **anchors.result()}
    mode = "train-only" if train_only else "streamed"
    return report(dataset, data, k, results, time.monotonic() - started, xsell.tuning, mode)
