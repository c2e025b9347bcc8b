"""``xsell support USER_ID [--k K] [--json]``: what a support agent can offer a customer from
their purchases, each offer explained by the owned item it goes with (logic:
:mod:`xsell.ops.support`; in the API: ``GET /v1/users/{user_id}/recommendations``,
``placement=support``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from xsell.cli.common import cli_settings, with_store


def cmd_support(args: argparse.Namespace) -> int:
    from xsell.engine import Engine, offer_json
    from xsell.models.experiments import variant_of
    from xsell.ops.support import support_view

    settings = cli_settings(args)

    async def go(store: Any) -> dict[str, Any]:
        engine = Engine(store, settings)
        variant = variant_of(engine.experiment, args.user_id)
        k = args.k or settings.ranking.max_suggestions
        view = await support_view(engine, args.user_id, k, variant)
        return {
            "user_id": args.user_id,
            "segment": view.segment.as_json(),
            "owned": view.anchors,
            "items": [offer_json(o) for o in view.offers],
        }

    result = with_store(settings, go)
    if args.json:
        print(json.dumps(result))
        return 0
    seg = result["segment"]
    print(f"user {result['user_id']}: {seg['lifecycle']}, spend {seg['spend'] or '-'}")
    if not result["owned"]:
        print("  no purchase history: nothing to offer from it")
        return 0
    for offer in result["items"]:
        print(f"  {offer['item_id']}: goes with {offer['because']['item_id']} (owned)")
    if not result["items"]:
        print("  no explained complement of what the user owns")
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "support", help="what to offer a customer from their purchases (support console)"
    )
    p.add_argument("user_id")
    p.add_argument("--k", type=int, default=None, help="at most this many (XSELL_MAX_SUGGESTIONS)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_support)
