"""What a view costs the store beside an add-to-cart, and what views hold in Redis.

    .venv/bin/python -m xsell.bench.view_bench [--events N] [--users U] [--items I] [--json]

Starts a private redis-server, applies N add-to-carts, then N views (the same users, items and
times: U shoppers, I items, one event every 0.5 s, uniform at random) through
``Store.apply`` in batches of 200, in process, and reports for each: events/s, Redis CPU
(INFO cpu) and commands (INFO stats) per event; for views also the recent views' memory per
user (MEMORY USAGE) and the co-view partners per item. Attribution is off for both (history
loading's mode), so the two differ only in what the event itself writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import time
from typing import Any

import redis

from xsell.bench.probes import redis_snapshot
from xsell.config.settings import load_settings
from xsell.devenv.servers import LocalRedis
from xsell.models.events import CartEvent
from xsell.store import Store

log = logging.getLogger(__name__)
BATCH = 200


def events(kind: str, n: int, users: int, items: int, seed: int = 1) -> list[CartEvent]:
    r = random.Random(seed)
    return [
        CartEvent(
            f"{kind}-{i}",
            kind,
            f"u{r.randrange(users)}",
            f"i{r.randrange(items)}",
            1_700_000_000.0 + i * 0.5,
        )
        for i in range(n)
    ]


async def measure(store: Store, client: redis.Redis, batch: list[CartEvent]) -> dict[str, float]:
    before, started = redis_snapshot(client), time.perf_counter()
    for start in range(0, len(batch), BATCH):
        await store.apply(batch[start : start + BATCH], attribute=False)
    wall = time.perf_counter() - started
    used = redis_snapshot(client).minus(before)
    n = len(batch)
    return {
        "events_per_second": n / wall,
        "redis_cpu_us_per_event": used["cpu"] / n * 1e6,
        "commands_per_event": (used["commands"] - 4) / n,  # minus the snapshot's INFOs
    }


async def held(store: Store) -> dict[str, float]:
    """The recent views' bytes per user and the co-view partners per item (a SCAN)."""
    users: list[int] = []
    partners: list[int] = []
    async for key in store.ops.footprints():
        if key.name.endswith(":view"):
            users.append(key.bytes)
        elif key.name.endswith(":v"):
            partners.append(key.entries)
    return {
        "recent_views_bytes_per_user": sum(users) / max(len(users), 1),
        "co_view_partners_per_item": sum(partners) / max(len(partners), 1),
        "co_view_partners_max": max(partners, default=0),
    }


async def run(n: int, users: int, items: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with LocalRedis() as server:
        for kind in ("add_to_cart", "view"):
            settings = load_settings(redis_url=server.url, key_namespace=f"b-{kind}")
            client = redis.Redis.from_url(server.url, decode_responses=True)
            store = await Store.open(settings)
            try:
                out[kind] = await measure(store, client, events(kind, n, users, items))
                if kind == "view":
                    out[kind] |= await held(store)
            finally:
                client.close()
                await store.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.events, args.users, args.items))
    if args.json:
        log.warning("%s", json.dumps(result))
        return
    for kind, figures in result.items():
        log.warning("%-12s %s", kind, "  ".join(f"{k} {v:,.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s")
    main()
