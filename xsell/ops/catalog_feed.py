"""``xsell catalog load``: a product feed (xsell/connect/feeds.py) checked by the worker's own
parser and sent to the catalog topic, keyed by item id, as ``POST /v1/events`` would send it;
with ``--watch``, again each time the file changes (its size or modification time)."""

from __future__ import annotations

import gzip
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xsell.config.settings import Settings
from xsell.connect.common import Malformed, Record
from xsell.connect.feeds import format_of, read_feed
from xsell.kafka_clients import producer, send_json
from xsell.models.errors import InvalidEvent
from xsell.models.validate import parse_record

log = logging.getLogger(__name__)


@dataclass
class CatalogLoad:
    """What a load did: the format read, records sent, rows refused (where, reason)."""

    format: str
    sent: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    topic: str = ""


def read_catalog(
    path: str, fmt: str | None, settings: Settings
) -> tuple[list[Record], CatalogLoad]:
    """The valid catalogue records of the feed at ``path`` and what was refused."""
    chosen = format_of(path, fmt)
    raw = Path(path).read_bytes()
    if path.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    feed = read_feed(raw.decode("utf-8-sig"), chosen)
    load = CatalogLoad(chosen, refused=list(feed.refused), topic=settings.topic("catalog"))
    valid: list[Record] = []
    for record in feed.records:
        try:
            parse_record("catalog", json.dumps(record), settings.limits)
        except InvalidEvent as exc:
            load.refused.append((f"item {str(record.get('item_id'))[:60]!r}", exc.reason))
            continue
        valid.append(record)
    return valid, load


def load_catalog(settings: Settings, path: str, fmt: str | None = None) -> CatalogLoad:
    """Read the feed and send its valid records to the catalog topic (flushed)."""
    records, load = read_catalog(path, fmt, settings)
    if not records:
        return load
    prod = producer(settings)
    try:
        for record in records:
            send_json(prod, load.topic, str(record["item_id"]), record)
        prod.flush()
    finally:
        prod.close()
    load.sent = len(records)
    return load


Stamp = tuple[int, int]  # a file's (modification time in ns, size)


def stamp_of(path: str) -> Stamp | None:
    """The file's stamp; None while it is missing (being replaced, or gone)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def should_reload(loaded: Stamp | None, previous: Stamp | None, current: Stamp | None) -> bool:
    """Reload a watched feed when its stamp differs from the one loaded and has not changed
    since the previous check: a file still being written is read once it has settled, and a
    missing file is never read (the last load stands)."""
    return current is not None and current != loaded and current == previous


def watch_catalog(
    settings: Settings,
    path: str,
    fmt: str | None,
    every: float,
    report: Callable[[CatalogLoad], None],
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Load the feed, then check its stamp every ``every`` seconds and load it again once a
    change has settled (every record again: the catalogue takes the latest of each item),
    until ``stop()``. A load that fails (a malformed file) is reported in the log and
    retried at the next change."""
    loaded = previous = stamp_of(path)
    report(load_catalog(settings, path, fmt))
    while not stop():
        sleep(every)
        current = stamp_of(path)
        if should_reload(loaded, previous, current):
            loaded = current
            try:
                report(load_catalog(settings, path, fmt))
            except (Malformed, OSError, UnicodeDecodeError, EOFError) as exc:
                log.warning("%s: not loaded (%s); waiting for the next change", path, exc)
        previous = current
