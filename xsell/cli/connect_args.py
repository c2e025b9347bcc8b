"""``xsell catalog load FILE [--watch]`` (a product feed to the catalog topic, again on each
change) and ``xsell connect check shopify|woocommerce`` (a signed sample webhook to a running
API), docs/integrations.md."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any

from xsell.cli.common import cli_settings
from xsell.models.errors import XsellError

if TYPE_CHECKING:
    from xsell.ops.catalog_feed import CatalogLoad

FORMATS = ("jsonl", "csv", "tsv", "xml", "shopify-csv")  # = xsell.connect.feeds.FORMATS (tested)
CHECK_ID = "xsell-connect-check"
# harmless samples: a data request (reads only), a draft product (never suggested)
SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "shopify": (
        "customers/data_request",
        {"shop_id": 0, "customer": {"id": CHECK_ID}, "data_request": {"id": 0}},
    ),
    "woocommerce": (
        "product.updated",
        {"id": CHECK_ID, "name": "xsell connect check", "status": "draft", "price": "1.00"},
    ),
}


def cmd_catalog_load(args: argparse.Namespace) -> int:
    from xsell.connect.common import Malformed
    from xsell.ops.catalog_feed import load_catalog, watch_catalog

    settings = cli_settings(args)
    if args.every is not None and not args.watch:
        raise XsellError("--every needs --watch")
    try:
        if args.watch:
            every = settings.connect.feed_poll_seconds if args.every is None else args.every
            if not 0.1 <= every <= 86_400:
                raise XsellError("--every: 0.1 to 86400 seconds")
            watch_catalog(settings, args.file, args.format, every, lambda load: show(args, load))
            return 0
        load = load_catalog(settings, args.file, args.format)
    except Malformed as exc:
        raise XsellError(exc.reason) from None
    except KeyboardInterrupt:  # the end of --watch
        return 0
    show(args, load)
    return 0 if load.sent or not load.refused else 1


def show(args: argparse.Namespace, load: CatalogLoad) -> None:
    """Print what one load did (flushed: --watch prints one summary per load)."""
    if args.json:
        print(json.dumps({**vars(load), "refused": [list(r) for r in load.refused]}), flush=True)
        return
    print(f"{args.file} ({load.format}): {load.sent} item(s) sent to {load.topic}")
    for where, reason in load.refused[:20]:
        print(f"  refused {where}: {reason}")
    if len(load.refused) > 20:
        print(f"  ... and {len(load.refused) - 20} more refused")
    sys.stdout.flush()


def cmd_connect_check(args: argparse.Namespace) -> int:
    from xsell.connect.common import signature

    settings = cli_settings(args, check=False)
    secret = settings.connect.secret_of(args.platform)
    if secret is None:
        variable = f"XSELL_{args.platform.upper()}_WEBHOOK_SECRET"
        raise XsellError(f"{variable} is not set: the {args.platform} connector is off")
    host = settings.api.host if settings.api.host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = args.url or f"http://{host}:{settings.api.port}"
    topic, sample = SAMPLES[args.platform]
    body = json.dumps(sample).encode()
    if args.platform == "shopify":
        headers = {
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": signature(secret, body),
            "X-Shopify-Webhook-Id": f"{CHECK_ID}-{uuid.uuid4()}",
        }
    else:
        headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature(secret, body)}
    url = f"{base.rstrip('/')}/v1/connect/{args.platform}"
    request = urllib.request.Request(
        url, data=body, headers={**headers, "Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as answer:
            status, text = answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, TimeoutError) as exc:
        raise XsellError(f"{url}: no answer ({getattr(exc, 'reason', exc)})") from None
    print(f"POST {url} ({topic}, signed): {status}")
    print(text)
    return 0 if status == 200 else 1


def add_parsers(sub: Any) -> None:
    """Add ``xsell catalog`` and ``xsell connect`` to the ``xsell`` sub-parsers."""
    catalog = sub.add_parser("catalog", help="`xsell catalog load FILE`: a product feed")
    actions = catalog.add_subparsers(dest="catalog_action", required=True)
    load = actions.add_parser(
        "load",
        help="send a product feed (xsell JSON lines or CSV, Google Merchant TSV or XML, "
        "Shopify product CSV) to the catalog topic",
    )
    load.add_argument(
        "file", help="the feed: a file or an http(s) URL (.jsonl, .csv, .tsv, .xml; .gz too)"
    )
    load.add_argument("--format", choices=FORMATS, help="instead of the file's extension")
    load.add_argument("--json", action="store_true", help="print the summary as JSON")
    load.add_argument(
        "--watch",
        action="store_true",
        help="keep running: load the file again each time it changes (its size or time)",
    )
    load.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="with --watch: check this often (default XSELL_CONNECT_FEED_POLL_SECONDS, 60)",
    )
    load.set_defaults(fn=cmd_catalog_load)
    connect = sub.add_parser("connect", help="`xsell connect check PLATFORM`: test a connector")
    checks = connect.add_subparsers(dest="connect_action", required=True)
    check = checks.add_parser(
        "check", help="send a signed sample webhook to a running API and print its answer"
    )
    check.add_argument("platform", choices=sorted(SAMPLES))
    check.add_argument("--url", help="the API (default http://XSELL_API_HOST:XSELL_API_PORT)")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds (10)")
    check.set_defaults(fn=cmd_connect_check)
