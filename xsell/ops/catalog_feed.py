"""``xsell catalog load``: a product feed (xsell/connect/feeds.py) checked by the worker's own
parser and sent to the catalog topic, keyed by item id, as ``POST /v1/events`` would send it."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

from xsell.config.settings import Settings
from xsell.connect.common import Record
from xsell.connect.feeds import format_of, read_feed
from xsell.kafka_clients import producer, send_json
from xsell.models.errors import InvalidEvent
from xsell.models.validate import parse_record


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
