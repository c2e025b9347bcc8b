"""``xsell eval``: its arguments and command (a harness command: :mod:`xsell.cli.harness`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from xsell.cli.common import add_file_args, cli_settings, harness, positive, read_orders_file


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
        )
        print(json.dumps(brep) if args.json else bundle_table(brep))
        return 0
    if args.post_purchase:
        with harness("eval"):
            from xsell.evaluation.post_purchase import evaluate_post_purchase, post_purchase_table
        prep = evaluate_post_purchase(settings, orders, name, catalog=list(stats.catalog.values()))
        print(json.dumps(prep) if args.json else post_purchase_table(prep))
        return 0
    if args.cart_personal:
        with harness("eval"):
            from xsell.evaluation.personal_run import evaluate_personal, personal_table
        crep = evaluate_personal(
            settings,
            orders,
            name,
            progress=not args.json,
            catalog=list(stats.catalog.values()),
            shoppers=args.shoppers or None,
        )
        print(json.dumps(crep) if args.json else personal_table(crep))
        return 0
    if args.promote_share:
        with harness("eval"):
            from xsell.evaluation.promote import evaluate_promote, promote_table
        prep = evaluate_promote(
            settings,
            orders,
            name,
            args.promote_share,
            seed=args.promote_seed,
            catalog=list(stats.catalog.values()),
            progress=not args.json,
            shoppers=args.shoppers or None,
            **({"ratios": args.promote_ratios} if args.promote_ratios else {}),
        )
        print(json.dumps(prep) if args.json else promote_table(prep))
        return 0
    rep = evaluate(
        settings,
        orders,
        name,
        progress=not args.json,
        through_kafka=args.through_kafka,
        catalog=list(stats.catalog.values()),
        shoppers=args.shoppers or None,
        train_only=args.train_only,
    )
    print(json.dumps(rep) if args.json else table(rep))
    return 0


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError("a share in (0, 1]")
    return value


def _ratios(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError("numbers in [0, 1], comma-separated") from exc
    if not values or any(not 0 <= v <= 1 for v in values):
        raise argparse.ArgumentTypeError("numbers in [0, 1], comma-separated")
    return values


def add_eval_parser(sub: Any) -> None:
    """Add ``xsell eval`` to the ``xsell`` sub-parsers."""
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
        "--promote-share",
        type=_share,
        default=0.0,
        help="tag this share of the items 'promoted' and measure a promote rule: HR@k with "
        "and without it, how often it gets its slot (docs/rules.md#measured)",
    )
    ev.add_argument(
        "--promote-seed", type=int, default=0, help="seed of the promoted items (default 0)"
    )
    ev.add_argument(
        "--promote-ratios",
        type=_ratios,
        default=None,
        help="the curve's min_score_ratio values, comma-separated (default "
        "0,0.05,0.1,0.25,0.3,0.35,0.4,0.5; 0, the rule's default, is always measured)",
    )
    ev.add_argument(
        "--post-purchase",
        action="store_true",
        help="3 suggestions right after a known user's order, a hit when the user's next order "
        "(within 30 days) holds one (docs/evaluation.md#post-purchase)",
    )
    ev.add_argument(
        "--cart-personal",
        action="store_true",
        help="the cart protocol under the orders' real user ids (history, buy-again), HR@k per "
        "group (returning, first, anonymous) and form (any, explore) "
        "(docs/evaluation.md#cart-personal)",
    )
    ev.add_argument(
        "--train-only",
        action="store_true",
        help="anchors learn from the training split only (default: each test order too, once "
        "scored)",
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(fn=cmd_eval)
