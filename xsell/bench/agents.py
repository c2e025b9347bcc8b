"""The workers ``xsell bench`` compares (docs/benchmarks.md), each started as its own process:
``python -m xsell.bench.agents AGENT [--stats PATH] [--fetch-wait-ms N]`` with the usual
``XSELL_*`` settings; ``xsell worker`` knows nothing of them.

- ``xsell``: the real app of :mod:`xsell.streams.app`, unchanged, plus counters of the store's Redis
  round trips (``Runner`` pipelines) and of the commands they carry;
- ``passthrough``: the framework limit: the same topics and micro-batches (``take_events``),
  every record sent on to the suggestions topic as it is (no decoding, no Redis);
- ``naive``: what a first attempt gives: one event at a time, JSON decoding, and one awaited
  Redis call per pair (ZINCRBY both ways), per cart read and write, plus one neighbour read for
  the suggestion. No dedup, decay, pruning or rules: it does less than xsell, only slower.

With ``--stats PATH`` the counters are written there as JSON every 0.2 s (written to a
temporary file and renamed, so a reader never sees half a file). With
``--fetch-wait-ms N`` (N > 0) the worker's Kafka consumer waits at most N ms per fetch instead
of ``XSELL_KAFKA_FETCH_MAX_WAIT_MS``: Tansu answers a fetch only when that wait is over, even
when records arrived meanwhile (Kafka answers at once), which would otherwise put hundreds of
milliseconds of broker artefact into every latency figure (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust
import redis.asyncio as aioredis

from xsell.config.logs import setup_logging
from xsell.config.settings import Settings, load_settings, require_safe
from xsell.store import ROUND_TRIPS, RoundTrips, client_options
from xsell.streams.app import create_app, faust_app
from xsell.streams.handler import BatchHandler, Output, Record
from xsell.streams.topics import Topics, declare_topics

MODES = ("xsell", "passthrough", "naive", "xsell-noattr", "xsell-notune")
STATS_INTERVAL = 0.2
NAIVE_TOP = 3


class Counters:
    """Process-wide counters of one bench worker."""

    def __init__(self) -> None:
        self.round_trips = 0  # requests that wait for Redis' answer
        self.commands = 0  # commands sent (a Lua script call counts once)
        self.events = 0  # input records handled
        self.outputs = 0  # records sent to the suggestions topic
        self.store: RoundTrips | None = None  # the xsell agents: the store's own counters

    def as_dict(self) -> dict[str, Any]:
        trips = self.store or self
        return {
            "round_trips": trips.round_trips,
            "commands": trips.commands,
            "events": self.events,
            "outputs": self.outputs,
            "pid": os.getpid(),
            "at": time.time(),
        }


COUNTERS = Counters()


def write_stats(path: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as out:
        json.dump(COUNTERS.as_dict(), out)
    os.replace(tmp, path)


def count_xsell() -> None:
    """Count records in and suggestions out by wrapping ``BatchHandler.handle``; the store's
    round trips and commands are its own counters (:data:`xsell.store.ROUND_TRIPS`)."""
    handle: Callable[[BatchHandler, Sequence[Record]], Awaitable[Output]] = BatchHandler.handle
    COUNTERS.store = ROUND_TRIPS

    async def counted_handle(self: BatchHandler, records: Sequence[Record]) -> Output:
        out = await handle(self, records)
        COUNTERS.events += len(records)
        COUNTERS.outputs += len(out.suggestions)
        return out

    setattr(BatchHandler, "handle", counted_handle)  # noqa: B010


def _passthrough(app: faust.App, topics: Topics, settings: Settings) -> None:
    async def forward(stream: Any) -> None:
        async for events in stream.take_events(
            settings.worker.batch_size, settings.worker.batch_window
        ):
            futures = [
                await topics.suggestions.send(key=e.message.key, value=e.message.value)
                for e in events
            ]
            await asyncio.gather(*futures)
            COUNTERS.events += len(events)
            COUNTERS.outputs += len(futures)

    app.agent(topics.cart_events, name="bench.pass.cart")(forward)
    app.agent(topics.orders, name="bench.pass.orders")(forward)


class Naive:
    """The first-attempt logic: every Redis call awaited on its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ns = settings.redis.key_namespace
        self.redis = aioredis.Redis.from_url(settings.redis.url, **client_options(settings))

    async def call(self, *args: Any) -> Any:
        COUNTERS.round_trips += 1
        COUNTERS.commands += 1
        return await self.redis.execute_command(*args)  # type: ignore[no-untyped-call]

    async def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        ns, limit = self.ns, self.settings.learning.max_items_per_order
        if event["type"] == "purchase":
            items = list(dict.fromkeys(line["item_id"] for line in event["items"]))
            for a in items[:limit]:
                for b in items[:limit]:
                    if a != b:
                        await self.call("ZINCRBY", f"{ns}:p:{a}", 1, b)
            for a in items:
                await self.call("ZINCRBY", f"{ns}:pop", 1, a)
            if event.get("user_id"):
                await self.call("DEL", f"{ns}:cart:{event['user_id']}")
            anchor, placement = items[-1], "post_purchase"
        else:
            anchor, placement = event["item_id"], "cart"
            cart = f"{ns}:cart:{event['user_id']}"
            weight = self.settings.learning.cart_weight
            # the same partners as xsell: the newest co_add_window cart items (a small hash, as
            # a cart is, keeps insertion order; a re-added item keeps its old place)
            window = self.settings.learning.co_add_window
            for other in (await self.call("HKEYS", cart))[::-1][:window]:
                if other != anchor:
                    await self.call("ZINCRBY", f"{ns}:c:{anchor}", weight, other)
                    await self.call("ZINCRBY", f"{ns}:c:{other}", weight, anchor)
            await self.call("HSET", cart, anchor, event["ts"])
        top = await self.call("ZRANGE", f"{ns}:p:{anchor}", 0, NAIVE_TOP - 1, "REV", "WITHSCORES")
        return {
            "user_id": event.get("user_id"),
            "placement": placement,
            "trigger": {"type": event["type"], "event_id": event["event_id"]},
            "items": [{"item_id": m, "score": float(s)} for m, s in _pairs(top)],
        }


def _pairs(reply: list[Any]) -> list[tuple[Any, Any]]:
    if reply and isinstance(reply[0], list | tuple):
        return [(m, s) for m, s in reply]
    return list(zip(reply[::2], reply[1::2], strict=True))


def _naive(app: faust.App, topics: Topics, settings: Settings) -> None:
    naive = Naive(settings)

    async def handle(stream: Any) -> None:
        async for value in stream:
            message = await naive.handle(json.loads(value))
            key = message["user_id"]
            await topics.suggestions.send(
                key=None if key is None else str(key).encode(), value=json.dumps(message).encode()
            )
            COUNTERS.events += 1
            COUNTERS.outputs += 1

    app.agent(topics.cart_events, name="bench.naive.cart")(handle)
    app.agent(topics.orders, name="bench.naive.orders")(handle)


def bench_app(settings: Settings, mode: str, *, stats: str | None = None) -> faust.App:
    """The Faust app of a bench worker mode (see module doc)."""
    if mode not in MODES:
        raise ValueError(f"the bench agent must be one of {', '.join(MODES)}, not {mode!r}")
    if mode in ("xsell", "xsell-noattr", "xsell-notune"):
        count_xsell()
        if mode == "xsell-noattr":  # the same worker without feedback and attribution
            settings = settings.model_copy(update={"attribution": False})
        if mode == "xsell-notune":  # the same worker without self-tuning
            settings = settings.model_copy(update={"self_tuning": False})
        app, _ = create_app(settings)
    else:
        app = faust_app(settings)
        topics = declare_topics(app, settings)
        (_passthrough if mode == "passthrough" else _naive)(app, topics, settings)
    if stats:
        path = stats
        written: list[dict[str, Any]] = []

        @app.timer(STATS_INTERVAL)
        async def bench_stats() -> None:
            now = COUNTERS.as_dict()
            now.pop("at")
            if not written or written[-1] != now:  # only when something changed
                write_stats(path)
                written[:] = [now]

    return app


def main(argv: list[str] | None = None) -> None:
    """Run one bench worker until it is stopped (the bench stops it by PID)."""
    parser = argparse.ArgumentParser(prog="python -m xsell.bench.agents", description=__doc__)
    parser.add_argument("agent", choices=MODES)
    parser.add_argument("--stats", help="write the counters to this JSON file")
    parser.add_argument(
        "--fetch-wait-ms",
        type=int,
        default=0,
        help="Kafka fetch wait of the consumer (0 = XSELL_KAFKA_FETCH_MAX_WAIT_MS)",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    setup_logging(settings.ops.log_level, settings.secret_values())
    require_safe(settings)
    if args.fetch_wait_ms > 0:
        settings = settings.model_copy(update={"kafka_fetch_max_wait_ms": args.fetch_wait_ms})
    app = bench_app(settings, args.agent, stats=args.stats)
    faust.Worker(
        app, loglevel=settings.ops.log_level.lower(), quiet=True
    ).execute_from_commandline()


if __name__ == "__main__":
    main()
