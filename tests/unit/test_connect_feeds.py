"""Product feeds (xsell/connect/feeds.py): each format of tests/fixtures/connect/ to catalogue
records the worker's parser accepts, the refused rows with their line and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xsell.connect.common import Malformed
from xsell.connect.feeds import format_of, read_feed
from xsell.models.events import Limits
from xsell.models.validate import parse_record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "connect"


def feed_of(name: str, fmt: str | None = None):  # type: ignore[no-untyped-def]
    feed = read_feed((FIXTURES / name).read_text(), format_of(name, fmt))
    for record in feed.records:  # every record is one the worker takes
        parse_record("catalog", json.dumps(record), Limits())
    return feed


def test_format_from_the_extension_or_the_option() -> None:
    assert [format_of(n) for n in ("a.jsonl", "b.CSV", "c.tsv", "d.xml", "e.txt.gz")] == [
        "jsonl",
        "csv",
        "tsv",
        "xml",
        "tsv",
    ]
    assert format_of("feed", "shopify-csv") == "shopify-csv"
    with pytest.raises(Malformed, match="give --format"):
        format_of("feed.bin")
    with pytest.raises(Malformed, match="--format: expected one of"):
        format_of("a.csv", "parquet")


def test_xsell_csv() -> None:
    feed = feed_of("catalog.csv")
    assert feed.records[0] == {
        "type": "item",
        "item_id": "phone",
        "name": "Phone X",
        "category": "phones",
        "brand": "Acme",
        "price": 499.0,
        "cost": 350.0,
        "stock": 12.0,
        "active": True,
        "tags": ["new", "5g"],
    }
    assert feed.records[2]["active"] is False and "active" not in feed.records[1]
    assert feed.refused == [
        ("line 5", "item_id: missing"),
        ("line 6", "price: expected a number, got 'cheap'"),
    ]


def test_xsell_jsonl() -> None:
    feed = feed_of("catalog.jsonl")
    assert [r["item_id"] for r in feed.records] == ["phone", "case"]
    assert feed.records[1]["type"] == "item" and feed.records[1]["tags"] == ["new"]
    assert feed.refused == [
        ("line 4", "not JSON"),
        ("line 5", "expected a catalogue record with an item_id"),
    ]


def test_google_merchant_tsv() -> None:
    feed = feed_of("feed.tsv")
    assert feed.records == [
        {
            "type": "item",
            "item_id": "TSHIRT-S",
            "name": "Cotton T-Shirt S",
            "category": "Apparel > Shirts",
            "price": 12.99,
            "brand": "Acme",
        },
        {
            "type": "item",
            "item_id": "SOCKS-3",
            "name": "Socks (3 pairs)",
            "category": "Apparel & Accessories > Clothing > Underwear & Socks",
            "price": 7.5,
            "stock": 0.0,
            "brand": "Acme",
        },
    ]
    assert feed.refused == [("line 4", "id: missing")]


def test_google_merchant_rss_xml() -> None:
    feed = feed_of("feed.xml")
    assert feed.records[0] == {
        "type": "item",
        "item_id": "TSHIRT-S",
        "name": "Cotton T-Shirt S",
        "category": "Apparel > Shirts",
        "price": 12.99,
        "brand": "Acme",
    }
    assert feed.records[1] == {
        "type": "item",
        "item_id": "MUG-1",
        "name": "Enamel Mug",  # RSS's own <title>
        "category": "Home & Garden > Kitchen & Dining",
        "price": 9.0,
        "stock": 0.0,
    }


def test_xml_with_entities_is_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>'
    with pytest.raises(Malformed, match="DOCTYPE"):
        read_feed(bomb, "xml")
    with pytest.raises(Malformed, match="not XML"):
        read_feed("<rss><item>", "xml")


def test_shopify_product_csv_export() -> None:
    feed = feed_of("shopify_products.csv")  # .csv with a Handle column: Shopify's export
    assert feed_of("shopify_products.csv", "shopify-csv").records == feed.records
    shirt = {
        "type": "item",
        "active": True,
        "name": "Example T-Shirt",
        "category": "Shirts",
        "brand": "Acme",
        "tags": ["example", "mens", "t-shirt"],
    }
    assert feed.records == [
        {**shirt, "item_id": "TS-S", "price": 19.99, "stock": 75.0, "cost": 7.5},
        {**shirt, "item_id": "TS-M", "price": 21.0, "stock": 50.0, "cost": 8.0},
        {
            "type": "item",
            "item_id": "plain-mug",  # no Variant SKU: the Handle
            "active": False,  # Status draft
            "name": "Plain Mug",
            "category": "Kitchen",
            "brand": "Acme",
            "price": 9.0,
            "stock": 4.0,
        },
    ]
    assert feed.refused == []


def test_the_command_offers_every_format() -> None:
    from xsell.cli.connect_args import FORMATS as OFFERED
    from xsell.cli.main import parser
    from xsell.connect.feeds import FORMATS

    assert OFFERED == FORMATS
    args = parser().parse_args(["catalog", "load", "f.txt", "--format", "tsv"])
    assert (args.file, args.format) == ("f.txt", "tsv")
    check = parser().parse_args(["connect", "check", "woocommerce", "--url", "http://h:1"])
    assert (check.platform, check.url) == ("woocommerce", "http://h:1")
    with pytest.raises(SystemExit):
        parser().parse_args(["connect", "check", "magento"])
