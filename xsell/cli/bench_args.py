"""``xsell bench``: its arguments and command (a harness command: :mod:`xsell.cli.harness`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from xsell.cli.common import cli_settings, harness, positive

# = xsell.bench.workload.AGENTS / MIXES (kept here so that the parser needs no harness; tested)
AGENTS = ("xsell", "passthrough", "naive")
EXTRA_AGENTS = ("xsell-noattr", "xsell-notune")  # = xsell.bench.workload.EXTRA_AGENTS
MIXES = ("cart", "purchase")


def _choices(allowed: tuple[str, ...]) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        chosen = tuple(t for t in text.split(",") if t)
        bad = [t for t in chosen if t not in allowed]
        if bad or not chosen:
            raise argparse.ArgumentTypeError(f"choose from {','.join(allowed)}")
        return chosen

    return parse


def add_bench_parser(sub: Any) -> None:
    """Add ``xsell bench`` to the ``xsell`` sub-parsers."""
    from xsell.ops.orders_csv import ONLINE_RETAIL_MAP, ONLINE_RETAIL_SKIP

    p = sub.add_parser(
        "bench",
        help="measure throughput, latency and costs against a "
        "passthrough and a naive agent (docs/benchmarks.md)",
    )
    p.add_argument(
        "target",
        nargs="?",
        choices=("workers", "api"),
        default="workers",
        help="workers (default): the stream path against a passthrough and a naive agent; "
        "api: the HTTP API against its bare /healthz and the broker hops of a passthrough",
    )
    p.add_argument(
        "--events", type=positive, default=10_000, help="events per scenario run (default 10,000)"
    )
    api = p.add_argument_group("xsell bench api")
    api.add_argument("--seconds", type=float, default=10.0, help="per fixed-rate run (10)")
    api.add_argument("--complements-rate", type=float, default=500.0, help="req/s (500)")
    api.add_argument("--latest-rate", type=float, default=1000.0, help="req/s (1000)")
    api.add_argument("--streams", type=positive, default=500, help="open streams (500)")
    api.add_argument("--events-rate", type=float, default=100.0, help="events/s posted (100)")
    p.add_argument(
        "--rate", type=float, default=1000.0, help="events/s of the fixed-rate runs (default 1000)"
    )
    p.add_argument(
        "--repeat",
        type=positive,
        default=3,
        help="runs per scenario; figures are medians (default 3)",
    )
    p.add_argument(
        "--orders",
        type=Path,
        default=None,
        help="orders CSV for the state and the events (default: the shared Online Retail II file)",
    )
    p.add_argument("--map", default=ONLINE_RETAIL_MAP, help="column map of --orders")
    p.add_argument("--skip-items", default=ONLINE_RETAIL_SKIP, help="item ids to drop")
    p.add_argument(
        "--history", type=int, default=0, help="backfill only the first N orders (default 0 = all)"
    )
    p.add_argument(
        "--backfill-mode",
        choices=("auto", "bulk", "stream"),
        default="auto",
        help="how the history is loaded (xsell backfill --mode; default auto: "
        "bulk into the bench's fresh namespace)",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=30.0,
        help="stop sending after this long in a run (default 30)",
    )
    p.add_argument(
        "--drain-seconds",
        type=float,
        default=5.0,
        help="then wait this long at most for the rest (default 5)",
    )
    p.add_argument(
        "--agents",
        type=_choices((*AGENTS, *EXTRA_AGENTS)),
        default=AGENTS,
        help=f"comma-separated subset of {','.join((*AGENTS, *EXTRA_AGENTS))} (default: the "
        "first three; xsell-noattr: xsell with XSELL_ATTRIBUTION=false, the report's cost; "
        "xsell-notune: xsell with XSELL_SELF_TUNING=false, self-tuning's cost)",
    )
    p.add_argument(
        "--mixes",
        type=_choices(MIXES),
        default=MIXES,
        help=f"comma-separated subset of {','.join(MIXES)}",
    )
    p.add_argument(
        "--profile",
        type=Path,
        help="also profile the xsell worker (cart mix, full speed) with py-spy "
        "into this file (collapsed stacks) and print its top costs",
    )
    p.add_argument(
        "--workers",
        type=positive,
        default=1,
        help="worker processes per run, in one consumer group (default 1)",
    )
    p.add_argument(
        "--fetch-wait-ms",
        type=int,
        default=10,
        help="the bench workers' Kafka fetch wait (default 10; 0 = "
        "XSELL_KAFKA_FETCH_MAX_WAIT_MS, which Tansu always waits out: see docs/benchmarks.md)",
    )
    p.add_argument(
        "--notify",
        action="store_true",
        help="measure the notification triggers instead: the worker's added cost per cart "
        "event of keeping the schedule, and due notifications claimed and published per "
        "second, each with its baseline (--events, --repeat apply)",
    )
    p.add_argument(
        "--rules",
        action="store_true",
        help="measure the merchant rules instead: the time 1,000 rules add to a suggestion "
        "against no rule, side by side on the same requests (--rules-requests apply)",
    )
    p.add_argument(
        "--rules-requests",
        type=positive,
        default=2000,
        help="cart requests ranked with and without the rules (default 2,000)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(fn=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    import logging

    from xsell.models.errors import XsellError

    with harness("bench"):
        from xsell.bench.report import table
        from xsell.bench.runner import BenchOptions, run_bench
        from xsell.devenv.shared_data import ONLINE_RETAIL_FILE

    cli_settings(args)  # validates the settings, sets up logging
    env = {k: v for k, v in os.environ.items() if k.startswith("XSELL_")}
    if args.notify:
        with harness("bench"):
            from xsell.bench.notify_bench import run_notify_bench
        figures = run_notify_bench(env, args.events, args.repeat)
        figures["command"] = "xsell " + " ".join(sys.argv[1:])
        print(
            json.dumps(figures) if args.json else "\n".join(f"{k}: {v}" for k, v in figures.items())
        )
        return 0
    if args.rules:
        with harness("bench"):
            from xsell.bench.rules_bench import rules_table, run_rules_bench
        rep = run_rules_bench(env, args.rules_requests)
        rep["command"] = "xsell " + " ".join(sys.argv[1:])
        print(json.dumps(rep) if args.json else rules_table(rep))
        return 0
    args.orders = args.orders or ONLINE_RETAIL_FILE
    if args.target == "api":
        return _bench_api(args)
    for noisy in ("kafka", "aiokafka", "xsell.devenv.servers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not args.orders.is_file():
        raise XsellError(f"orders file {args.orders} not found (--orders FILE)")
    opts = BenchOptions(
        orders_file=args.orders,
        map=args.map,
        skip_items=args.skip_items,
        events=args.events,
        rate=args.rate,
        repeat=args.repeat,
        history=args.history,
        backfill_mode=args.backfill_mode,
        max_seconds=args.max_seconds,
        drain_seconds=args.drain_seconds,
        agents=args.agents,
        mixes=args.mixes,
        profile=args.profile,
        progress=not args.json,
        fetch_wait_ms=args.fetch_wait_ms,
        workers=args.workers,
    )
    report = run_bench(opts, env)
    report["command"] = "xsell " + " ".join(sys.argv[1:])
    print(json.dumps(report) if args.json else table(report))
    return 0


def _bench_api(args: argparse.Namespace) -> int:
    import logging

    from xsell.models.errors import XsellError

    with harness("bench"):
        from xsell.bench.api_bench import ApiBenchOptions, run_api_bench
        from xsell.bench.api_report import table

    for noisy in ("kafka", "aiokafka", "xsell.devenv", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not args.orders.is_file():
        raise XsellError(f"orders file {args.orders} not found (--orders FILE)")
    opts = ApiBenchOptions(
        orders_file=args.orders,
        map=args.map,
        skip_items=args.skip_items,
        history=args.history,
        seconds=args.seconds,
        complements_rate=args.complements_rate,
        latest_rate=args.latest_rate,
        streams=args.streams,
        events_rate=args.events_rate,
        progress=not args.json,
    )
    report = run_api_bench(opts)
    report["command"] = "xsell " + " ".join(sys.argv[1:])
    print(json.dumps(report) if args.json else table(report))
    return 0
