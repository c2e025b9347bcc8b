"""``xsell notifications USER_ID [--json]``: a user's pending notifications and recent
decisions (logic: :mod:`xsell.notify.views`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from xsell.cli.common import cli_settings, with_store


def cmd_notifications(args: argparse.Namespace) -> int:
    from xsell.notify.views import decision_text, user_notifications

    settings = cli_settings(args)
    result: dict[str, Any] = with_store(
        settings, lambda store: user_notifications(store, settings, args.user_id)
    )
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"user {result['user_id']}: {len(result['pending'])} pending")
    for p in result["pending"]:
        print(f"  {p['notification_id']} {p['reason']} on {p['channel'] or '-'} at {p['send_at']}")
    print(f"recent decisions ({len(result['decisions'])}, newest first):")
    for entry in result["decisions"]:
        print(decision_text(entry))
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("notifications", help="a user's pending notifications and recent decisions")
    p.add_argument("user_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_notifications)
