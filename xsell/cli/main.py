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
from config.logs import setup_logging

T = TypeVar("T")


def _settings(args: argparse.Namespace, *, check: bool = True) -> Settings:
    """The settings; with ``check``, an unsafe setup is refused unless XSELL_ALLOW_UNSAFE."""
    if getattr(args, "config", None):
        os.environ["XSELL_CONFIG"] = args.config
    overrides = {}
    if getattr(args, "namespace", None):
        overrides["key_namespace"] = args.namespace
    settings = load_settings(**overrides)
    setup_logging(settings.log_level)
    if check and settings.unsafe_reasons():
        from streams.worker import check_safe

        check_safe(settings)
    return settings


def _with_store(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from xsell.store.apply import Store

    async def run() -> T:
        store = await Store.open(settings)
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _orders(args: argparse.Namespace, settings: Settings) -> tuple[list[Any], Any]:
    from models.events import Limits
    from xsell.ops.orders_csv import CsvStats, parse_map, read_orders

    stats = CsvStats()
    skip = frozenset(s for s in (args.skip_items or "").split(",") if s)
    limits = Limits(settings.max_id_length, settings.max_order_lines, settings.max_payload_bytes)
    orders = list(read_orders(args.file, parse_map(args.map), skip, limits, stats))
    return orders, stats


def cmd_worker(args: argparse.Namespace) -> int:
    from streams.worker import run_worker

    run_worker(_settings(args))
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from xsell.kafka_clients import create_topics

    for topic, outcome in create_topics(_settings(args)).items():
        print(f"{topic}: {outcome}")
    return 0


def cmd_neighbors(args: argparse.Namespace) -> int:
    from xsell.ops.inspect import neighbours

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
    from xsell.ops.loading import load_history

    settings = _settings(args)
    orders, stats = _orders(args, settings)
    summary = _with_store(
        settings,
        lambda store: load_history(store, orders, mode=args.mode, catalog=stats.catalog.values()),
    )
    result = {
        **summary.as_dict(),
        "rows": stats.rows,
        "skipped_rows": stats.skipped_rows,
        "skipped_orders": stats.skipped_orders,
        "skip_reasons": stats.reasons,
    }
    print(json.dumps(result) if args.json else _summary_text("backfill", result))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from xsell.ops.loading import replay

    settings = _settings(args)
    orders, stats = _orders(args, settings)
    summary = replay(settings, orders, total=len(orders), catalog=stats.catalog.values())
    result = {
        "orders": summary.orders,
        "lines": summary.lines,
        "seconds": round(summary.seconds, 2),
        "topic": settings.topic("orders"),
        "rows": stats.rows,
        "skipped_rows": stats.skipped_rows,
        "skipped_orders": stats.skipped_orders,
    }
    print(json.dumps(result) if args.json else _summary_text("replay", result))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from xsell.devenv.demo import run_demo

    return run_demo(args)


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from xsell.evaluation.runner import evaluate, table

    settings = _settings(args)
    if args.k:
        settings = settings.model_copy(update={"max_suggestions": args.k})
    args.file = args.orders
    orders, _ = _orders(args, settings)
    name = Path(args.orders).name.split(".")[0]
    rep = evaluate(settings, orders, name, progress=not args.json, through_kafka=args.through_kafka)
    print(json.dumps(rep) if args.json else table(rep))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    settings = _settings(args, check=False)
    print(json.dumps(settings.masked(), indent=2, default=str))
    return 0


def cmd_forget_user(args: argparse.Namespace) -> int:
    from xsell.ops.privacy import forget_user

    settings = _settings(args)
    result = forget_user(settings, args.user_id, tombstone=not args.no_tombstone)
    print(json.dumps(result) if args.json else _summary_text("forget-user", result))
    return 0


def cmd_hostile(args: argparse.Namespace) -> int:
    from xsell.verify.hostile_cases import generate
    from xsell.verify.hostile_check import replace_ns, run_local, send_cases

    settings = _settings(args)
    cases = list(
        generate(args.count, seed=args.seed, valid_every=args.valid_every, big=not args.no_big)
    )
    if args.send:
        sent = send_cases(settings, cases)
        result: dict[str, Any] = {
            "sent": len(sent),
            "bad": sum(not c.valid for c in cases),
            "valid": sum(c.valid for c in cases),
        }
        ok = True
    else:
        local = replace_ns(settings, args.namespace or settings.key_namespace + "-hostile")
        result = asyncio.run(run_local(local, cases, batch=settings.batch_size, keep=args.keep))
        ok = not (
            result["wrong_or_missing_reason"]
            or result["valid_dead_lettered"]
            or result["internal_errors"]
            or result["crashes"]
            or result["missing_suggestions"]
            or result["garbage_keys"]
            or result["missing_keys"]
            or result["values_differ"]
            or result["layout_violations"]
        )
        result["ok"] = ok
    print(json.dumps(result) if args.json else _summary_text("hostile", result))
    return 0 if ok else 1


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
    bf.add_argument(
        "--mode",
        choices=("auto", "bulk", "stream"),
        default="auto",
        help="bulk: compute the state in numpy and write each key once (empty "
        "namespace only); stream: through the worker's scripts (any state); "
        "auto (default): bulk when the namespace is empty, else stream",
    )
    bf.set_defaults(fn=cmd_backfill)
    rp = sub.add_parser("replay", help="send an orders CSV to Kafka as purchase events")
    _file_args(rp)
    rp.set_defaults(fn=cmd_replay)
    demo = sub.add_parser("demo", help="run everything locally and show live suggestions")
    demo.add_argument("--orders", help="orders CSV to feed instead of the synthetic shop")
    demo.add_argument("--map", help="column map of --orders")
    demo.add_argument("--skip-items", help="item ids to drop from --orders")
    demo.add_argument(
        "--seconds", type=float, default=0, help="stop after this many seconds (0 = until Ctrl-C)"
    )
    demo.add_argument("--rate", type=float, default=20.0, help="events per second shown")
    demo.set_defaults(fn=cmd_demo)
    ev = sub.add_parser("eval", help="offline quality of xsell against baselines")
    ev.add_argument("--orders", required=True, help="orders CSV (.csv or .csv.gz)")
    ev.add_argument("--map", help="NAME=COLUMN,... column map")
    ev.add_argument("--skip-items", help="comma-separated item ids to drop (non-products)")
    ev.add_argument(
        "--k",
        type=_positive,
        default=0,
        help="suggestions per trigger (default: XSELL_MAX_SUGGESTIONS)",
    )
    ev.add_argument(
        "--through-kafka",
        action="store_true",
        help="send every event through the broker and a worker",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(fn=cmd_eval)
    sub.add_parser("config", help="print the effective settings (secrets masked)").set_defaults(
        fn=cmd_config
    )
    fg = sub.add_parser(
        "forget-user", help="delete a user's cart and history; tombstone their suggestions"
    )
    fg.add_argument("user_id")
    fg.add_argument(
        "--no-tombstone",
        action="store_true",
        help="Redis only: send no tombstone to the suggestions topic",
    )
    fg.add_argument("--json", action="store_true")
    fg.set_defaults(fn=cmd_forget_user)
    ho = sub.add_parser(
        "hostile",
        help="feed generated bad input through the handler and check it (docs/security.md)",
    )
    ho.add_argument("--count", type=_positive, default=10_000, help="bad records (10,000)")
    ho.add_argument("--seed", type=int, default=0)
    ho.add_argument(
        "--valid-every",
        type=int,
        default=10,
        help="a valid record after every N bad ones (0 = none)",
    )
    ho.add_argument("--no-big", action="store_true", help="no megabyte-size records")
    ho.add_argument(
        "--namespace",
        help="key namespace to use (default: KEY_NAMESPACE-hostile; flushed before and after)",
    )
    ho.add_argument("--keep", action="store_true", help="keep the keys afterwards")
    ho.add_argument(
        "--send",
        action="store_true",
        help="send the records to the Kafka topics instead (for a running worker)",
    )
    ho.add_argument("--json", action="store_true")
    ho.set_defaults(fn=cmd_hostile)
    from xsell.cli.reliability import add_parsers

    add_parsers(sub)  # chaos, outage, status, rebuild (docs/reliability.md)
    from xsell.cli.bench_args import add_bench_parser

    add_bench_parser(sub)  # bench (docs/benchmarks.md)
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
