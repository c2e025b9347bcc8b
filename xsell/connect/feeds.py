"""Product feeds as catalogue records (``xsell catalog load``, docs/integrations.md).

Formats: xsell's JSON lines (one catalogue record a line) and CSV (``item_id,name,category,
price,cost,stock,active,brand,tags``, tags separated by ``|``); Google Merchant Center's TSV
and RSS 2.0 / Atom XML with the ``g:`` namespace; Shopify's product CSV export. Each row gives
a record or a reason with its line (row, item); nothing here sends or stores.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from xsell.connect.common import Malformed, Record, amount, tags_of

FORMATS = ("jsonl", "csv", "tsv", "xml", "shopify-csv")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".txt": "tsv"}
EXTENSIONS |= {".xml": "xml", ".rss": "xml", ".atom": "xml"}
XSELL_CSV = ("item_id", "name", "category", "price", "cost", "stock", "active", "brand", "tags")
TRUE, FALSE = {"true", "1", "yes", "y", "active"}, {"false", "0", "no", "n", "inactive", ""}
OUT_OF_STOCK = {"out_of_stock", "out of stock"}


@dataclass
class Feed:
    """What a feed gave: the records, in order (one per item id: a later row of the same item
    wins), and each row refused, as (where, reason)."""

    records: list[Record] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def format_of(name: str, given: str | None = None) -> str:
    """The feed's format: ``given`` (``--format``), else from the file name's extension."""
    if given:
        if given not in FORMATS:
            raise Malformed(f"--format: expected one of {', '.join(FORMATS)}, got {given!r}")
        return given
    lowered = name.lower().removesuffix(".gz")
    for ext, fmt in EXTENSIONS.items():
        if lowered.endswith(ext):
            return fmt
    raise Malformed(f"{name}: cannot tell the format from the extension: give --format")


def read_feed(text: str, fmt: str) -> Feed:
    """Parse a feed's ``text`` in format ``fmt`` (a ``.csv`` whose header has ``Handle`` is
    Shopify's export, whatever the format said)."""
    if fmt == "jsonl":
        return _collect(_jsonl(text))
    if fmt == "xml":
        return _collect(_merchant_rows(_xml_items(text)))
    delimiter = "\t" if fmt == "tsv" else ","
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    header = set(rows[0]) if rows else set()
    if fmt == "shopify-csv" or "Handle" in header:
        return _collect(_shopify_csv(rows))
    if fmt == "tsv":
        return _collect(_merchant_rows((f"line {n + 2}", row) for n, row in enumerate(rows)))
    return _collect((f"line {n + 2}", _xsell_row(row)) for n, row in enumerate(rows))


def _collect(rows: Iterable[tuple[str, Record | Malformed]]) -> Feed:
    feed = Feed()
    by_item: dict[str, Record] = {}
    for where, record in rows:
        if isinstance(record, Malformed):
            feed.refused.append((where, record.reason))
        else:
            by_item.pop(str(record["item_id"]), None)  # a later row of the item wins, last
            by_item[str(record["item_id"])] = record
    feed.records = list(by_item.values())
    return feed


def _jsonl(text: str) -> Iterable[tuple[str, Record | Malformed]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            yield f"line {n}", Malformed("not JSON")
            continue
        if not isinstance(value, dict) or "item_id" not in value:
            yield f"line {n}", Malformed("expected a catalogue record with an item_id")
            continue
        yield f"line {n}", {"type": "item", **value}


def _xsell_row(row: dict[str, Any]) -> Record | Malformed:
    try:
        item = _text(row.get("item_id"))
        if item is None:
            raise Malformed("item_id: missing")
        record: Record = {"type": "item", "item_id": item}
        for name in ("name", "category", "brand"):
            value = _text(row.get(name))
            if value is not None:
                record[name] = value
        for name in ("price", "cost", "stock"):
            number = amount(_text(row.get(name)), name)
            if number is not None:
                record[name] = number
        active = _text(row.get("active"))
        if active is not None:
            record["active"] = _flag(active, "active")
        tags = tags_of(row.get("tags") or "")
        if tags:
            record["tags"] = tags
        return record
    except Malformed as exc:
        return exc


def _merchant_rows(
    rows: Iterable[tuple[str, dict[str, Any]]],
) -> Iterable[tuple[str, Record | Malformed]]:
    for where, raw in rows:
        row = {k.removeprefix("g:").strip().lower(): v for k, v in raw.items() if k}
        try:
            yield where, _merchant(row)
        except Malformed as exc:
            yield where, exc


def _merchant(row: dict[str, Any]) -> Record:
    """One Merchant Center product: ``id``, ``title``, ``price`` (``12.99 USD``),
    ``availability``, ``product_type`` (else ``google_product_category``), ``brand``."""
    item = _text(row.get("id"))
    if item is None:
        raise Malformed("id: missing")
    record: Record = {"type": "item", "item_id": item}
    title = _text(row.get("title"))
    if title is not None:
        record["name"] = title
    category = _text(row.get("product_type")) or _text(row.get("google_product_category"))
    if category is not None:
        record["category"] = category
    price = _text(row.get("sale_price")) or _text(row.get("price"))
    if price is not None:
        record["price"] = amount(price.split()[0], "price")
    availability = (_text(row.get("availability")) or "").lower()
    if availability in OUT_OF_STOCK:
        record["stock"] = 0.0
    brand = _text(row.get("brand"))
    if brand is not None:
        record["brand"] = brand
    return record


def _xml_items(text: str) -> Iterable[tuple[str, dict[str, Any]]]:
    """The ``<item>`` (RSS) or ``<entry>`` (Atom) elements as {local name: text}. A document
    with a DOCTYPE is refused: no entity of a feed is ever expanded."""
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise Malformed("the XML has a DOCTYPE or entities: refused")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise Malformed(f"not XML: {exc}") from None
    n = 0
    for element in root.iter():
        if _local(element.tag) in ("item", "entry"):
            n += 1
            fields = {_local(child.tag): (child.text or "").strip() for child in element}
            yield f"item {n}", fields


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _shopify_csv(rows: list[dict[str, Any]]) -> Iterable[tuple[str, Record | Malformed]]:
    """Shopify's product export: a product's first row holds its fields, each further row
    of the same ``Handle`` a variant (or only an image). Item id: ``Variant SKU``, else the
    handle (the variants without a SKU are one item: the lowest price, the summed stock)."""
    product: dict[str, Any] = {}
    merged: dict[str, tuple[str, Record]] = {}
    for n, row in enumerate(rows, start=2):
        where = f"line {n}"
        handle = _text(row.get("Handle"))
        if handle is None:
            yield where, Malformed("Handle: missing")
            continue
        if handle != product.get("Handle"):
            product = row
        elif _text(row.get("Variant Price")) is None and _text(row.get("Variant SKU")) is None:
            continue  # an image row
        try:
            item = _text(row.get("Variant SKU")) or handle
            record = merged.get(item, (where, _shopify_product(product, item)))[1]
            price = amount(_text(row.get("Variant Price")), "Variant Price")
            if price is not None:
                record["price"] = min(price, record.get("price", price))
            stock = amount(_text(row.get("Variant Inventory Qty")), "Variant Inventory Qty")
            if stock is not None:
                record["stock"] = max(0.0, stock) + record.get("stock", 0.0)
            cost = amount(_text(row.get("Cost per item")), "Cost per item")
            if cost is not None:
                record["cost"] = cost
            merged[item] = (where, record)
        except Malformed as exc:
            yield where, exc
    yield from merged.values()


def _shopify_product(row: dict[str, Any], item: str) -> Record:
    record: Record = {"type": "item", "item_id": item}
    status = _text(row.get("Status"))
    published = _text(row.get("Published"))
    if status is not None:
        record["active"] = status.lower() == "active"
    elif published is not None:
        record["active"] = published.lower() == "true"
    for column, name in (("Title", "name"), ("Type", "category"), ("Vendor", "brand")):
        value = _text(row.get(column))
        if value is not None:
            record[name] = value
    tags = tags_of(row.get("Tags") or "")
    if tags:
        record["tags"] = tags
    return record


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise Malformed(f"{name}: expected true or false, got {value[:20]!r}")
