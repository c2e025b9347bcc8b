"""Scale-out: 1, 2 and 3 `xsell worker` processes in one consumer group, and 2 workers on a
Redis Cluster, give the same results.

"The same", with events processed concurrently: (1) the final Redis state, exactly (decay off:
every weight is a sum of 1.0s and 0.25s, order-free; no item reaches the pruning threshold;
the catalogue is applied before the first order, as category counts depend on it);
(2) the set of suggestion ids, exactly; (3) the offers of every trigger whose state dependencies
are identical in every run: add-to-carts of new shoppers sent once the history is in (they read
only the history), and purchases sent one at a time (each reads the history plus the purchases
before it). Offers of the history's own triggers depend on which other events a worker had
applied at that moment, so they may differ (as between two runs of one worker).
Sizes: XSELL_SCALEOUT_ORDERS / XSELL_SCALEOUT_SESSIONS (docs/scaling.md used 20000 / 6000).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer

from tests.conftest import env_settings, stack_env
from tests.helpers import (
    catalogue_size,
    pair_guard_markers,
    run,
    wait_until,
    without_pair_guards,
    without_spend_moves,
)
from tests.integration.workload import Workload, make_workload
from xsell.bench.memory import footprint
from xsell.config.settings import Settings
from xsell.devenv.redis_cluster import LocalRedisCluster
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker
from xsell.engine import suggestion_id
from xsell.kafka_clients import consumer, create_topics, producer
from xsell.store import Store
from xsell.verify.hostile_check import dump

pytestmark = pytest.mark.integration
PARTITIONS = 6  # 1, 2 and 3 workers get equal shares
ORDERS = int(os.environ.get("XSELL_SCALEOUT_ORDERS", "800"))
SESSIONS = int(os.environ.get("XSELL_SCALEOUT_SESSIONS", "250"))
INPUTS = ("cart-events", "orders", "catalog")
BUYS = 5


class Suggestions:
    """Everything on the suggestions topic, read as it arrives."""

    def __init__(self, settings: Settings) -> None:
        self.consumer: KafkaConsumer = consumer(
            settings,
            "suggestions",
            group_id=None,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=50,
        )
        self.by_id: dict[str, dict[str, Any]] = {}

    def wait_for(self, ids: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= self.by_id.keys() and time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=100, max_records=5000).values():
                for r in records:
                    if r.value is not None:
                        message = json.loads(r.value)
                        self.by_id.setdefault(message["suggestion_id"], message)
        missing = ids - self.by_id.keys()
        assert not missing, f"{len(missing)} of {len(ids)} suggestions missing after {timeout}s"


def assignment(worker: LocalWorker) -> dict[str, set[int]]:
    """The worker's partitions after its latest rebalance (Faust's assignment table)."""
    text = worker.log_text()
    at = text.rfind("Setting newly assigned partitions")
    table = text[at : text.find("for group", at)] if at >= 0 else ""
    out: dict[str, set[int]] = {}
    for topic, spec in re.findall(r"\|\s*(\S+)\s*\|\s*\{([\d,\- ]*)\}\s*\|", table):
        for part in filter(None, (p.strip() for p in spec.split(","))):
            lo, _, hi = part.partition("-")
            out.setdefault(topic, set()).update(range(int(lo), int(hi or lo) + 1))
    return out


class Group:
    """``n`` workers in one consumer group on their own topics and key namespace."""

    def __init__(self, broker: LocalBroker, redis: LocalRedis, n: int, **extra: str) -> None:
        self.env = stack_env(broker, redis, XSELL_TOPIC_PARTITIONS=str(PARTITIONS), **extra)
        self.settings = env_settings(self.env)
        create_topics(self.settings)
        self.suggestions = Suggestions(self.settings)
        self.producer = producer(self.settings, linger_ms=5)
        started = time.monotonic()
        self.workers = [LocalWorker(self.env) for _ in range(n)]
        for worker in self.workers:
            worker.launch()
        for worker in self.workers:
            worker.wait_ready(90)
        self.wait_split(60)
        self.startup = time.monotonic() - started

    def wait_split(self, timeout: float) -> None:
        """Until the workers' latest assignments split every input partition among them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shares = [assignment(w) for w in self.workers]
            for topic in (self.settings.topic(t) for t in INPUTS):
                owned = [share.get(topic, set()) for share in shares]
                if (
                    sum(map(len, owned)) != PARTITIONS
                    or set().union(*owned) != set(range(PARTITIONS))
                    or not all(owned)
                ):
                    break
            else:
                return
            time.sleep(0.2)
        raise AssertionError(f"partitions not split: {[assignment(w) for w in self.workers]}")

    def send(self, records: list[tuple[str, str | None, bytes]]) -> None:
        for topic, key, value in records:
            self.producer.send(
                self.settings.topic(topic), key=None if key is None else key.encode(), value=value
            )
        self.producer.flush()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            assert "Traceback" not in worker.log_text(), worker.log_text()[-3000:]
        self.suggestions.consumer.close()
        self.producer.close()


def probes(work: Workload) -> tuple[list[tuple[str, str | None, bytes]], list[bytes]]:
    """Phase 2: one add-to-cart each of 40 new shoppers; phase 3: BUYS purchases."""
    items = [i.item_id for i in work.catalog]
    adds = [
        (
            "cart-events",
            f"p{k}",
            json.dumps(
                {
                    "event_id": f"probe-a{k}",
                    "type": "add_to_cart",
                    "user_id": f"p{k}",
                    "item_id": items[(k * 7) % len(items)],
                    "ts": 1.8e9,
                }
            ).encode(),
        )
        for k in range(40)
    ]
    buys = [
        json.dumps(
            {
                "event_id": f"probe-o{k}",
                "type": "purchase",
                "order_id": f"po{k}",
                "user_id": f"q{k % 3}",
                "ts": 1.8e9 + k,
                "items": [
                    {"item_id": items[(k * 11) % len(items)]},
                    {"item_id": items[(k * 11 + 5) % len(items)]},
                ],
            }
        ).encode()
        for k in range(BUYS)
    ]
    return adds, buys


def offers(message: dict[str, Any]) -> list[Any]:
    return message["items"]


def run_group(group: Group, work: Workload) -> dict[str, Any]:
    """Feed the workload and the probes; what the comparison needs, and timings."""
    history_ids = {suggestion_id("o", o.event_id) for o in work.orders} | {
        suggestion_id("c", e.event_id) for e in work.carts if e.type == "add_to_cart"
    }
    started = time.monotonic()
    records = work.records()
    # the catalogue first, applied before any order: an order's category counts depend on the
    # categories its items had when it was applied (catalogue and orders are two topics)
    group.send([r for r in records if r[0] == "catalog"])
    wait_until(lambda: catalogue_size(group.settings) == len(work.catalog), 60, "catalogue")
    group.send([r for r in records if r[0] != "catalog"])
    group.suggestions.wait_for(history_ids, timeout=600)
    seconds = time.monotonic() - started
    adds, buys = probes(work)
    group.send(adds)
    add_ids = {suggestion_id("c", f"probe-a{k}") for k in range(len(adds))}
    group.suggestions.wait_for(add_ids, timeout=60)
    probed = time.monotonic()
    buy_ids = []
    for k, value in enumerate(buys):  # one at a time: each sees exactly the ones before
        group.send([("orders", f"q{k % 3}", value)])
        buy_ids.append(suggestion_id("o", f"probe-o{k}"))
        group.suggestions.wait_for({buy_ids[-1]}, timeout=60)

    async def state() -> tuple[dict[str, Any], dict[str, Any]]:
        store = await Store.open(group.settings)
        try:
            return await dump(store), await footprint(store)
        finally:
            await store.flush_namespace()
            await store.close()

    final, figures = run(state())
    by_id = group.suggestions.by_id
    return {
        "state": final,
        "footprint": figures,
        "ids": set(by_id),
        "probe_offers": {i: offers(by_id[i]) for i in add_ids | set(buy_ids)},
        "seconds": seconds,
        "events": len(work.orders) + len(work.carts),
        "startup": group.startup,
        "probes": time.monotonic() - probed,
    }


@pytest.fixture(scope="module")
def work() -> Workload:
    return make_workload(ORDERS, SESSIONS)


@pytest.fixture(scope="module")
def one_worker(broker: LocalBroker, redis_server: LocalRedis, work: Workload) -> dict[str, Any]:
    group = Group(broker, redis_server, 1)
    try:
        return run_group(group, work)
    finally:
        group.stop()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRedisCluster]:
    with LocalRedisCluster() as started:
        yield started


def report(name: str, result: dict[str, Any]) -> None:
    rate = result["events"] / result["seconds"]
    print(
        f"\n{name}: {result['events']} events in {result['seconds']:.1f}s = {rate:.0f}/s; "
        f"{result['footprint']['keys']} keys, {result['footprint']['bytes']} bytes "
        f"(start-up {result['startup']:.1f}s, serial purchases {result['probes']:.1f}s)"
    )


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_split_the_partitions_and_give_the_same_results(
    broker: LocalBroker,
    redis_server: LocalRedis,
    work: Workload,
    one_worker: dict[str, Any],
    workers: int,
) -> None:
    group = Group(broker, redis_server, workers)
    try:
        result = run_group(group, work)
    finally:
        group.stop()
    report("1 worker", one_worker)
    report(f"{workers} workers", result)
    assert len(one_worker["state"]) > 500
    assert result["state"] == one_worker["state"]
    assert result["ids"] == one_worker["ids"]
    assert len(one_worker["ids"]) == work.triggers + 40 + BUYS
    assert result["probe_offers"] == one_worker["probe_offers"]
    assert any(one_worker["probe_offers"].values())


def test_two_workers_on_a_redis_cluster_give_the_single_redis_results(
    broker: LocalBroker,
    redis_server: LocalRedis,
    cluster: LocalRedisCluster,
    work: Workload,
    one_worker: dict[str, Any],
) -> None:
    group = Group(broker, redis_server, 2, XSELL_REDIS_URL=cluster.url, XSELL_REDIS_CLUSTER="true")
    try:
        result = run_group(group, work)
    finally:
        group.stop()
    report("2 workers, Redis Cluster", result)
    clustered = without_spend_moves(result["state"])  # a single Redis has no move guards
    assert without_pair_guards(clustered) == without_pair_guards(one_worker["state"])
    assert pair_guard_markers(result["state"]) == pair_guard_markers(one_worker["state"])
    assert result["ids"] == one_worker["ids"]
    assert result["probe_offers"] == one_worker["probe_offers"]
    for worker in group.workers:
        assert "CROSSSLOT" not in worker.log_text()
