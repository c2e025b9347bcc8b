"""The harness commands: ``demo``, ``eval``, ``hostile``, ``chaos``, ``outage``, ``soak`` (and
``bench`` in :mod:`xsell.cli.bench_args`). They prove or measure xsell rather than run it:
their code lives in ``xsell/devenv``, ``xsell/verify``, ``xsell/evaluation`` and
``xsell/bench``, which the wheel and the image leave out. Each command imports it inside
:func:`harness`, which says so in one line where it is absent."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from xsell.cli.common import (
    add_file_args,
    cli_settings,
    harness,
    positive,
    read_orders_file,
    summary_text,
)
from xsell.config.logs import setup_logging

# = xsell.verify.outages.SCENARIOS (kept here so that the parser needs no harness; tested)
OUTAGE_SCENARIOS = ("redis-pause", "redis-restart", "redis-lost", "broker-pause", "broker-restart")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    with harness("demo"):
        from xsell.devenv.demo import DemoOptions, run_demo

    return run_demo(
        DemoOptions(
            orders=args.orders,
            map=args.map,
            skip_items=args.skip_items,
            seconds=args.seconds,
            rate=args.rate,
        )
    )


def cmd_eval(args: argparse.Namespace) -> int:
    with harness("eval"):
        from xsell.evaluation.runner import evaluate, table

    settings = cli_settings(args)
    if args.k:
        settings = settings.model_copy(update={"max_suggestions": args.k})
    orders, stats = read_orders_file(args.orders, args, settings)
    name = Path(args.orders).name.split(".")[0]
    if args.bundles:
        with harness("eval"):
            from xsell.evaluation.bundles import bundle_table, evaluate_bundles
        brep = evaluate_bundles(
            settings,
            orders,
            name,
            catalog=list(stats.catalog.values()),
            progress=not args.json,
            own_redis="XSELL_REDIS_URL" not in os.environ,
        )
        print(json.dumps(brep) if args.json else bundle_table(brep))
        return 0
    if args.post_purchase:
        with harness("eval"):
            from xsell.evaluation.post_purchase import evaluate_post_purchase, post_purchase_table
        prep = evaluate_post_purchase(settings, orders, name, catalog=list(stats.catalog.values()))
        print(json.dumps(prep) if args.json else post_purchase_table(prep))
        return 0
    rep = evaluate(
        settings,
        orders,
        name,
        progress=not args.json,
        through_kafka=args.through_kafka,
        catalog=list(stats.catalog.values()),
        shoppers=args.shoppers or None,
    )
    print(json.dumps(rep) if args.json else table(rep))
    return 0


def cmd_hostile(args: argparse.Namespace) -> int:
    with harness("hostile"):
        from xsell.verify.hostile_cases import generate
        from xsell.verify.hostile_check import passed, replace_ns, run_local, send_cases

    settings = cli_settings(args)
    cases = list(
        generate(args.count, seed=args.seed, valid_every=args.valid_every, big=not args.no_big)
    )
    if args.send:
        sent = send_cases(settings, cases)
        result: dict[str, Any] = {
            "sent": len(sent),
            "bad": sum(not c.valid for c in cases),
            "valid": sum(c.valid for c in cases),
            "ok": True,
        }
    else:
        import asyncio

        local = replace_ns(settings, args.namespace or settings.redis.key_namespace + "-hostile")
        result = asyncio.run(
            run_local(local, cases, batch=settings.worker.batch_size, keep=args.keep)
        )
        result["ok"] = passed(result)
    print(json.dumps(result) if args.json else summary_text("hostile", result))
    return 0 if result["ok"] else 1


def cmd_chaos(args: argparse.Namespace) -> int:
    with harness("chaos"):
        from xsell.verify.chaos import ChaosConfig, run_chaos
        from xsell.verify.chaos import summary_text as chaos_summary

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
    print(json.dumps(result, indent=1) if args.json else chaos_summary(result))
    return 0 if result["ok"] else 1


def cmd_outage(args: argparse.Namespace) -> int:
    with harness("outage"):
        from xsell.devenv.synthetic_shop import Shop
        from xsell.verify.outages import run_outage

    setup_logging("WARNING")
    orders = Shop(seed=args.seed).orders(args.orders, seed=args.seed)
    results = []
    for kind in OUTAGE_SCENARIOS if args.scenario == "all" else [args.scenario]:
        result = run_outage(kind, orders, seconds=args.seconds, say=_say)
        if not args.json:
            result.pop("state", None)
            print(
                f"{kind}: {'PASS' if result['ok'] else 'FAIL'} "
                + ", ".join(f"{k}={v}" for k, v in result.items() if k not in ("scenario", "ok"))
            )
        results.append(result)
    if args.json:
        print(json.dumps(results, indent=1))
    return 0 if all(r["ok"] for r in results) else 1


def cmd_soak(args: argparse.Namespace) -> int:
    with harness("soak"):
        from xsell.bench.soak import SoakConfig, run_soak, table_text
        from xsell.bench.soak_plot import soak_svg

    setup_logging("WARNING")
    cfg = SoakConfig(
        minutes=args.minutes,
        every=args.every,
        horizon=args.horizon,
        window=args.window,
        inflight=args.inflight,
        say=_say,
    )
    if args.file:
        cfg.file, cfg.map, cfg.skip_items = Path(args.file), args.map or "", args.skip_items or ""
    result = run_soak(cfg)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    if args.plot:
        Path(args.plot).write_text(soak_svg(result))
    print(table_text(result))
    return 0 if result["worker_alive"] and not result["worker_tracebacks"] else 1


def _workers(text: str) -> int:
    if text not in ("1", "2"):
        raise argparse.ArgumentTypeError("1 or 2")
    return int(text)


def add_parsers(sub: Any) -> None:
    """Add the harness commands (but bench) to the ``xsell`` sub-parsers."""
    demo = sub.add_parser("demo", help="run everything locally and show live suggestions")
    demo.add_argument("--orders", help="orders CSV to feed instead of the synthetic shop")
    add_file_args(demo, name="--orders")
    demo.add_argument(
        "--seconds", type=float, default=0, help="stop after this many seconds (0 = until Ctrl-C)"
    )
    demo.add_argument("--rate", type=float, default=20.0, help="events per second shown")
    demo.set_defaults(fn=cmd_demo)
    ev = sub.add_parser("eval", help="offline quality of xsell against baselines")
    ev.add_argument("--orders", required=True, help="orders CSV (.csv or .csv.gz)")
    add_file_args(ev, name="--orders")
    ev.add_argument(
        "--k",
        type=positive,
        default=0,
        help="suggestions per trigger (default: XSELL_MAX_SUGGESTIONS)",
    )
    ev.add_argument(
        "--through-kafka",
        action="store_true",
        help="send every event through the broker and a worker",
    )
    ev.add_argument(
        "--shoppers",
        type=positive,
        default=0,
        help="test carts open at once in the replay (default 500; 1 = one event at a time, as "
        "--through-kafka does)",
    )
    ev.add_argument(
        "--bundles",
        action="store_true",
        help="bundles of 3: full and partial attach of xsell's against the anchors' "
        "(docs/evaluation.md#bundles)",
    )
    ev.add_argument(
        "--post-purchase",
        action="store_true",
        help="3 suggestions right after a known user's order, a hit when the user's next order "
        "(within 30 days) holds one (docs/evaluation.md#post-purchase)",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(fn=cmd_eval)
    ho = sub.add_parser(
        "hostile",
        help="feed generated bad input through the handler and check it (docs/security.md)",
    )
    ho.add_argument("--count", type=positive, default=10_000, help="bad records (10,000)")
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
    add_file_args(ch, name="--file")
    ch.add_argument(
        "--no-backfill",
        action="store_true",
        help="skip the comparison with `xsell backfill` (numpy truth only)",
    )
    ch.add_argument("--timeout", type=float, default=3600.0, help="give up after (s)")
    ch.add_argument("--json", action="store_true")
    ch.set_defaults(fn=cmd_chaos)
    so = sub.add_parser(
        "soak",
        help="run a worker at full speed for minutes; sample Redis memory and the "
        "idempotency keys every minute (table, JSON, SVG plot)",
    )
    so.add_argument("--minutes", type=float, default=30.0, help="how long (30)")
    so.add_argument("--every", type=float, default=60.0, help="seconds between samples (60)")
    so.add_argument("--horizon", type=positive, default=180, help="worker's dedup horizon (180 s)")
    so.add_argument("--window", type=positive, default=60, help="worker's dedup window (60 s)")
    so.add_argument("--inflight", type=positive, default=2000, help="events unanswered (2,000)")
    so.add_argument("--file", help="orders CSV (default: the shared Online Retail II file)")
    add_file_args(so, name="--file")
    so.add_argument("--out", help="write the samples and summary here (JSON)")
    so.add_argument("--plot", help="write the plot here (SVG)")
    so.set_defaults(fn=cmd_soak)
    ou = sub.add_parser(
        "outage",
        help="stop Redis or the broker under a streaming worker; "
        "check it waits, catches up and loses nothing",
    )
    ou.add_argument(
        "scenario",
        choices=[*OUTAGE_SCENARIOS, "all"],
        help="what to take away (docs/reliability.md)",
    )
    ou.add_argument("--seconds", type=float, default=10.0, help="outage length (10 s)")
    ou.add_argument("--orders", type=int, default=1500, help="synthetic orders (1,500)")
    ou.add_argument("--seed", type=int, default=1)
    ou.add_argument("--json", action="store_true")
    ou.set_defaults(fn=cmd_outage)
