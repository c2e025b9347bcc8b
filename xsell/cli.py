"""The ``xsell`` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from config.settings import Settings, load_settings, safe_errors
from models.errors import XsellError
from xsell.logging_setup import setup_logging

T = TypeVar("T")


def _settings(args: argparse.Namespace) -> Settings:
    if getattr(args, "config", None):
        os.environ["XSELL_CONFIG"] = args.config
    overrides = {}
    if getattr(args, "namespace", None):
        overrides["key_namespace"] = args.namespace
    settings = load_settings(**overrides)
    setup_logging(settings.log_level)
    return settings


def _with_store(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from xsell.store.store import Store

    async def run() -> T:
        store = await Store.open(settings)
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _orders(args: argparse.Namespace, settings: Settings) -> tuple[list[Any], Any]:
    from models.events import Limits
    from xsell.csvio import CsvStats, parse_map, read_orders

    stats = CsvStats()
    skip = frozenset(s for s in (args.skip_items or "").split(",") if s)
    limits = Limits(settings.max_id_length, settings.max_order_lines, settings.max_payload_bytes)
    orders = list(read_orders(args.file, parse_map(args.map), skip, limits, stats))
    return orders, stats


def cmd_worker(args: argparse.Namespace) -> int:
    from xsell.worker import run_worker

    run_worker(_settings(args))
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from xsell.kafka_admin import create_topics

    for topic, outcome in create_topics(_settings(args)).items():
        print(f"{topic}: {outcome}")
    return 0


def cmd_neighbors(args: argparse.Namespace) -> int:
    from xsell.inspect_state import neighbours

    settings = _settings(args)
    rows = _with_store(settings, lambda store: neighbours(store, args.item_id, args.k))
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print(f"no neighbours for {args.item_id!r}")
    else:
        print(f"{'item_id':<24} {'together':>12} {'score':>10}")
        for row in rows:
            print(f"{row['item_id']:<24} {row['together']:>12} {row['score']:>10.4f}")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from xsell.history import backfill

    settings = _settings(args)
    orders, stats = _orders(args, settings)
    summary = _with_store(settings, lambda store: backfill(
        store, orders, total=len(orders), catalog=stats.catalog.values()))
    result = {**summary.as_dict(), "rows": stats.rows, "skipped_rows": stats.skipped_rows,
              "skipped_orders": stats.skipped_orders, "skip_reasons": stats.reasons}
    print(json.dumps(result) if args.json else _summary_text("backfill", result))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from xsell.history import replay

    settings = _settings(args)
    orders, stats = _orders(args, settings)
    summary = replay(settings, orders, total=len(orders), catalog=stats.catalog.values())
    result = {"orders": summary.orders, "lines": summary.lines,
              "seconds": round(summary.seconds, 2), "topic": settings.topic("orders"),
              "rows": stats.rows,
              "skipped_rows": stats.skipped_rows, "skipped_orders": stats.skipped_orders}
    print(json.dumps(result) if args.json else _summary_text("replay", result))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from xsell.cli_demo import run_demo

    return run_demo(args)


def cmd_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(json.dumps(settings.masked(), indent=2, default=str))
    return 0


def _summary_text(title: str, result: dict[str, Any]) -> str:
    return title + ": " + ", ".join(f"{k}={v}" for k, v in result.items())


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _file_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="orders CSV (.csv or .csv.gz)")
    p.add_argument("--map", help="NAME=COLUMN,... e.g. order_id=Invoice,item_id=StockCode")
    p.add_argument("--skip-items", help="comma-separated item ids to drop (non-products)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="xsell", description=__doc__)
    top.add_argument("--config", help="TOML settings file (same as XSELL_CONFIG)")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("worker", help="run a stream worker").set_defaults(fn=cmd_worker)
    topics = sub.add_parser("topics", help="topic administration")
    topics.add_argument("action", choices=["create"])
    topics.set_defaults(fn=cmd_topics)
    nb = sub.add_parser("neighbors", help="an item's top co-purchase neighbours")
    nb.add_argument("item_id")
    nb.add_argument("--k", type=_positive, default=10, help="how many (default 10)")
    nb.add_argument("--json", action="store_true")
    nb.set_defaults(fn=cmd_neighbors)
    bf = sub.add_parser("backfill", help="load an orders CSV straight into Redis")
    _file_args(bf)
    bf.set_defaults(fn=cmd_backfill)
    rp = sub.add_parser("replay", help="send an orders CSV to Kafka as purchase events")
    _file_args(rp)
    rp.set_defaults(fn=cmd_replay)
    demo = sub.add_parser("demo", help="run everything locally and show live suggestions")
    demo.add_argument("--orders", help="orders CSV to feed instead of the synthetic shop")
    demo.add_argument("--map", help="column map of --orders")
    demo.add_argument("--skip-items", help="item ids to drop from --orders")
    demo.add_argument("--seconds", type=float, default=0,
                      help="stop after this many seconds (0 = until Ctrl-C)")
    demo.add_argument("--rate", type=float, default=20.0, help="events per second shown")
    demo.set_defaults(fn=cmd_demo)
    sub.add_parser("config", help="print the effective settings (secrets masked)").set_defaults(
        fn=cmd_config)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except ValidationError as exc:
        print(f"xsell: invalid settings:\n{safe_errors(exc)}", file=sys.stderr)
        return 2
    except XsellError as exc:
        print(f"xsell: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
