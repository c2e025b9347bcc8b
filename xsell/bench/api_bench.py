"""``xsell bench api``: the HTTP API's speed, side by side with the same server's bare
``/healthz`` (the framework's limit) and with a passthrough for the broker hops, in one run.

Setup: private redis-server and Tansu, the orders file bulk-backfilled (the shared Online
Retail II file by default), one ``xsell worker`` and one ``xsell api`` process (both with a
10 ms Kafka fetch wait: Tansu waits the full wait out on every fetch, Kafka does not). Then:

1. top speed (wrk, 32 connections): ``/healthz``, then complements of the 1,000 most popular
   items in turn;
2. complements at a fixed rate (open loop, Poisson arrivals: xsell/bench/http_load.py);
3. the latest suggestion of 200 users who have one, at a fixed rate;
4. live push: N open streams, add-to-carts posted to ``/v1/events`` at a fixed rate, each
   timed from the POST to its suggestion's arrival on its stream (broker -> worker -> broker ->
   API -> page);
5. the same POSTs through a passthrough agent (API -> broker -> agent -> broker -> a plain
   consumer): the two broker hops without xsell's work, for comparison.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from xsell.bench import probes
from xsell.bench.http_load import run_open_loop
from xsell.bench.push_latency import passthrough_latency, push_latency
from xsell.config.settings import load_settings
from xsell.config.strength import new_secret
from xsell.devenv.servers import LocalApi, LocalBroker, LocalRedis, LocalWorker
from xsell.kafka_clients import create_topics
from xsell.ops.loading import load_history
from xsell.ops.orders_csv import load_orders
from xsell.store import Store

log = logging.getLogger(__name__)
KEY = new_secret()
ENV = {
    "XSELL_KAFKA_FETCH_MAX_WAIT_MS": "10",
    "XSELL_BATCH_WINDOW": "0.005",
    "XSELL_API_KEYS": KEY,
    "XSELL_KAFKA_SESSION_TIMEOUT": "3",
    "XSELL_KAFKA_HEARTBEAT_INTERVAL": "0.5",
}
AUTH = {"Authorization": f"Bearer {KEY}"}


@dataclass
class ApiBenchOptions:
    orders_file: Path
    map: str
    skip_items: str
    history: int = 0  # orders backfilled; 0 = all
    seconds: float = 10.0  # per fixed-rate run
    complements_rate: float = 500.0
    latest_rate: float = 1000.0
    streams: int = 500
    events_rate: float = 100.0
    progress: bool = True


def _say(opts: ApiBenchOptions, text: str) -> None:
    if opts.progress:
        sys.stderr.write(f"bench api: {text}\n")
        sys.stderr.flush()


def wrk(url: str, paths: list[str], seconds: float, lua_dir: Path) -> dict[str, Any]:
    """wrk's top speed over ``paths`` in turn (a Lua script), with the bench's key."""
    script = lua_dir / f"paths-{uuid.uuid4().hex[:6]}.lua"
    listed = ",".join(f'"{p}"' for p in paths)
    script.write_text(
        f"local paths = {{{listed}}}\nlocal n = 0\n"
        f'wrk.headers["Authorization"] = "{AUTH["Authorization"]}"\n'
        "request = function()\n  n = n % #paths + 1\n"
        "  return wrk.format(nil, paths[n])\nend\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{max(int(seconds), 1)}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": float(rate.group(1)) if rate else 0.0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


ITEMS: list[str] = []  # the most popular items of the loaded state (set by run_api_bench)


def run_api_bench(opts: ApiBenchOptions) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    report: dict[str, Any] = {
        "machine": probes.machine(),
        "options": {
            "seconds": opts.seconds,
            "complements_rate": opts.complements_rate,
            "latest_rate": opts.latest_rate,
            "streams": opts.streams,
            "events_rate": opts.events_rate,
        },
    }
    with (
        LocalRedis() as redis_server,
        LocalBroker() as broker,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = {**ENV, "XSELL_REDIS_URL": redis_server.url, "XSELL_KAFKA_BROKERS": broker.bootstrap}
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            settings = load_settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        create_topics(settings)
        _say(opts, "loading the history")
        orders, _ = load_orders(
            opts.orders_file, opts.map, opts.skip_items, settings.limits, limit=opts.history or None
        )
        ITEMS[:] = asyncio.run(_load(settings, orders))
        worker = LocalWorker(env)
        worker.start(timeout=120)
        try:
            uncached = LocalApi({**env, "XSELL_API_CACHE_SECONDS": "0"})
            with uncached:
                report.update(_measure_ranking(opts, uncached.url, Path(tmp)))
            api = LocalApi(env)
            with api:
                report.update(
                    _measure_cached_and_push(opts, api.url, settings, tag, Path(tmp), worker, env)
                )
        finally:
            if worker.alive():
                worker.stop()
    return report


def _measure_ranking(opts: ApiBenchOptions, url: str, tmp: Path) -> dict[str, Any]:
    """Top speed of /healthz and of uncached complements; both at a fixed rate."""
    out: dict[str, Any] = {}
    complements = [f"/v1/items/{i}/complements" for i in ITEMS]
    _say(opts, "top speed: /healthz, then complements with XSELL_API_CACHE_SECONDS=0 (wrk)")
    wrk(url, complements[:50], 2, tmp)  # warm-up
    out["max_healthz"] = wrk(url, ["/healthz"], opts.seconds, tmp)
    out["max_complements"] = wrk(url, complements, opts.seconds, tmp)
    out["max_ratio"] = round(out["max_complements"]["rate"] / out["max_healthz"]["rate"], 3)
    _say(opts, f"/healthz and uncached complements at {opts.complements_rate:g}/s")
    out["healthz_fixed"] = run_open_loop(
        url, ["/healthz"], opts.complements_rate, opts.seconds, AUTH
    )
    out["complements_fixed"] = run_open_loop(
        url, complements, opts.complements_rate, opts.seconds, AUTH
    )
    return out


def _measure_cached_and_push(
    opts: ApiBenchOptions,
    url: str,
    settings: Any,
    tag: str,
    tmp: Path,
    worker: LocalWorker,
    env: dict[str, str],
) -> dict[str, Any]:
    """With the default settings: cached complements, the latest, the live push and the
    passthrough's broker hops."""
    out: dict[str, Any] = {}
    complements = [f"/v1/items/{i}/complements" for i in ITEMS]
    _say(opts, "top speed of complements with the default cache (wrk)")
    wrk(url, complements[:50], 2, tmp)
    out["max_healthz_again"] = wrk(url, ["/healthz"], opts.seconds, tmp)
    out["max_complements_cached"] = wrk(url, complements, opts.seconds, tmp)
    out["max_ratio_cached"] = round(
        out["max_complements_cached"]["rate"] / out["max_healthz_again"]["rate"], 3
    )
    out["complements_fixed_cached"] = run_open_loop(
        url, complements, opts.complements_rate, opts.seconds, AUTH
    )
    _say(opts, f"latest suggestions at {opts.latest_rate:g}/s")
    users = asyncio.run(_with_latest(url, tag, 200))
    latest = [f"/v1/users/{u}/suggestions" for u in users]
    out["latest_fixed"] = run_open_loop(url, latest, opts.latest_rate, opts.seconds, AUTH)
    _say(opts, f"live push: {opts.streams} streams, {opts.events_rate:g} events/s")
    out["push"] = asyncio.run(push_latency(url, opts, tag, ITEMS, AUTH))
    _say(opts, "the same POSTs through a passthrough agent")
    worker.stop()
    agent = LocalWorker(env, ("-m", "xsell.bench.agents", "passthrough", "--fetch-wait-ms", "10"))
    agent.start(timeout=120)
    try:
        out["passthrough_hops"] = asyncio.run(
            passthrough_latency(url, settings, opts, tag, ITEMS, AUTH)
        )
    finally:
        agent.stop()
    return out


async def _load(settings: Any, orders: list[Any]) -> list[str]:
    store = await Store.open(settings)
    try:
        await load_history(store, orders)
        return await store.ops.most_popular(1000)
    finally:
        await store.close()


async def _with_latest(url: str, tag: str, n: int) -> list[str]:
    """``n`` users who have a latest suggestion (one add-to-cart each, then waited for)."""
    users = [f"latest-{tag}-{k}" for k in range(n)]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        events = [
            {
                "event_id": f"{u}-a",
                "type": "add_to_cart",
                "user_id": u,
                "item_id": ITEMS[k % len(ITEMS)],
                "ts": time.time(),
            }
            for k, u in enumerate(users)
        ]
        (await client.post("/v1/events", json=events, headers=AUTH)).raise_for_status()
        deadline = time.monotonic() + 60
        for user in users:
            while (
                await client.get(f"/v1/users/{user}/suggestions", headers=AUTH)
            ).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("the worker did not publish the users' suggestions")
                await asyncio.sleep(0.05)
    return users
