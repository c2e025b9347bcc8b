"""``xsell rules list | add FILE | rm RULE_ID | preview ITEM_ID...`` (docs/rules.md).

The commands talk to Redis through the store, as the other operating commands do, not to the
API: they work with no API running and no API key to hand out, and a change reaches every
worker and API process the same way (the version the store bumps)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from xsell.cli.common import cli_settings, with_store
from xsell.models.errors import XsellError


def cmd_rules_list(args: argparse.Namespace) -> int:
    settings = cli_settings(args)
    rules = with_store(settings, lambda store: store.rules.read())
    if args.json:
        print(
            json.dumps(
                {
                    "version": rules.version,
                    "rules": [r.model_dump(mode="json") for r in rules.rules],
                }
            )
        )
        return 0
    print(f"version {rules.version}, {len(rules.rules)} rule(s)")
    for r in sorted(rules.rules, key=lambda r: (-r.priority, r.rule_id)):
        print(f"{r.rule_id}  priority {r.priority:>4}  {r.name}")
    return 0


def cmd_rules_add(args: argparse.Namespace) -> int:
    from xsell.ops.rules import read_rules
    from xsell.store import RulesFull

    settings = cli_settings(args)
    rules = read_rules(args.file)

    async def add(store: Any) -> list[tuple[str, int]]:
        return [await store.rules.add(rule) for rule in rules]

    try:
        made = with_store(settings, add)
    except RulesFull as exc:
        raise XsellError(str(exc)) from None
    for (rule_id, version), rule in zip(made, rules, strict=True):
        print(f"{rule_id}  {rule.name}  (version {version})")
    return 0


def cmd_rules_rm(args: argparse.Namespace) -> int:
    settings = cli_settings(args)
    version = with_store(settings, lambda store: store.rules.delete(args.rule_id))
    if version is None:
        raise XsellError(f"no rule {args.rule_id!r}")
    print(f"deleted {args.rule_id} (version {version})")
    return 0


def cmd_rules_preview(args: argparse.Namespace) -> int:
    from xsell.ops.rules import preview

    settings = cli_settings(args)
    got = with_store(
        settings,
        lambda store: preview(
            store, settings, args.item_ids, args.placement, args.user_id, args.segment
        ),
    )
    if args.json:
        print(json.dumps(got))
        return 0
    print(f"rules version {got['version']}")
    for side in ("with_rules", "without_rules"):
        print(f"{side.replace('_', ' ')}:")
        for o in got[side]:
            rule = (o["because"] or {}).get("rule_id")
            print(
                f"  {o['item_id']:<24} {o['kind']:<10} {o['score']:>8.4f}"
                + (f"  rule {rule}" if rule else "")
            )
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``xsell rules`` to the ``xsell`` sub-parsers."""
    rules = sub.add_parser("rules", help="merchant rules: list, add, rm, preview (docs/rules.md)")
    actions = rules.add_subparsers(dest="rules_action", required=True)
    listing = actions.add_parser("list", help="the saved rules and their version")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(fn=cmd_rules_list)
    add = actions.add_parser("add", help="save the rule (or array of rules) of a JSON file")
    add.add_argument("file", help="a JSON file: one rule or an array of rules")
    add.set_defaults(fn=cmd_rules_add)
    rm = actions.add_parser("rm", help="delete a rule")
    rm.add_argument("rule_id")
    rm.set_defaults(fn=cmd_rules_rm)
    pre = actions.add_parser("preview", help="the offers for items with and without the rules")
    pre.add_argument("item_ids", nargs="+", metavar="ITEM_ID", help="the cart, in added order")
    pre.add_argument("--placement", default="product_page", help="(default product_page)")
    pre.add_argument("--user-id", help="whose cart and purchases count")
    pre.add_argument("--segment", help="the shopper's segment")
    pre.add_argument("--json", action="store_true", help="print JSON")
    pre.set_defaults(fn=cmd_rules_preview)
