"""The whole ``xsell bench`` run: servers, backfill (timed, with the memory it costs), every
scenario ``repeat`` times (repetitions interleaved, so a passing load spike hits all agents
alike), an optional profiled extra run, medians and targets."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from xsell.bench import probes
from xsell.bench.memory import kind_of
from xsell.bench.profile import py_spy, top_costs
from xsell.bench.report import summarise, targets
from xsell.bench.scenario import Context, Scenario, run_scenario, settings_for
from xsell.bench.workload import AGENTS, MIXES
from xsell.devenv.servers import LocalBroker, LocalRedis
from xsell.models.events import Limits, PurchaseEvent
from xsell.ops.loading import load_history
from xsell.ops.orders_csv import load_orders
from xsell.store import Store, client_options

log = logging.getLogger(__name__)

# a worker's consumer-group join takes half the session timeout (docs): 3 s -> ~1.5 s per run
WORKER_DEFAULTS = {"XSELL_KAFKA_SESSION_TIMEOUT": "3", "XSELL_KAFKA_HEARTBEAT_INTERVAL": "0.5"}


@dataclass
class BenchOptions:
    orders_file: Path
    map: str
    skip_items: str
    events: int = 10_000
    rate: float = 1000.0
    repeat: int = 3
    history: int = 0  # orders backfilled; 0 = all
    backfill_mode: str = "auto"  # xsell backfill --mode: bulk into the fresh namespace
    max_seconds: float = 30.0
    drain_seconds: float = 5.0
    agents: tuple[str, ...] = AGENTS
    mixes: tuple[str, ...] = MIXES
    profile: Path | None = None
    fetch_wait_ms: int = 10
    workers: int = 1
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _say(opts: BenchOptions, text: str) -> None:
    if opts.progress:
        sys.stderr.write(f"bench: {text}\n")
        sys.stderr.flush()


def _read(opts: BenchOptions, limits: Limits) -> tuple[list[PurchaseEvent], float]:
    started = time.monotonic()
    orders, _ = load_orders(opts.orders_file, opts.map, opts.skip_items, limits)
    return orders, time.monotonic() - started


async def _backfill(env: dict[str, str], orders: list[PurchaseEvent], mode: str) -> dict[str, Any]:
    settings = settings_for(env)
    store = await Store.open(settings)
    try:
        client = redis.Redis.from_url(settings.redis.url, **client_options(settings))
        before = probes.redis_snapshot(client)
        started, cpu0 = time.monotonic(), time.process_time()
        summary = await load_history(store, orders, mode=mode)
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu0
        after = probes.redis_snapshot(client)
        items = await store.ops.item_count()
        entries = {"p": 0, "c": 0}
        window = done = 0  # bytes of the dedup markers ({i:*}:m, {g}:m) and done markers
        async for key in store.ops.footprints():
            kind = kind_of(key.name)
            if kind in ("i:p", "i:c"):
                entries[kind[-1]] += key.entries
            elif kind in ("i:m", "g:m"):
                window += key.bytes
            elif kind == "e":
                done += key.bytes
        client.close()
    finally:
        await store.close()
    used = after.used_memory - before.used_memory
    model = used - window - done
    total_entries = entries["p"] + entries["c"]
    return {
        "orders": summary.orders,
        "lines": summary.lines,
        "mode": summary.mode,
        "apply_seconds": round(seconds, 2),
        "bench_cpu_seconds": round(cpu, 2),
        "redis_cpu_seconds": round(after.cpu - before.cpu, 2),
        "redis_commands": after.commands - before.commands,
        "memory": {
            "used_memory_bytes": used,
            "window_marker_bytes": window,
            "done_marker_bytes": done,
            "model_bytes": model,
            "items": items,
            "copurchase_entries": entries["p"],
            "coadd_entries": entries["c"],
            "bytes_per_item": round(model / items) if items else None,
            "bytes_per_pair_entry": round(model / total_entries) if total_entries else None,
            "used_bytes_per_item": round(used / items) if items else None,
            "used_bytes_per_pair_entry": round(used / total_entries) if total_entries else None,
        },
    }


def run_bench(opts: BenchOptions, env: dict[str, str]) -> dict[str, Any]:
    """Run everything (see module doc); ``env``: the XSELL_* settings in effect."""
    if opts.profile:
        py_spy()  # fail now, not after the runs
    tag = uuid.uuid4().hex[:6]
    broker = LocalBroker() if "XSELL_KAFKA_BROKERS" not in env else None
    server = LocalRedis() if "XSELL_REDIS_URL" not in env else None
    namespace = f"bench-{tag}"
    report: dict[str, Any] = {"machine": probes.machine(), "tag": tag}
    try:
        if broker:
            broker.start()
        if server:
            server.start()
        base = {**WORKER_DEFAULTS, **env, "XSELL_KEY_NAMESPACE": namespace}
        if broker:
            base["XSELL_KAFKA_BROKERS"] = broker.bootstrap
        if server:
            base["XSELL_REDIS_URL"] = server.url
        settings = settings_for(base)
        limits = settings.limits
        report["settings"] = {
            k: settings.masked_flat()[k]
            for k in (
                "batch_size",
                "batch_window",
                "half_life_days",
                "max_neighbors",
                "max_items_per_order",
                "topic_partitions",
                "similarity",
            )
        }
        report["settings"]["worker_fetch_wait_ms"] = (
            opts.fetch_wait_ms or settings.kafka.fetch_max_wait_ms
        )
        report["settings"]["workers"] = opts.workers
        report["servers"] = {
            "broker": "private Tansu" if broker else "configured",
            "redis": "private redis-server" if server else "configured",
        }
        _say(opts, f"reading {opts.orders_file}")
        orders, read_seconds = _read(opts, limits)
        history = orders[: opts.history] if opts.history else orders
        _say(opts, f"backfilling {len(history)} orders (load {probes.load_average()})")
        load0 = probes.load_average()
        bf = asyncio.run(_backfill(base, history, opts.backfill_mode))
        total = read_seconds + bf["apply_seconds"]
        bf.update(
            read_seconds=round(read_seconds, 2),
            seconds=round(total, 2),
            lines_per_second=round(bf["lines"] / total),
            apply_lines_per_second=round(bf["lines"] / bf["apply_seconds"]),
            load_average_1m=[load0, probes.load_average()],
        )
        report["backfill"] = bf
        with tempfile.TemporaryDirectory(prefix="xsell-bench-") as workdir:
            ctx = Context(
                base,
                namespace,
                tag,
                orders,
                opts.events,
                opts.max_seconds,
                opts.drain_seconds,
                Path(workdir),
                private_broker=broker is not None,
                fetch_wait_ms=opts.fetch_wait_ms,
                workers=opts.workers,
            )
            scenarios = [
                Scenario(a, m, r) for a in opts.agents for m in opts.mixes for r in (0.0, opts.rate)
            ]
            runs = []
            for rep in range(opts.repeat):
                for sc in scenarios:
                    _say(
                        opts,
                        f"run {rep + 1}/{opts.repeat}: {sc.name} (load {probes.load_average()})",
                    )
                    runs.append(run_scenario(ctx, sc))
            if opts.profile:
                _say(opts, f"profiling the xsell worker: {opts.profile}")
                run_scenario(ctx, Scenario("xsell", "cart", 0.0), profile=opts.profile)
                report["profile"] = {"file": str(opts.profile), **top_costs(opts.profile)}
        report["runs"] = runs
        report["summary"] = summarise(runs)
        report["targets"] = targets(report["summary"], bf, opts.rate)
        return report
    finally:
        if server is None:
            asyncio.run(_flush(env, namespace))
        if broker:
            broker.stop()
        if server:
            server.stop()


async def _flush(env: dict[str, str], namespace: str) -> None:
    """Delete the bench namespaces from a configured (not private) Redis."""
    for ns in (namespace, namespace + "-naive"):
        store = await Store.open(settings_for({**env, "XSELL_KEY_NAMESPACE": ns}))
        try:
            await store.flush_namespace()
        finally:
            await store.close()
