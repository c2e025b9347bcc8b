"""Reliability commands of the CLI: ``chaos``, ``outage``, ``status``, ``rebuild``
(docs/reliability.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# = xsell.verify.outages.SCENARIOS (not imported here: it pulls numpy and Kafka into every command)
SCENARIOS = ("redis-pause", "redis-restart", "redis-lost", "broker-pause", "broker-restart")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cmd_chaos(args: argparse.Namespace) -> int:
    from xsell.verify.chaos import ChaosConfig, run_chaos, summary_text
    from config.logs import setup_logging

    setup_logging("WARNING")
    cfg = ChaosConfig(
        orders=args.orders,
        kills=args.kills,
        workers=args.workers,
        seed=args.seed,
        compare_backfill=not args.no_backfill,
        timeout=args.timeout,
        say=_say,
    )
    if args.file:
        cfg.file, cfg.map, cfg.skip_items = Path(args.file), args.map or "", args.skip_items or ""
    result = run_chaos(cfg)
    print(json.dumps(result, indent=1) if args.json else summary_text(result))
    return 0 if result["ok"] else 1


def cmd_outage(args: argparse.Namespace) -> int:
    from config.logs import setup_logging
    from xsell.verify.outages import run_outage
    from xsell.devenv.synthetic_shop import Shop

    setup_logging("WARNING")
    orders = Shop(seed=args.seed).orders(args.orders, seed=args.seed)
    results = []
    for kind in SCENARIOS if args.scenario == "all" else [args.scenario]:
        result = run_outage(kind, orders, seconds=args.seconds, say=_say)
        if not args.json:
            result.pop("state", None)
        results.append(result)
        if not args.json:
            print(
                f"{kind}: {'PASS' if result['ok'] else 'FAIL'} "
                + ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("scenario", "ok"))
            )
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if all(r["ok"] for r in results) else 1


def cmd_status(args: argparse.Namespace) -> int:
    from xsell.cli import _settings, _with_store
    from xsell.ops.state import state_status

    settings = _settings(args)
    result: dict[str, Any] = _with_store(
        settings, lambda store: state_status(store, check_kafka=not args.no_kafka)
    )
    if args.json:
        print(json.dumps(result))
    else:
        print(f"state: {result['state']}")
        for key, value in result.items():
            if key != "state":
                print(f"  {key}: {value}")
    return 3 if result["state"] == "lost" else 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from xsell.cli import _orders, _settings, _with_store
    from xsell.ops.loading import backfill
    from xsell.ops.state import mark_rebuilt, rebuild

    settings = _settings(args)
    if args.file:
        orders, stats = _orders(args, settings)

        async def from_file(store: Any) -> dict[str, Any]:
            summary = await backfill(
                store, orders, total=len(orders), catalog=stats.catalog.values()
            )
            await mark_rebuilt(store)
            return {"source": args.file, **summary.as_dict()}

        result = _with_store(settings, from_file)
    else:

        async def from_kafka(store: Any) -> dict[str, Any]:
            return {"source": "kafka", **(await rebuild(store, idle=args.idle)).as_dict()}

        result = _with_store(settings, from_kafka)
    print(
        json.dumps(result)
        if args.json
        else "rebuild: " + ", ".join(f"{k}={v}" for k, v in result.items())
    )
    return 0


def _workers(text: str) -> int:
    if text not in ("1", "2"):
        raise argparse.ArgumentTypeError("1 or 2")
    return int(text)


def add_parsers(sub: Any) -> None:
    """Add the reliability subcommands to the ``xsell`` sub-parsers."""
    ch = sub.add_parser(
        "chaos",
        help="kill -9 workers while they stream real orders; check "
        "the Redis state against the batch truth",
    )
    ch.add_argument("--orders", type=int, default=20_000, help="orders to stream (20,000)")
    ch.add_argument("--kills", type=int, default=10, help="kill -9 this many times (10)")
    ch.add_argument("--workers", type=_workers, default=1, help="workers in the group: 1 or 2")
    ch.add_argument("--seed", type=int, default=1, help="random seed of the kill moments")
    ch.add_argument("--file", help="orders CSV (default: the shared Online Retail II file)")
    ch.add_argument("--map", help="column map of --file")
    ch.add_argument("--skip-items", help="item ids to drop from --file")
    ch.add_argument(
        "--no-backfill",
        action="store_true",
        help="skip the comparison with `xsell backfill` (numpy truth only)",
    )
    ch.add_argument("--timeout", type=float, default=3600.0, help="give up after (s)")
    ch.add_argument("--json", action="store_true")
    ch.set_defaults(fn=cmd_chaos)
    ou = sub.add_parser(
        "outage",
        help="stop Redis or the broker under a streaming worker; "
        "check it waits, catches up and loses nothing",
    )
    ou.add_argument(
        "scenario", choices=[*SCENARIOS, "all"], help="what to take away (docs/reliability.md)"
    )
    ou.add_argument("--seconds", type=float, default=10.0, help="outage length (10 s)")
    ou.add_argument("--orders", type=int, default=1500, help="synthetic orders (1,500)")
    ou.add_argument("--seed", type=int, default=1)
    ou.add_argument("--json", action="store_true")
    ou.set_defaults(fn=cmd_outage)
    st = sub.add_parser("status", help="is the Redis state present, empty or lost? (exit 3: lost)")
    st.add_argument("--no-kafka", action="store_true", help="do not look at the orders topic")
    st.add_argument("--json", action="store_true")
    st.set_defaults(fn=cmd_status)
    rb = sub.add_parser(
        "rebuild",
        help="rebuild the Redis state from the Kafka topics (or --file) after a loss; idempotent",
    )
    rb.add_argument("--file", help="rebuild from an orders CSV instead of Kafka")
    rb.add_argument("--map", help="column map of --file")
    rb.add_argument("--skip-items", help="item ids to drop from --file")
    rb.add_argument(
        "--idle",
        type=float,
        default=2.0,
        help="stop after the end offsets and this many quiet seconds (2)",
    )
    rb.add_argument("--json", action="store_true")
    rb.set_defaults(fn=cmd_rebuild)
