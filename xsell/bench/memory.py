"""What the state costs: keys and bytes per kind of key, per item and per pair.

``python -m xsell.bench.memory FILE [--map M] [--skip-items I] [--cluster] [--orders N]`` backfills
an orders CSV into a fresh namespace of ``XSELL_REDIS_URL`` (a cluster with ``--cluster``),
prints the figures as JSON and deletes the namespace (docs/scaling.md). Bytes are Redis'
``MEMORY USAGE`` of each key (value, key name and overhead, without the allocator's slack).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from xsell.config.settings import load_settings
from xsell.store import Store


def kind_of(key: str) -> str:
    """``i:p``, ``i:c``, ``u:hist``, ``g:pop``, ``e`` ... for a key of the layout."""
    tag, _, suffix = key.partition("}")
    letter = tag.split("{", 1)[-1][:1]
    return f"{letter}:{suffix.lstrip(':')}" if suffix else letter


async def footprint(store: Store) -> dict[str, Any]:
    """Keys, bytes and entries (zset/hash members) per kind of key, plus per-item and per-pair
    averages: ``pairs`` counts unordered co-purchase pairs (each is in two zsets)."""
    kinds: dict[str, dict[str, int]] = {}
    async for key in store.ops.footprints():
        entry = kinds.setdefault(kind_of(key.name), {"keys": 0, "bytes": 0, "entries": 0})
        entry["keys"] += 1
        entry["bytes"] += key.bytes
        entry["entries"] += key.entries
    items = await store.ops.item_count()
    pairs_z = kinds.get("i:p", {"keys": 0, "bytes": 0, "entries": 0})
    item_bytes = sum(v["bytes"] for k, v in kinds.items() if k.startswith("i:"))
    return {
        "kinds": dict(sorted(kinds.items())),
        "keys": sum(v["keys"] for v in kinds.values()),
        "bytes": sum(v["bytes"] for v in kinds.values()),
        "items": items,
        "pairs": pairs_z["entries"] // 2,
        "item_keys_per_item": round(
            sum(v["keys"] for k, v in kinds.items() if k.startswith("i:")) / items, 2
        )
        if items
        else 0,
        "item_bytes_per_item": round(item_bytes / items) if items else 0,
        "pair_bytes_per_pair": round(pairs_z["bytes"] / (pairs_z["entries"] / 2))
        if pairs_z["entries"]
        else 0,
    }


async def _measure(args: argparse.Namespace) -> dict[str, Any]:
    from xsell.ops.loading import backfill
    from xsell.ops.orders_csv import load_orders

    overrides: dict[str, Any] = {"key_namespace": f"fp{os.getpid()}"}
    if args.cluster:
        overrides["redis_cluster"] = True
    settings = load_settings(**overrides)
    orders, _ = load_orders(
        args.file, args.map, args.skip_items, settings.limits, limit=args.orders or None
    )
    store = await Store.open(settings)
    try:
        started = time.monotonic()
        summary = await backfill(store, orders)
        seconds = time.monotonic() - started
        figures = await footprint(store)
        figures.update(
            orders=summary.orders,
            lines=summary.lines,
            seconds=round(seconds, 2),
            orders_per_second=round(summary.orders / seconds),
            cluster=settings.redis.cluster,
            half_life_days=settings.learning.half_life_days,
            max_neighbors=settings.learning.max_neighbors,
        )
        return figures
    finally:
        await store.flush_namespace()
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m xsell.bench.memory", description=__doc__)
    parser.add_argument("file")
    parser.add_argument("--map")
    parser.add_argument("--skip-items")
    parser.add_argument("--orders", type=int, default=0, help="first N orders only")
    parser.add_argument("--cluster", action="store_true")
    print(json.dumps(asyncio.run(_measure(parser.parse_args())), indent=1))  # noqa: T201


if __name__ == "__main__":
    main()
