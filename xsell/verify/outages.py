"""``xsell outage SCENARIO``: take Redis or the broker away from a streaming worker, bring it
back, and check that the worker neither crashed nor dropped anything, said what it was waiting
for, and caught up.

Scenarios (each on a private Tansu broker and redis-server, one worker, decay off):

- ``redis-pause``: SIGSTOP redis-server for ``seconds`` (a hung Redis), then SIGCONT;
- ``redis-restart``: stop redis-server (append-only file, fsync always) for ``seconds`` and
  start it again on the same port;
- ``redis-lost``: stop a redis-server *without* persistence for ``seconds``; it comes back
  empty: the worker must log ``Redis state lost``, ``xsell status`` must say ``lost``, and
  ``xsell rebuild`` (replay of the Kafka topics) must restore the exact state;
- ``broker-pause``: SIGSTOP the broker for ``seconds``, then SIGCONT (log and offsets kept);
- ``broker-restart``: stop the broker for ``seconds`` and start it again. Tansu keeps
  everything in memory, so this is a full reset (topics, records, committed offsets): the
  topics are recreated, the orders not yet consumed before the stop are gone with the broker,
  and the check is that the worker survives, says so, rejoins and processes new orders.

Orders are sent at a steady pace so that the outage falls mid-stream. Every scenario but
``broker-restart`` ends with the Redis state equal, entry by entry, to the batch truth of all
the orders; ``broker-restart`` with the state equal to the truth of the orders applied (those
whose done marker exists) plus all the orders sent after the restart.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from xsell.config.settings import Settings, load_settings
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker
from xsell.kafka_clients import create_topics, producer, send_json
from xsell.models.errors import XsellError
from xsell.models.events import PurchaseEvent
from xsell.ops.orders_csv import order_to_json
from xsell.ops.state import rebuild, state_status
from xsell.store import Store, Stream
from xsell.verify.chaos import CHAOS_ENV, Suggestions, count_records, send_orders
from xsell.verify.state_oracle import BatchTruth

SCENARIOS = ("redis-pause", "redis-restart", "redis-lost", "broker-pause", "broker-restart")
WAITING = {"redis": "waiting for Redis", "broker": "waiting for Kafka"}
READY_AGAIN = "Worker ready"


def _settings(env: dict[str, str]) -> Settings:
    return load_settings(
        **{k[len("XSELL_") :].lower(): v for k, v in env.items() if k.startswith("XSELL_")}
    )


class _Paced(threading.Thread):
    """Sends ``orders`` evenly over ``seconds`` in the background; ``ended``: when it ended."""

    def __init__(self, settings: Settings, orders: list[PurchaseEvent], seconds: float) -> None:
        super().__init__(daemon=True)
        self.settings, self.orders, self.seconds = settings, orders, seconds
        self.ended = 0.0
        self.start()

    def run(self) -> None:
        prod = producer(self.settings)
        try:
            step = max(1, len(self.orders) // 50)
            for i in range(0, len(self.orders), step):
                for order in self.orders[i : i + step]:
                    send_json(
                        prod, self.settings.topic("orders"), order.user_id, order_to_json(order)
                    )
                prod.flush()
                time.sleep(self.seconds / 50)
        finally:
            prod.close()
        self.ended = time.monotonic()


def _wait_for(seen: Suggestions, want: set[str], timeout: float, what: str) -> float:
    """Poll suggestions until every event id of ``want`` has one; returns when (monotonic)."""
    deadline = time.monotonic() + timeout
    while not want <= seen.ids.keys():
        if time.monotonic() > deadline:
            raise XsellError(
                f"{what}: {len(want - seen.ids.keys())} of {len(want)} orders "
                f"still without a suggestion after {timeout:.0f}s"
            )
        seen.poll()
    return time.monotonic()


def run_outage(
    kind: str,
    orders: list[PurchaseEvent],
    *,
    seconds: float = 10.0,
    say: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """One scenario (module doc); returns its figures (``ok`` says if it passed)."""
    if kind not in SCENARIOS:
        raise XsellError(f"unknown scenario {kind!r}; one of {', '.join(SCENARIOS)}")
    persist = tempfile.mkdtemp(prefix="xsell-aof-") if kind == "redis-restart" else None
    redis, broker = LocalRedis(persist_dir=persist), LocalBroker()
    worker: LocalWorker | None = None
    try:
        redis.start()
        broker.start()
        env = {
            **CHAOS_ENV,
            "XSELL_KAFKA_BROKERS": broker.bootstrap,
            "XSELL_REDIS_URL": redis.url,
            "XSELL_TOPIC_PREFIX": "outage.",
            "XSELL_APP_ID": "xsell-outage",
            "XSELL_KEY_NAMESPACE": "outage",
        }
        settings = _settings(env)
        create_topics(settings)
        worker = LocalWorker(env)
        worker.start()
        result = _scenario(kind, orders, seconds, settings, redis, broker, worker, say)
        pid = worker.pid
        result["worker_survived"] = worker.alive()
        worker.stop()
        result.update(worker_pid=pid, worker_log=str(worker.logfile))
        text = worker.log_text()
        result["waiting_logged"] = WAITING[kind.split("-")[0]] in text
        result["state_lost_logged"] = "Redis state lost" in text
        result["worker_tracebacks"] = text.count("Traceback")
        result["dead_letters"] = count_records(settings, "dead-letter")
    finally:
        for child in (worker, broker, redis):
            if child is not None:
                child.stop()
    result["ok"] = bool(
        result["worker_survived"]
        and result["waiting_logged"]
        and result["state_diff"] == 0
        and result["missing_suggestions"] == 0
        and result["suggestion_id_mismatches"] == 0
        and result["unexpected_triggers"] == 0
        and result["dead_letters"] == 0
        and result["worker_tracebacks"] == 0
        and (
            kind != "redis-lost"
            or (
                result["state_lost_logged"]
                and result["status_after_loss"] == "lost"
                and result["status_after_rebuild"] == "present"
            )
        )
    )
    return result


def _scenario(
    kind: str,
    orders: list[PurchaseEvent],
    seconds: float,
    settings: Settings,
    redis: LocalRedis,
    broker: LocalBroker,
    worker: LocalWorker,
    say: Callable[[str], None],
) -> dict[str, Any]:
    seen = Suggestions(settings)
    expected = checked = orders  # the truth's orders; the orders whose suggestions are checked
    result: dict[str, Any] = {"scenario": kind, "orders": len(orders), "outage_seconds": seconds}
    if kind == "broker-restart":
        first, second = orders[: len(orders) // 2], orders[len(orders) // 2 :]
        send_orders(settings, first)  # a backlog, so that the reset falls mid-stream
        _wait_for(seen, {o.event_id for o in first[: len(first) // 4]}, 120, "before")
        ready = worker.log_text().count(READY_AGAIN)
        result["suggested_before_the_stop"] = len(seen.ids)
        say(
            f"{kind}: {len(seen.ids)} of {len(first)} orders done; stopping the broker for "
            f"{seconds:.0f}s"
        )
        seen.consumer.close()
        broker.restart(down_seconds=seconds)
        create_topics(settings)  # a full reset: the topics are gone
        back = time.monotonic()
        deadline = back + 120
        while worker.log_text().count(READY_AGAIN) <= ready:  # rejoined the group
            if time.monotonic() > deadline or not worker.alive():
                raise XsellError(f"{kind}: the worker did not rejoin; see {worker.logfile}")
            time.sleep(0.2)
        result["rejoin_seconds"] = round(time.monotonic() - back, 1)
        seen = Suggestions(settings)
        send_orders(settings, second)
        done = _wait_for(seen, {o.event_id for o in second}, 300, "after")
        applied = asyncio.run(_applied(settings, first))
        result["orders_lost_with_the_broker"] = len(first) - len(applied)
        expected, checked = applied + second, second
    else:
        sender = _Paced(settings, orders, seconds + 3.0)
        _wait_for(seen, {o.event_id for o in orders[: len(orders) // 6]}, 120, "before")
        say(f"{kind}: {len(seen.ids)} of {len(orders)} orders done; outage for {seconds:.0f}s")
        if kind == "redis-pause":
            redis.pause()
            time.sleep(seconds)
            redis.resume()
        elif kind == "broker-pause":
            broker.pause()
            time.sleep(seconds)
            broker.resume()
        else:  # redis-restart (AOF) or redis-lost (no persistence)
            redis.restart(down_seconds=seconds)
        back = time.monotonic()
        sender.join()
        done = _wait_for(seen, {o.event_id for o in orders}, 300, "after")
        back = max(back, sender.ended)  # caught up: from the later of outage end, last send
        if kind == "redis-lost":
            result.update(asyncio.run(_rebuild(settings, say)))
    result["catch_up_seconds"] = round(done - back, 1)
    seen.drain(1.0)
    seen.consumer.close()
    result.update(seen.figures(checked, orders))
    diff = asyncio.run(_diff(settings, expected))
    result.update(state_diff=diff.total, state=diff.as_dict(), orders_in_truth=len(expected))
    say(
        f"{kind}: caught up {result['catch_up_seconds']}s after the outage; state diff {diff.total}"
    )
    return result


async def _applied(settings: Settings, orders: list[PurchaseEvent]) -> list[PurchaseEvent]:
    store = await Store.open(settings)
    try:
        flags = await store.ops.applied(Stream.ORDERS, [o.event_id for o in orders])
        return [o for o, flag in zip(orders, flags, strict=True) if flag]
    finally:
        await store.close()


async def _rebuild(settings: Settings, say: Callable[[str], None]) -> dict[str, Any]:
    store = await Store.open(settings)
    try:
        before = await state_status(store)
        say(f"redis-lost: xsell status says {before['state']!r}; rebuilding from Kafka")
        summary = await rebuild(store, idle=1.0)
        after = await state_status(store)
        return {
            "status_after_loss": before["state"],
            "status_after_rebuild": after["state"],
            "rebuild": summary.as_dict(),
            "status_before_rebuild": before,
        }
    finally:
        await store.close()


async def _diff(settings: Settings, orders: list[PurchaseEvent]) -> Any:
    store = await Store.open(settings)
    try:
        truth = BatchTruth.learnt_with(orders, settings.learning)
        return await truth.compare(store)
    finally:
        await store.close()
