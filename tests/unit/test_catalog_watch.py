"""`xsell catalog load FILE --watch`: when a watched feed is read again (pure: file stamps)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xsell.connect.feeds import format_of
from xsell.ops.catalog_feed import feed_name, is_url, should_reload, stamp_of

A, B, C = (1, 10), (2, 10), (3, 12)


@pytest.mark.parametrize(
    ("loaded", "previous", "current", "reload"),
    [
        (A, A, A, False),  # unchanged
        (A, A, B, False),  # changed just now: may still be written, wait one check
        (A, B, B, True),  # changed and settled
        (A, B, C, False),  # still changing
        (A, C, C, True),  # settled after changing twice
        (B, B, B, False),  # the settled change is loaded: not again
        (A, None, None, False),  # missing: the last load stands
        (A, A, None, False),
        (A, None, B, False),  # back after being replaced: settle first
        (None, B, B, True),  # missing at start, there now
        (A, A, (1, 11), False),  # same time, another size: a change too (settles next)
        (A, (1, 11), (1, 11), True),
    ],
)
def test_a_watched_feed_is_read_again_once_a_change_has_settled(
    loaded: tuple[int, int] | None,
    previous: tuple[int, int] | None,
    current: tuple[int, int] | None,
    reload: bool,
) -> None:
    assert should_reload(loaded, previous, current) is reload


def test_a_files_stamp_is_its_time_and_size_and_none_when_missing(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    assert stamp_of(str(feed)) is None
    feed.write_text('{"item_id": "a"}\n')
    first = stamp_of(str(feed))
    assert first is not None and first[1] == feed.stat().st_size
    os.utime(feed, ns=(first[0] + 1_000_000_000, first[0] + 1_000_000_000))
    touched = stamp_of(str(feed))
    assert touched is not None and touched != first and touched[1] == first[1]
    feed.write_text('{"item_id": "b"}\n{"item_id": "c"}\n')
    os.utime(feed, ns=(first[0], first[0]))  # the same time again (a copy keeping it)
    assert stamp_of(str(feed)) != first  # the size tells


def test_a_feed_url_is_told_from_a_file_and_its_format_from_its_path() -> None:
    assert is_url("https://shop.example/feeds/products.xml?token=1")
    assert is_url("HTTP://shop.example/f.jsonl") and not is_url("feeds/products.xml")
    assert feed_name("https://shop.example/f/products.tsv.gz?x=.csv") == "/f/products.tsv.gz"
    assert format_of(feed_name("https://shop.example/p.xml?format=csv")) == "xml"
    assert feed_name("local/file.csv") == "local/file.csv"
