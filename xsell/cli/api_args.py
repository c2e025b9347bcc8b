"""``xsell api`` (serve the HTTP API), ``xsell api token USER_ID`` (mint a user token) and
``xsell keys new`` (print a fresh random secret)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from xsell.cli.common import cli_settings, positive


def cmd_api(args: argparse.Namespace) -> int:
    from xsell.api.server import run_api

    run_api(cli_settings(args, check=False))  # run_api checks, with the API's own reasons
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from xsell.api.tokens import mint
    from xsell.models.errors import ConfigError

    settings = cli_settings(args, check=False)
    if settings.api.user_token_secret is None:
        raise ConfigError("XSELL_API_USER_TOKEN_SECRET is not set: no token can be signed")
    ttl = args.ttl or settings.api.user_token_ttl_seconds
    secret = settings.api.user_token_secret.get_secret_value().encode()
    print(mint(secret, args.user_id, int(time.time()) + ttl))
    return 0


def cmd_keys_new(args: argparse.Namespace) -> int:
    """Reads no settings: it must work where the configured secrets are refused."""
    from xsell.config.strength import new_secret

    for _ in range(args.count):
        print(new_secret())
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``xsell api`` to the ``xsell`` sub-parsers."""
    api = sub.add_parser(
        "api",
        help="serve the HTTP API (docs/contract.md); `xsell api token USER_ID` prints a user token",
    )
    api.set_defaults(fn=cmd_api)
    actions = api.add_subparsers(dest="api_action")
    token = actions.add_parser("token", help="print a user token for USER_ID (for a public key)")
    token.add_argument("user_id")
    token.add_argument(
        "--ttl",
        type=positive,
        default=0,
        help="seconds it stays valid (default XSELL_API_USER_TOKEN_TTL_SECONDS)",
    )
    token.set_defaults(fn=cmd_token)
    keys = sub.add_parser(
        "keys",
        help="`xsell keys new`: print a fresh random secret (an API key or token secret)",
    )
    key_actions = keys.add_subparsers(dest="keys_action", required=True)
    new = key_actions.add_parser(
        "new",
        help="print a random 256-bit secret (43 URL-safe characters) for XSELL_API_KEYS, "
        "XSELL_API_PUBLIC_KEYS or XSELL_API_USER_TOKEN_SECRET",
    )
    new.add_argument("--count", type=positive, default=1, help="how many (one a line)")
    new.set_defaults(fn=cmd_keys_new)
