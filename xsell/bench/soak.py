"""``xsell soak``: run a worker at the highest rate the machine sustains for a while and watch
what Redis holds, to show that idempotency's memory is flat (docs/scaling.md).

A private Tansu broker and redis-server, one ``xsell worker`` with a short dedup horizon,
window and attribution window (so that the plateau shows within the run), and add-to-cart
sessions with purchases drawn from real orders, each event with a fresh id and the current
time. Closed loop: at most ``inflight`` events are sent and not yet committed by the worker
(its positions in Redis), so the worker, not the broker's backlog, sets the rate. Every
``every`` seconds it samples Redis (INFO used_memory) and the idempotency bookkeeping (done
keys, guard markers, positions: the store's ops room); the samples, a table and an SVG plot
(:mod:`xsell.bench.soak_plot`) are the result.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xsell.bench.loadgen import producer
from xsell.bench.workload import make_events
from xsell.config.settings import Settings
from xsell.devenv.shared_data import ONLINE_RETAIL_FILE
from xsell.devenv.stack import LocalStack
from xsell.models.errors import XsellError
from xsell.models.events import PurchaseEvent
from xsell.ops.orders_csv import ONLINE_RETAIL_MAP, ONLINE_RETAIL_SKIP, load_orders
from xsell.store import Store

log = logging.getLogger(__name__)

CHUNK = 500  # events generated (and sent) at a time


@dataclass
class SoakConfig:
    minutes: float = 30.0
    every: float = 60.0  # seconds between samples
    horizon: int = 180  # XSELL_DEDUP_HORIZON_SECONDS of the worker
    window: int = 60  # XSELL_DEDUP_WINDOW_SECONDS of the worker
    attribution_window: int = 120  # XSELL_ATTRIBUTION_WINDOW_SECONDS of the worker
    mix: str = "cart"
    inflight: int = 2000
    orders: int = 300  # orders of the file the sessions are drawn from (few: the model saturates)
    file: Path = ONLINE_RETAIL_FILE
    map: str = ONLINE_RETAIL_MAP
    skip_items: str = ONLINE_RETAIL_SKIP
    say: Callable[[str], None] = field(default=lambda text: None)


@dataclass
class Sample:
    minute: float
    sent: int
    applied: int  # records the worker committed (its positions in Redis)
    rate: float  # events/s since the previous sample
    used_memory: int
    done_keys: int
    done_bytes: int
    guard_markers: int
    guard_bytes: int
    positions: int
    keys: int

    @property
    def idempotency_bytes(self) -> int:
        return self.done_bytes + self.guard_bytes


def soak_env(cfg: SoakConfig) -> dict[str, str]:
    return {
        "XSELL_DEDUP_HORIZON_SECONDS": str(cfg.horizon),
        "XSELL_DEDUP_WINDOW_SECONDS": str(cfg.window),
        # the per-user attribution ledgers hold this much: short, so they level off too
        "XSELL_ATTRIBUTION_WINDOW_SECONDS": str(cfg.attribution_window),
        "XSELL_TOPIC_PREFIX": "soak.",
        "XSELL_APP_ID": "xsell-soak",
        "XSELL_KEY_NAMESPACE": "soak",
        "XSELL_LOG_LEVEL": "INFO",  # the worker says "Ready" at INFO
    }


def run_soak(cfg: SoakConfig, orders: Sequence[PurchaseEvent] | None = None) -> dict[str, Any]:
    """The whole run (module doc); returns its configuration, samples and summary."""
    if orders is None:
        if not Path(cfg.file).is_file():
            raise XsellError(f"orders file {cfg.file} not found (--file)")
        orders, _ = load_orders(cfg.file, cfg.map, cfg.skip_items, limit=cfg.orders)
    stack = LocalStack(soak_env(cfg), workers=0, private_broker=True, private_redis=True)
    stack.start()
    try:
        worker = stack.add_worker()
        settings = stack.settings()
        cfg.say(f"worker pid {worker.pid}, Redis {settings.redis.url}; {cfg.minutes:g} min")
        samples = asyncio.run(_soak(cfg, settings, orders))
        alive = worker.proc is not None and worker.proc.poll() is None
        tracebacks = worker.log_text().count("Traceback")
    finally:
        stack.stop()
    return {
        "config": {k: str(v) for k, v in asdict(cfg).items() if k != "say"},
        "samples": [{**asdict(s), "idempotency_bytes": s.idempotency_bytes} for s in samples],
        "summary": summarise(samples, cfg),
        "worker_alive": alive,
        "worker_tracebacks": tracebacks,
    }


async def _soak(
    cfg: SoakConfig, settings: Settings, orders: Sequence[PurchaseEvent]
) -> list[Sample]:
    store = await Store.open(settings)
    prod = producer(settings)
    await prod.start()
    counts = {"sent": 0, "received": 0}
    stop = asyncio.Event()
    tasks = [
        asyncio.ensure_future(_send(prod, settings, orders, cfg, counts, stop)),
        asyncio.ensure_future(_applied(store, counts, stop)),
    ]
    samples: list[Sample] = []
    try:
        started = time.monotonic()
        end = started + cfg.minutes * 60
        samples.append(await _sample(store, counts, 0.0, None))
        while time.monotonic() < end:
            await asyncio.sleep(min(cfg.every, max(end - time.monotonic(), 0.0)))
            minute = (time.monotonic() - started) / 60
            samples.append(await _sample(store, counts, minute, samples[-1]))
            cfg.say(row_text(samples[-1]))
            for task in tasks:
                if task.done():
                    task.result()  # raises what stopped it
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await prod.stop()
        await store.close()
    return samples


async def _send(
    prod: Any,
    settings: Settings,
    orders: Sequence[PurchaseEvent],
    cfg: SoakConfig,
    counts: dict[str, int],
    stop: asyncio.Event,
) -> None:
    for chunk in itertools.count():
        while counts["sent"] - counts["received"] > cfg.inflight - CHUNK:
            if stop.is_set():
                return
            await asyncio.sleep(0.02)
        start = (chunk * 37) % len(orders)  # the same few orders, in turn: the model saturates
        turn = [*orders[start:], *orders[:start]]
        events = make_events(cfg.mix, turn, CHUNK, f"soak{chunk}")
        futures = [
            await prod.send(settings.topic(e.topic), _now(e.value), key=e.key) for e in events
        ]
        await asyncio.gather(*futures)
        counts["sent"] += len(events)


def _now(value: bytes) -> bytes:
    """An event happening now (the orders' own times are years ago): time windows (the
    attribution window, carts) then pass during the run as they would in a shop."""
    event = json.loads(value)
    event["ts"] = time.time()
    return json.dumps(event, separators=(",", ":")).encode()


async def _applied(store: Store, counts: dict[str, int], stop: asyncio.Event) -> None:
    """What the worker has committed, from its positions in Redis (not from reading the
    suggestions back: on a long run the broker's in-memory log made that reader fall behind
    and stall the closed loop)."""
    while not stop.is_set():
        counts["received"] = await store.ops.records_applied()
        await asyncio.sleep(0.2)


async def _sample(
    store: Store, counts: dict[str, int], minute: float, previous: Sample | None
) -> Sample:
    used = await store.ops.used_memory()
    idem = await store.ops.idempotency()
    applied = counts["received"]
    rate = 0.0
    if previous is not None and minute > previous.minute:
        rate = (applied - previous.applied) / ((minute - previous.minute) * 60)
    return Sample(
        minute=round(minute, 2),
        sent=counts["sent"],
        applied=applied,
        rate=round(rate, 1),
        used_memory=used,
        done_keys=idem.done_keys,
        done_bytes=idem.done_bytes,
        guard_markers=idem.guard_markers,
        guard_bytes=idem.guard_bytes,
        positions=idem.positions,
        keys=idem.keys,
    )


def summarise(samples: Sequence[Sample], cfg: SoakConfig) -> dict[str, Any]:
    """The run's rate, the plateau (samples after horizon + window + a minute) and the
    extrapolation of idempotency's memory to 1M events a day (flat after the horizon)."""
    last = samples[-1]
    seconds = max(last.minute * 60, 1e-9)
    settle = (cfg.horizon + cfg.window) / 60 + 1
    plateau = [s for s in samples if s.minute >= settle] or [last]
    per_done = last.done_bytes / last.done_keys if last.done_keys else 0.0
    per_guard = last.guard_bytes / last.guard_markers if last.guard_markers else 0.0
    day = 1_000_000
    default_horizon, default_window = 3 * 86400, 3600
    done_1m = day * default_horizon / 86400 * per_done
    guard_1m = day * default_window / 86400 * per_guard
    return {
        "events": last.applied,
        "events_per_second": round(last.applied / seconds, 1),
        "plateau_from_minute": round(settle, 1),
        "plateau_done_keys": [min(s.done_keys for s in plateau), max(s.done_keys for s in plateau)],
        "plateau_idempotency_mib": [
            round(min(s.idempotency_bytes for s in plateau) / 2**20, 2),
            round(max(s.idempotency_bytes for s in plateau) / 2**20, 2),
        ],
        "plateau_used_memory_mib": [
            round(min(s.used_memory for s in plateau) / 2**20, 1),
            round(max(s.used_memory for s in plateau) / 2**20, 1),
        ],
        "bytes_per_done_key": round(per_done, 1),
        "bytes_per_guard_marker": round(per_guard, 1),
        "at_1m_per_day_default_mib": round((done_1m + guard_1m) / 2**20, 1),
        "at_1m_per_day_after_30_days_before_mib": round(day * 30 * per_done / 2**20, 1),
    }


HEADER = (
    f"{'min':>5} {'events':>9} {'ev/s':>6} {'used MiB':>9} {'done keys':>10} "
    f"{'done MiB':>9} {'guards':>8} {'guard MiB':>9} {'keys':>8}"
)


def row_text(s: Sample) -> str:
    return (
        f"{s.minute:5.1f} {s.applied:9,d} {s.rate:6.0f} {s.used_memory / 2**20:9.1f} "
        f"{s.done_keys:10,d} {s.done_bytes / 2**20:9.2f} {s.guard_markers:8,d} "
        f"{s.guard_bytes / 2**20:9.2f} {s.keys:8,d}"
    )


def table_text(result: dict[str, Any]) -> str:
    rows = [
        Sample(**{k: v for k, v in s.items() if k != "idempotency_bytes"})
        for s in result["samples"]
    ]
    lines = [HEADER, *map(row_text, rows), "", json.dumps(result["summary"], indent=1)]
    return "\n".join(lines)
