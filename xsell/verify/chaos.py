"""``xsell chaos``: crash workers with ``kill -9`` while they stream real orders, then prove
that nothing was lost and nothing was counted twice.

A private Tansu broker and redis-server (decay off, nothing pruned) and 1 or 2 workers in one
consumer group; the orders are sent to Kafka (``xsell replay``) while a worker is killed
(SIGKILL, chosen at random when there are two) at random points of the stream, ``kills``
times, and restarted after a random pause (at least ``restart_after`` seconds: longer than
a short dedup horizon given in ``env``, the batch it died in is redelivered after its done
keys expired) and sometimes killed again while still starting.
When every order has its suggestion, the Redis state is compared entry by entry with the
batch truth computed with numpy from the same orders, and with ``xsell backfill`` of the same
orders into a second namespace. Suggestions delivered more than once (redelivery after a
crash) must carry the same ``suggestion_id``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xsell.config.settings import Settings
from xsell.devenv.servers import LocalWorker
from xsell.devenv.shared_data import ONLINE_RETAIL_FILE
from xsell.devenv.stack import LocalStack
from xsell.engine import suggestion_id
from xsell.kafka_clients import consumer, producer, send_json
from xsell.models.errors import XsellError
from xsell.models.events import PurchaseEvent
from xsell.ops.loading import backfill
from xsell.ops.orders_csv import (
    ONLINE_RETAIL_MAP,
    ONLINE_RETAIL_SKIP,
    load_orders,
    order_to_json,
)
from xsell.store import Store, Stream
from xsell.verify.state_oracle import BatchTruth, compare_stores

log = logging.getLogger(__name__)

CHAOS_ENV = {
    "XSELL_HALF_LIFE_DAYS": "0",
    "XSELL_MAX_NEIGHBORS": "0",
    "XSELL_KAFKA_SESSION_TIMEOUT": "3",
    "XSELL_KAFKA_HEARTBEAT_INTERVAL": "0.5",
    "XSELL_KAFKA_MAX_POLL_INTERVAL": "300",
    "XSELL_KAFKA_COMMIT_INTERVAL": "1",
    "XSELL_BATCH_WINDOW": "0.01",
    "XSELL_TOPIC_PREFIX": "chaos.",
    "XSELL_APP_ID": "xsell-chaos",
    "XSELL_KEY_NAMESPACE": "chaos",
    "XSELL_LOG_LEVEL": "INFO",
}


@dataclass
class ChaosConfig:
    orders: int = 20_000
    kills: int = 10
    workers: int = 1
    seed: int = 1
    file: Path = ONLINE_RETAIL_FILE
    map: str = ONLINE_RETAIL_MAP
    skip_items: str = ONLINE_RETAIL_SKIP
    compare_backfill: bool = True
    timeout: float = 3600.0
    # settings of the workers on top of CHAOS_ENV (e.g. a dedup horizon of seconds)
    env: dict[str, str] = field(default_factory=dict)
    restart_after: float = 0.0  # seconds a killed worker stays down at least (e.g. > horizon)
    say: Callable[[str], None] = field(default=lambda text: None)


def chaos_orders(cfg: ChaosConfig, settings: Settings) -> list[PurchaseEvent]:
    if not Path(cfg.file).is_file():
        raise XsellError(f"orders file {cfg.file} not found (--file)")
    orders, _ = load_orders(cfg.file, cfg.map, cfg.skip_items, settings.limits, limit=cfg.orders)
    if len(orders) < cfg.orders:
        cfg.say(f"the file has only {len(orders)} valid orders; using them all")
    return orders


class Suggestions:
    """Collects the suggestions topic: trigger event id -> suggestion ids delivered."""

    def __init__(self, settings: Settings) -> None:
        self.consumer = consumer(
            settings,
            "suggestions",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self.ids: dict[str, list[str]] = {}
        self.messages = 0

    def poll(self, timeout: float = 0.2) -> None:
        for batch in self.consumer.poll(timeout_ms=int(timeout * 1000)).values():
            for record in batch:
                if record.value is None:
                    continue
                value = json.loads(record.value)
                self.messages += 1
                self.ids.setdefault(value["trigger"]["event_id"], []).append(value["suggestion_id"])

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.poll()

    def figures(
        self, orders: list[PurchaseEvent], allowed: list[PurchaseEvent] | None = None
    ) -> dict[str, int]:
        """Suggestion figures: every order of ``orders`` must have one; triggers outside
        ``allowed`` (default: ``orders``) are unexpected."""
        expected = {o.event_id for o in orders}
        known = expected if allowed is None else {o.event_id for o in allowed}
        redelivered = [ids for ids in self.ids.values() if len(ids) > 1]
        return {
            "suggestions": self.messages,
            "triggers": len(self.ids),
            "missing_suggestions": len(expected - self.ids.keys()),
            "unexpected_triggers": len(self.ids.keys() - known),
            "duplicates_delivered": self.messages - len(self.ids),
            "redelivered_triggers": len(redelivered),
            "suggestion_id_mismatches": sum(
                1
                for event_id, ids in self.ids.items()
                if set(ids) != {suggestion_id(Stream.ORDERS, event_id)}
            ),
        }


def send_orders(settings: Settings, orders: list[PurchaseEvent]) -> None:
    """Like ``xsell replay``: each order to the orders topic, keyed by user id."""
    prod = producer(settings)
    try:
        for order in orders:
            send_json(prod, settings.topic("orders"), order.user_id, order_to_json(order))
        prod.flush()
    finally:
        prod.close()


def count_records(settings: Settings, topic: str, seconds: float = 1.5) -> int:
    cons = consumer(
        settings,
        topic,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=int(seconds * 1000),
    )
    try:
        return sum(1 for _ in cons)
    finally:
        cons.close()


class Killer:
    """Kills a random worker at random progress points and restarts it."""

    def __init__(self, cfg: ChaosConfig, workers: list[LocalWorker]) -> None:
        self.cfg, self.workers = cfg, workers
        self.rng = random.Random(cfg.seed)
        self.points = sorted(self.rng.uniform(0.03, 0.9) for _ in range(cfg.kills))
        self.log: list[dict[str, Any]] = []

    def due(self, progress: float) -> bool:
        return len(self.log) < self.cfg.kills and progress >= self.points[len(self.log)]

    def strike(self, progress: float) -> None:
        """Kill one worker now; restart it (sometimes killing it again while it starts)."""
        time.sleep(self.rng.uniform(0.0, 0.5))
        index = self.rng.randrange(len(self.workers))
        worker = self.workers[index]
        while True:
            pid = worker.pid
            worker.kill()
            self.log.append(
                {
                    "worker": index,
                    "pid": pid,
                    "progress": round(progress, 3),
                    "at": time.strftime("%H:%M:%S"),
                }
            )
            self.cfg.say(
                f"kill -9 worker {index} (pid {pid}) at {progress:.1%} "
                f"[{len(self.log)}/{self.cfg.kills}]"
            )
            time.sleep(self.cfg.restart_after + self.rng.uniform(0.0, 1.5))
            if len(self.log) < self.cfg.kills and self.rng.random() < 0.2:
                worker.launch()  # killed again while it starts up
                time.sleep(self.rng.uniform(0.5, 3.0))
                self.log[-1]["killed_again_while_starting"] = True
                continue
            worker.start(timeout=180.0)
            return


def run_chaos(cfg: ChaosConfig, orders: list[PurchaseEvent] | None = None) -> dict[str, Any]:
    """The whole experiment (module doc); returns its figures (``ok`` says if it passed).
    ``orders``: already parsed orders (default: the first ``cfg.orders`` of ``cfg.file``)."""
    started = time.monotonic()
    env = {**CHAOS_ENV, **cfg.env}
    stack = LocalStack(env, workers=0, private_broker=True, private_redis=True)
    settings = stack.settings()
    orders = chaos_orders(cfg, settings) if orders is None else orders[: cfg.orders]
    cfg.say(f"{len(orders)} orders from {cfg.file}")
    stack.start()
    try:
        settings = stack.settings()
        for _ in range(cfg.workers):
            stack.add_worker()
        result = _experiment(cfg, stack, settings, orders)
    finally:
        stack.stop()
    result["seconds"] = round(time.monotonic() - started, 1)
    result["ok"] = (
        result["state_diff"] == 0
        and result.get("backfill_diff", 0) == 0
        and result["kills"] == cfg.kills
        and result["missing_suggestions"] == 0
        and result["suggestion_id_mismatches"] == 0
        and result["dead_letters"] == 0
        and result["unexpected_triggers"] == 0
    )
    return result


def _experiment(
    cfg: ChaosConfig, stack: LocalStack, settings: Settings, orders: list[PurchaseEvent]
) -> dict[str, Any]:
    killer = Killer(cfg, stack.workers)
    seen = Suggestions(settings)
    sender = threading.Thread(target=send_orders, args=(settings, orders), daemon=True)
    sender.start()
    t0 = time.monotonic()
    deadline = t0 + cfg.timeout
    last_say = t0
    while len(seen.ids) < len(orders) or len(killer.log) < cfg.kills:
        if time.monotonic() > deadline:
            raise XsellError(
                f"chaos: {len(seen.ids)} of {len(orders)} orders have suggestions "
                f"after {cfg.timeout:.0f}s; worker logs: "
                f"{[str(w.logfile) for w in stack.workers]}"
            )
        seen.poll()
        progress = len(seen.ids) / len(orders)
        if killer.due(progress) or (len(seen.ids) >= len(orders) and len(killer.log) < cfg.kills):
            killer.strike(progress)
        if time.monotonic() - last_say > 15:
            last_say = time.monotonic()
            cfg.say(
                f"{len(seen.ids)}/{len(orders)} orders have suggestions, {len(killer.log)} kills"
            )
    stream_seconds = time.monotonic() - t0
    sender.join()
    cfg.say(f"all {len(orders)} orders processed in {stream_seconds:.0f}s; stopping workers")
    for worker in stack.workers:
        worker.stop()
    seen.drain(1.0)
    seen.consumer.close()
    result: dict[str, Any] = {
        "orders": len(orders),
        "workers": cfg.workers,
        "kills": len(killer.log),
        "kills_while_starting": sum(1 for k in killer.log if k.get("killed_again_while_starting")),
        "stream_seconds": round(stream_seconds, 1),
        **seen.figures(orders),
        "dead_letters": count_records(settings, "dead-letter"),
        "worker_tracebacks": sum(w.log_text().count("Traceback") for w in stack.workers),
        "worker_logs": [str(w.logfile) for w in stack.workers],
        "kill_log": killer.log,
        "seed": cfg.seed,
    }
    result.update(asyncio.run(_compare(cfg, settings, orders)))
    return result


async def _compare(
    cfg: ChaosConfig, settings: Settings, orders: list[PurchaseEvent]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    store = await Store.open(settings)
    try:
        cfg.say("computing the batch truth (numpy) and comparing every entry")
        truth = BatchTruth.learnt_with(orders, settings.learning)
        diff = await truth.compare(store)
        out.update(
            state_diff=diff.total,
            state=diff.as_dict(),
            pairs=len(truth.codes),
            pair_increments=truth.pair_increments,
            items=len(truth.vocab),
        )
        if cfg.compare_backfill:
            other = settings.model_copy(
                update={"key_namespace": settings.redis.key_namespace + "-bf"}
            )
            batch = await Store.open(other)
            try:
                cfg.say("xsell backfill of the same orders into a second namespace")
                await backfill(batch, orders)
                bf = await compare_stores(batch, store)
                out.update(backfill_diff=bf.total, backfill=bf.as_dict())
            finally:
                await batch.close()
    finally:
        await store.close()
    return out


def summary_text(result: dict[str, Any]) -> str:
    lines = [
        f"chaos: {result['orders']} orders, {result['workers']} worker(s), "
        f"{result['kills']} kill -9 ({result['kills_while_starting']} while starting), "
        f"{result['stream_seconds']}s streaming, {result['seconds']}s in all",
        f"suggestions: {result['suggestions']} delivered for {result['triggers']} orders; "
        f"duplicates delivered {result['duplicates_delivered']} "
        f"({result['redelivered_triggers']} orders redelivered); suggestion_id mismatches "
        f"{result['suggestion_id_mismatches']}; missing {result['missing_suggestions']}; "
        f"dead letters {result['dead_letters']}",
        f"state vs batch truth: diff {result['state_diff']} over {result['state']['keys']} keys "
        f"/ {result['state']['entries']} entries ({result['pairs']} pairs, "
        f"{result['items']} items)",
    ]
    if "backfill_diff" in result:
        lines.append(
            f"state vs xsell backfill: diff {result['backfill_diff']} over "
            f"{result['backfill']['keys']} keys / {result['backfill']['entries']} "
            "entries"
        )
    for example in result["state"]["examples"] + result.get("backfill", {}).get("examples", []):
        lines.append(f"  e.g. {example}")
    lines.append("PASS" if result["ok"] else "FAIL")
    return "\n".join(lines)
