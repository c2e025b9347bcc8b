"""Helpers every command shares: settings from the arguments, a store that fails fast, the
orders file arguments, one-line summaries, and the guard of the harness commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from xsell.config.logs import setup_logging
from xsell.config.settings import Settings, load_settings, require_safe
from xsell.models.errors import XsellError
from xsell.models.text import fields, number

T = TypeVar("T")
CONNECT_SECONDS = 5.0  # how long a command waits for Redis before it says it is unreachable


def cli_settings(args: argparse.Namespace, *, check: bool = True) -> Settings:
    """The settings of a command (``--config``, ``--namespace`` where the command has it);
    with ``check``, an unsafe setup is refused unless XSELL_ALLOW_UNSAFE."""
    if getattr(args, "config", None):
        os.environ["XSELL_CONFIG"] = args.config
    overrides = {}
    if getattr(args, "namespace", None):
        overrides["key_namespace"] = args.namespace
    settings = load_settings(**overrides)
    setup_logging(settings.ops.log_level, settings.secret_values())
    if check:
        require_safe(settings)
    return settings


def with_store(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn(store)`` on an open store, closed afterwards. Redis is asked first, for at
    most CONNECT_SECONDS: a command says at once, in one line, that it is unreachable, where
    a worker would wait for it (``XSELL_REDIS_RETRY_SECONDS``)."""
    from xsell.store import Store, require_redis

    async def run() -> T:
        await require_redis(settings, CONNECT_SECONDS)
        store = await Store.open(settings)
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(run())


def add_file_args(p: argparse.ArgumentParser, *, name: str = "file") -> None:
    """The orders-file arguments of backfill, replay, eval, rebuild ..."""
    if name == "file":
        p.add_argument("file", help="orders CSV (.csv or .csv.gz)")
    p.add_argument("--map", help="NAME=COLUMN,... e.g. order_id=Invoice,item_id=StockCode")
    p.add_argument("--skip-items", help="comma-separated item ids to drop (non-products)")


def read_orders_file(
    path: str, args: argparse.Namespace, settings: Settings
) -> tuple[list[Any], Any]:
    """(orders, reading statistics) of an orders CSV given with ``--map`` / ``--skip-items``."""
    from xsell.ops.orders_csv import load_orders

    return load_orders(path, args.map, args.skip_items, settings.limits)


def summary_text(title: str, result: dict[str, Any]) -> str:
    """``title:`` and a ``key: value`` line per figure (nested ones indented)."""
    return "\n".join([f"{title}:", *fields(result)])


def backfill_text(result: dict[str, Any]) -> str:
    """``xsell backfill``'s summary, led by the wall time of the whole command (reading the
    file included: the load's own ``seconds`` alone understated it)."""
    head = (
        f"backfill: {number(result['orders'])} orders in {number(result['wall_seconds'])} s "
        f"(reading the file {number(result['read_seconds'])} s, "
        f"loading {number(result['seconds'])} s)"
    )
    rest = {k: v for k, v in result.items() if k not in ("wall_seconds", "read_seconds")}
    return "\n".join([head, *fields(rest)])


def status_text(result: dict[str, Any]) -> str:
    """``xsell status`` for people: the state, then one aligned line per figure, nested
    figures (tuning, notifications) as indented lines, never a dict's repr."""
    shown = {k: v for k, v in result.items() if k not in ("state", "orders_unit")}
    if shown.get("orders") is not None:
        shown["orders"] = f"{number(shown['orders'])} {result['orders_unit']}"
    if shown.get("latest_event_ts") is not None:  # an instant, not an amount: no separators
        shown["latest_event_ts"] = str(shown["latest_event_ts"])
    return "\n".join([f"state: {result['state']}", *fields(shown)])


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


@contextlib.contextmanager
def harness(command: str) -> Iterator[None]:
    """Around the imports of a harness command (demo, eval, bench, chaos ...): the wheel and
    the image ship without the harness, and there the command says so in one line."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith(
            ("xsell.devenv", "xsell.verify", "xsell.bench", "xsell.evaluation")
        ):
            raise
        raise XsellError(
            f"`xsell {command}` is part of the development harness ({exc.name}), "
            "which this installation does not include: run it from a clone of "
            "the repository (bash .ci/setup)"
        ) from None
