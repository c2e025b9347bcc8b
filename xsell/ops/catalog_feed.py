"""``xsell catalog load``: a product feed (xsell/connect/feeds.py) checked by the worker's own
parser and sent to the catalog topic, keyed by item id, as ``POST /v1/events`` would send it;
with ``--watch``, again each time the file changes (its size or modification time)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xsell.config.settings import Settings
from xsell.connect.common import Malformed, Record
from xsell.connect.feeds import format_of, read_feed
from xsell.kafka_clients import producer, send_json
from xsell.models.errors import InvalidEvent, XsellError
from xsell.models.validate import parse_record

log = logging.getLogger(__name__)


class FeedUnavailable(XsellError):
    """A feed URL that did not answer, answered an error, or is over the size limit."""


@dataclass
class CatalogLoad:
    """What a load did: the format read, records sent, rows refused (where, reason)."""

    format: str
    sent: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    topic: str = ""


def is_url(source: str) -> bool:
    """A feed named by an http(s) URL (the shop's own feed), not a file."""
    return source.lower().startswith(("http://", "https://"))


def fetch_feed(url: str, timeout: float, max_bytes: int) -> bytes:
    """The body of the feed at ``url``; a clear error when it does not answer 200 in time or
    is larger than ``max_bytes`` (XSELL_CONNECT_FEED_MAX_BYTES)."""
    request = urllib.request.Request(url, headers={"User-Agent": "xsell-catalog-load"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body: bytes = answer.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FeedUnavailable(f"{url}: answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FeedUnavailable(f"{url}: no answer ({getattr(exc, 'reason', exc)})") from None
    if len(body) > max_bytes:
        raise FeedUnavailable(f"{url}: larger than XSELL_CONNECT_FEED_MAX_BYTES ({max_bytes})")
    return body


def feed_bytes(source: str, settings: Settings) -> bytes:
    """The raw feed: the file, or the URL's body (gzip by a ``.gz`` name: decompressed)."""
    if is_url(source):
        connect = settings.connect
        raw = fetch_feed(source, connect.feed_timeout_seconds, connect.feed_max_bytes)
    else:
        raw = Path(source).read_bytes()
    if feed_name(source).lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw


def feed_name(source: str) -> str:
    """The name whose extension tells the format: a URL's path without its query."""
    return urllib.parse.urlsplit(source).path if is_url(source) else source


def read_catalog(
    path: str, fmt: str | None, settings: Settings
) -> tuple[list[Record], CatalogLoad]:
    """The valid catalogue records of the feed at ``path`` (a file or an http(s) URL) and
    what was refused."""
    chosen = format_of(feed_name(path), fmt)
    raw = feed_bytes(path, settings)
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


Stamp = tuple[int, int]  # a file's (modification time in ns, size); a URL's (size, digest)


def stamp_of(path: str, settings: Settings | None = None) -> Stamp | None:
    """The feed's stamp; None while a file is missing (being replaced, or gone) or a URL
    does not answer. A URL's is its body's size and digest (a feed server's Last-Modified
    and ETag are optional, the body is not)."""
    if is_url(path):
        if settings is None:
            raise ValueError("a URL's stamp needs the settings (timeout, size limit)")
        try:
            body = feed_bytes(path, settings)
        except (FeedUnavailable, OSError, EOFError) as exc:
            log.warning("%s", exc)
            return None
        return (len(body), int.from_bytes(hashlib.sha256(body).digest()[:8], "big"))
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
    loaded = previous = stamp_of(path, settings)
    report(load_catalog(settings, path, fmt))
    while not stop():
        sleep(every)
        current = stamp_of(path, settings)
        if should_reload(loaded, previous, current):
            loaded = current
            try:
                report(load_catalog(settings, path, fmt))
            except (Malformed, FeedUnavailable, OSError, UnicodeDecodeError, EOFError) as exc:
                log.warning("%s: not loaded (%s); waiting for the next change", path, exc)
        previous = current
