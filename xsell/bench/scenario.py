"""One benchmark run: an agent (xsell, passthrough, naive) x a mix (cart, purchase) x a mode
(full speed, fixed rate), on its own topics with its own worker process.

Sequence: create topics; start the agent's worker (``python -m xsell.bench.agents AGENT``,
its own module: ``xsell worker`` knows nothing of benchmarks); send a warm-up and
wait for its suggestions (partitions assigned, scripts loaded, code paths hot); read the probes;
send the measured events and collect their suggestions; read the probes again; stop the worker
(by PID) and delete the topics when the broker is not our private one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from xsell.bench import probes
from xsell.bench.loadgen import run_load
from xsell.bench.profile import Profiler
from xsell.bench.workload import make_events
from xsell.config.settings import Settings, load_settings
from xsell.devenv.servers import LocalWorker
from xsell.kafka_clients import admin, create_topics
from xsell.models.events import PurchaseEvent
from xsell.store import client_options

log = logging.getLogger(__name__)

WARMUP_EVENTS = {"cart": 20, "purchase": 5}
COUNTER_SETTLE = 0.6  # > the workers' counter interval (0.2 s)
_runs = itertools.count()


@dataclass(frozen=True)
class Scenario:
    agent: str
    mix: str
    rate: float  # events/s; 0 = full speed

    @property
    def mode(self) -> str:
        return "full" if self.rate <= 0 else f"{self.rate:g}/s"

    @property
    def name(self) -> str:
        return f"{self.agent} {self.mix} {self.mode}"


@dataclass
class Context:
    """What every scenario of one bench run shares."""

    env: dict[str, str]  # XSELL_* of the servers (and the user's own settings)
    namespace: str  # the backfilled key namespace
    tag: str
    orders: Sequence[PurchaseEvent]
    events: int
    max_seconds: float
    drain_seconds: float
    workdir: Path
    private_broker: bool
    fetch_wait_ms: int = 10  # worker consumer's fetch wait; 0 = XSELL_KAFKA_FETCH_MAX_WAIT_MS
    workers: int = 1  # worker processes per run, one consumer group


def settings_for(env: dict[str, str]) -> Settings:
    """The settings a worker started with ``env`` (on top of ours) would load."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def agent_command(agent: str, stats: str, fetch_wait_ms: int) -> tuple[str, ...]:
    """The arguments after ``python`` that start one bench worker of ``agent``."""
    return (
        "-m",
        "xsell.bench.agents",
        agent,
        "--stats",
        stats,
        "--fetch-wait-ms",
        str(fetch_wait_ms),
    )


def run_scenario(ctx: Context, sc: Scenario, profile: Path | None = None) -> dict[str, Any]:
    n = next(_runs)
    stats = ctx.workdir / f"counters-{n}.json"
    env = {
        **ctx.env,
        "XSELL_TOPIC_PREFIX": f"bench-{ctx.tag}-{n}.",
        "XSELL_APP_ID": f"xsell-bench-{ctx.tag}-{n}",
        "XSELL_KEY_NAMESPACE": ctx.namespace + ("-naive" if sc.agent == "naive" else ""),
    }
    settings = settings_for(env)
    create_topics(settings)
    events = make_events(sc.mix, ctx.orders, ctx.events, f"{ctx.tag}-{n}")
    warmup = make_events(sc.mix, ctx.orders[:200], WARMUP_EVENTS[sc.mix], f"{ctx.tag}-{n}w")
    client = redis.Redis.from_url(settings.redis.url, **client_options(settings))
    workers = [
        LocalWorker(env, agent_command(sc.agent, f"{stats}.{i}", ctx.fetch_wait_ms))
        for i in range(ctx.workers)
    ]
    load = probes.load_average()
    try:
        for worker in workers:
            worker.start(timeout=120.0)
        if len(workers) > 1:  # let the group settle after the last join
            time.sleep(float(settings.kafka.session_timeout))
        asyncio.run(run_load(settings, warmup, rate=0, max_seconds=120.0, drain_seconds=60.0))
        time.sleep(COUNTER_SETTLE)
        cpu0, redis0 = _cpu(workers), probes.redis_snapshot(client)
        count0 = probes.worker_counters(stats)
        profiler = Profiler(workers[0].pid, profile) if profile else None
        result = asyncio.run(
            run_load(
                settings,
                events,
                rate=sc.rate,
                max_seconds=ctx.max_seconds,
                drain_seconds=ctx.drain_seconds,
            )
        )
        if profiler:
            profiler.stop()
        time.sleep(COUNTER_SETTLE)
        cpu1, redis1 = _cpu(workers), probes.redis_snapshot(client)
        count1 = probes.worker_counters(stats)
    finally:
        for worker in workers:
            worker.kill()  # by PID; a graceful stop only adds seconds (fresh group every run)
        client.close()
        if not ctx.private_broker:
            _delete_topics(settings)
    handled = int(count1["events"]) - int(count0["events"])
    if handled <= 0:  # nothing finished (a stuck naive run): per-event figures are unknown
        handled = max(result.received, 1)
    server = redis1.minus(redis0)
    lat = sorted(result.latencies)
    figures: dict[str, Any] = {
        "agent": sc.agent,
        "mix": sc.mix,
        "mode": sc.mode,
        "rate": sc.rate,
        "workers": ctx.workers,
        "sent": result.sent,
        "received": result.received,
        "seconds": round(result.seconds, 3),
        "events_per_second": round(result.received / result.seconds, 1),
        "lines_per_second": round(result.lines / result.seconds, 1),
        "latency_ms": {f"p{q}": _ms(probes.percentile(lat, q)) for q in (50, 95, 99)},
        "worker_cpu_ms_per_event": round((cpu1 - cpu0) * 1000 / handled, 3),
        "worker_cpu_share": round((cpu1 - cpu0) / result.seconds, 3),
        "redis_cpu_ms_per_event": round(server["cpu"] * 1000 / handled, 3),
        "round_trips_per_event": round(
            (int(count1["round_trips"]) - int(count0["round_trips"])) / handled, 3
        ),
        "redis_commands_per_event": round(server["commands"] / handled, 2),
        "redis_calls_per_event": {
            name: round(calls / handled, 2)
            for name, calls in sorted(server["calls"].items(), key=lambda kv: -kv[1])[:14]
            if name != "info"
        },
        "worker_events": handled,
        "load_average_1m": [load, probes.load_average()],
    }
    figures["latency_ms"]["max"] = _ms(lat[-1] if lat else None)
    log.info("%s: %s", sc.name, figures)
    return figures


def _cpu(workers: list[LocalWorker]) -> float:
    return sum(probes.process_cpu(w.pid) for w in workers)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def _delete_topics(settings: Settings) -> None:
    from xsell.kafka_clients import TOPICS

    try:
        client = admin(settings)
        try:
            client.delete_topics([settings.topic(t) for t in TOPICS])
        finally:
            client.close()
    except Exception as exc:  # cleanup only: a broker without delete keeps them
        log.warning("could not delete the bench topics %s*: %r", settings.kafka.topic_prefix, exc)
