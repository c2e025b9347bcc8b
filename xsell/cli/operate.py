"""The production commands: ``worker``, ``topics``, ``backfill``, ``replay``, ``neighbors``,
``config``, ``forget-user``, ``status``, ``rebuild``. Each parses, calls one function of
:mod:`streams` or :mod:`xsell.ops`, and prints; imports are inside the commands, so that
``xsell --help`` loads neither Faust, Kafka nor numpy."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from xsell.cli.common import (
    add_file_args,
    backfill_text,
    cli_settings,
    positive,
    read_orders_file,
    status_text,
    summary_text,
    with_store,
)
from xsell.models.errors import XsellError

BACKFILL_MODES = ("auto", "bulk", "stream")  # = xsell.ops.loading.BACKFILL_MODES (tested)


def cmd_worker(args: argparse.Namespace) -> int:
    from xsell.streams.worker import run_worker

    run_worker(cli_settings(args))
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from xsell.kafka_clients import create_topics

    for topic, outcome in create_topics(cli_settings(args)).items():
        print(f"{topic}: {outcome}")
    return 0


def cmd_neighbors(args: argparse.Namespace) -> int:
    from xsell.ops.neighbours import neighbours

    settings = cli_settings(args)
    rows = with_store(settings, lambda store: neighbours(store, args.item_id, args.k))
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print(f"no neighbours for {args.item_id!r}")
    else:
        print(f"{'item_id':<24} {'together':>12} {'score':>10}")
        for row in rows:
            print(f"{row['item_id']:<24} {row['together']:>12} {row['score']:>10.4f}")
    return 0


def _reading(stats: Any) -> dict[str, Any]:
    return {
        "rows": stats.rows,
        "skipped_rows": stats.skipped_rows,
        "skipped_orders": stats.skipped_orders,
    }


def cmd_backfill(args: argparse.Namespace) -> int:
    from xsell.ops.loading import load_history

    started = time.monotonic()
    settings = cli_settings(args)
    orders, stats = read_orders_file(args.file, args, settings)
    read = time.monotonic() - started
    summary = with_store(
        settings,
        lambda store: load_history(store, orders, mode=args.mode, catalog=stats.catalog.values()),
    )
    result = {
        **summary.as_dict(),
        **_reading(stats),
        "skip_reasons": stats.reasons,
        "read_seconds": round(read, 2),
        "wall_seconds": round(time.monotonic() - started, 2),
    }
    print(json.dumps(result) if args.json else backfill_text(result))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from xsell.ops.loading import replay

    settings = cli_settings(args)
    orders, stats = read_orders_file(args.file, args, settings)
    summary = replay(settings, orders, total=len(orders), catalog=stats.catalog.values())
    result = {
        "orders": summary.orders,
        "lines": summary.lines,
        "seconds": round(summary.seconds, 2),
        "topic": settings.topic("orders"),
        **_reading(stats),
    }
    print(json.dumps(result) if args.json else summary_text("replay", result))
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from xsell.config.settings.show import as_text, effective

    settings = cli_settings(args, check=False)
    if args.json:
        print(json.dumps(effective(settings), indent=2, default=str))
    else:
        print(as_text(settings))
    return 0


def cmd_forget_user(args: argparse.Namespace) -> int:
    from xsell.ops.privacy import forget_user

    settings = cli_settings(args)
    result = forget_user(settings, args.user_id, tombstone=not args.no_tombstone)
    print(json.dumps(result) if args.json else summary_text("forget-user", result))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from xsell.ops.state import state_status

    settings = cli_settings(args)
    result: dict[str, Any] = with_store(
        settings, lambda store: state_status(store, check_kafka=not args.no_kafka)
    )
    print(json.dumps(result) if args.json else status_text(result))
    return 3 if result["state"] == "lost" else 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from xsell.ops.state import rebuild_from_file, rebuild_from_kafka

    settings = cli_settings(args)
    if args.file:
        orders, stats = read_orders_file(args.file, args, settings)
        result = with_store(
            settings,
            lambda store: rebuild_from_file(
                store, orders, stats.catalog.values(), source=args.file
            ),
        )
    else:
        result = with_store(settings, lambda store: rebuild_from_kafka(store, idle=args.idle))
    print(json.dumps(result) if args.json else summary_text("rebuild", result))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from xsell.feedback.report import report, table
    from xsell.models.errors import InvalidEvent
    from xsell.models.validate import parse_ts

    settings = cli_settings(args)
    try:
        since = None if args.since is None else parse_ts(args.since)
    except InvalidEvent as exc:
        raise XsellError(f"--since: {exc.reason.removeprefix('ts: ')}") from None
    result = with_store(settings, lambda store: report(store, since))
    print(json.dumps(result) if args.json else table(result))
    return 0


def add_parsers(sub: Any) -> None:
    """Add the production commands to the ``xsell`` sub-parsers."""
    sub.add_parser("worker", help="run a stream worker").set_defaults(fn=cmd_worker)
    topics = sub.add_parser("topics", help="topic administration")
    topics.add_argument("action", choices=["create"])
    topics.set_defaults(fn=cmd_topics)
    nb = sub.add_parser("neighbors", help="an item's top co-purchase neighbours")
    nb.add_argument("item_id")
    nb.add_argument("--k", type=positive, default=10, help="how many (default 10)")
    nb.add_argument("--json", action="store_true")
    nb.set_defaults(fn=cmd_neighbors)
    bf = sub.add_parser("backfill", help="load an orders CSV straight into Redis")
    add_file_args(bf)
    bf.add_argument("--json", action="store_true", help="print the summary as JSON")
    bf.add_argument(
        "--mode",
        choices=BACKFILL_MODES,
        default="auto",
        help="bulk: compute the state in numpy and write each key once (empty "
        "namespace only); stream: through the worker's scripts (any state); "
        "auto (default): bulk when the namespace is empty, else stream",
    )
    bf.set_defaults(fn=cmd_backfill)
    rp = sub.add_parser("replay", help="send an orders CSV to Kafka as purchase events")
    add_file_args(rp)
    rp.add_argument("--json", action="store_true", help="print the summary as JSON")
    rp.set_defaults(fn=cmd_replay)
    cfg = sub.add_parser(
        "config", help="print the effective settings, nested, with their sources (secrets masked)"
    )
    cfg.add_argument("--json", action="store_true", help="one JSON object: settings, sources")
    cfg.set_defaults(fn=cmd_config)
    fg = sub.add_parser(
        "forget-user",
        help="delete a user's cart, history and recent views; tombstone their suggestions",
    )
    fg.add_argument("user_id")
    fg.add_argument(
        "--no-tombstone",
        action="store_true",
        help="Redis only: send no tombstone to the suggestions topic",
    )
    fg.add_argument("--json", action="store_true")
    fg.set_defaults(fn=cmd_forget_user)
    st = sub.add_parser("status", help="is the Redis state present, empty or lost? (exit 3: lost)")
    st.add_argument("--no-kafka", action="store_true", help="do not look at the orders topic")
    st.add_argument("--json", action="store_true")
    st.set_defaults(fn=cmd_status)
    rb = sub.add_parser(
        "rebuild",
        help="rebuild the Redis state from the Kafka topics (or --file) after a loss; idempotent",
    )
    rb.add_argument("--file", help="rebuild from an orders CSV instead of Kafka")
    add_file_args(rb, name="--file")
    rb.add_argument(
        "--idle",
        type=float,
        default=2.0,
        help="stop after the end offsets and this many quiet seconds (2)",
    )
    rb.add_argument("--json", action="store_true")
    rb.set_defaults(fn=cmd_rebuild)
    rp = sub.add_parser(
        "report",
        help="acceptance, attributed revenue and AOV per placement "
        "and variant, each variant against the control group",
    )
    rp.add_argument("--since", help="from this day on (RFC 3339 or epoch seconds)")
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(fn=cmd_report)
