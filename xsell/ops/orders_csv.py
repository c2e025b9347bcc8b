"""Orders CSV -> purchase events, validated exactly as the worker validates Kafka records.

Format: a header; columns ``order_id`` and ``item_id`` required, ``user_id``, ``ts``, ``price``,
``quantity``, ``category`` optional; rows of one order in add-to-cart order (an order's rows
need not be contiguous). ``--map order_id=Invoice,item_id=StockCode`` maps other headers.
``.gz`` files are read directly. Rows with quantity <= 0 (returns, cancellations) and items in
``skip_items`` are dropped; timestamps without an offset are taken as UTC; an order without
``ts`` gets ``TS_BASE + its position`` so files without times still load deterministically.
Where a ``category`` column exists, each item's last row gives a catalogue entry (category and
price) in ``CsvStats.catalog``: backfill writes it, replay sends it to the catalog topic.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from xsell.models.errors import InvalidEvent, XsellError
from xsell.models.events import CatalogItem, Limits, PurchaseEvent, purchase_event_id
from xsell.models.validate import parse_order, parse_ts

log = logging.getLogger(__name__)

COLUMNS = ("order_id", "item_id", "user_id", "ts", "price", "quantity", "category")
REQUIRED = ("order_id", "item_id")
TS_BASE = 1_600_000_000.0

ONLINE_RETAIL_MAP = (
    "order_id=Invoice,item_id=StockCode,user_id=Customer ID,ts=InvoiceDate,"
    "price=Price,quantity=Quantity"
)
ONLINE_RETAIL_SKIP = (
    "POST,DOT,M,C2,D,S,B,BANK CHARGES,ADJUST,ADJUST2,TEST001,TEST002,PADS,AMAZONFEE"
)


def parse_map(text: str | None) -> dict[str, str]:
    """``"order_id=Invoice,item_id=StockCode"`` -> {"order_id": "Invoice", ...}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, column = part.partition("=")
        name = name.strip()
        if not sep or name not in COLUMNS or not column.strip():
            raise XsellError(
                f"--map: bad entry {part!r}; expected NAME=COLUMN with NAME in {', '.join(COLUMNS)}"
            )
        mapping[name] = column.strip()
    return mapping


@dataclass
class CsvStats:
    rows: int = 0
    orders: int = 0
    skipped_rows: int = 0
    skipped_orders: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    catalog: dict[str, CatalogItem] = field(default_factory=dict)  # from category/price columns

    def skip(self, reason: str, *, order: bool = False) -> None:
        if order:
            self.skipped_orders += 1
        else:
            self.skipped_rows += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def _open(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


_OFFSET = re.compile(r"([Zz]|[+-]\d\d:?\d\d)$")


def _csv_ts(text: str) -> float:
    text = text.strip()
    if text and not text.replace(".", "", 1).isdigit() and not _OFFSET.search(text):
        text = text.replace(" ", "T") + "Z"  # naive time: UTC
    return parse_ts(text)


def _number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    return float(text)


@dataclass
class _Order:
    user_id: str | None = None
    ts: float | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)


def parse_skip(text: str | None) -> frozenset[str]:
    """``--skip-items A,B,C`` as a set of item ids."""
    return frozenset(s for s in (text or "").split(",") if s)


def load_orders(
    path: str | Path,
    map_text: str | None = None,
    skip_text: str | None = None,
    limits: Limits | None = None,
    *,
    limit: int | None = None,
) -> tuple[list[PurchaseEvent], CsvStats]:
    """The first ``limit`` (None: all) orders of a file, with the ``--map`` and
    ``--skip-items`` texts of the commands, and the reading statistics."""
    stats = CsvStats()
    events = read_orders(path, parse_map(map_text), parse_skip(skip_text), limits, stats)
    return list(itertools.islice(events, limit)), stats


def read_orders(
    path: str | Path,
    mapping: dict[str, str] | None = None,
    skip_items: frozenset[str] = frozenset(),
    limits: Limits | None = None,
    stats: CsvStats | None = None,
) -> Iterator[PurchaseEvent]:
    """Yield the file's orders as purchase events, in order of first appearance."""
    limits = limits or Limits()
    stats = stats if stats is not None else CsvStats()
    columns = {name: (mapping or {}).get(name, name) for name in COLUMNS}
    orders: dict[str, _Order] = {}
    with _open(Path(path)) as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        missing = [columns[n] for n in REQUIRED if columns[n] not in header]
        if missing:
            raise XsellError(f"{path}: missing column(s) {missing}; header is {sorted(header)}")
        for row in reader:
            stats.rows += 1
            try:
                order_id = (row.get(columns["order_id"]) or "").strip()
                item_id = (row.get(columns["item_id"]) or "").strip()
                quantity = _number(row.get(columns["quantity"]))
                if quantity is not None and quantity <= 0:
                    stats.skip("quantity <= 0")
                    continue
                if item_id in skip_items:
                    stats.skip("skipped item")
                    continue
                order = orders.setdefault(order_id, _Order())
                if order.ts is None and (row.get(columns["ts"]) or "").strip():
                    order.ts = _csv_ts(row[columns["ts"]])
                user = (row.get(columns["user_id"]) or "").strip()
                if user and order.user_id is None:
                    order.user_id = user[:-2] if user.endswith(".0") else user
                line: dict[str, Any] = {"item_id": item_id}
                if quantity is not None:
                    line["quantity"] = quantity
                price = _number(row.get(columns["price"]))
                if price is not None:
                    line["price"] = price
                order.lines.append(line)
                category = (row.get(columns["category"]) or "").strip() or None
                if category is not None:
                    stats.catalog[item_id] = CatalogItem(item_id, category=category, price=price)
            except (InvalidEvent, ValueError) as exc:
                stats.skip(f"bad row: {exc}"[:80])
    for position, (order_id, order) in enumerate(orders.items()):
        obj = {
            "event_id": purchase_event_id(order_id),
            "type": "purchase",
            "order_id": order_id,
            "user_id": order.user_id,
            "ts": order.ts if order.ts is not None else TS_BASE + position,
            "items": order.lines,
        }
        try:
            event = parse_order(obj, limits)
        except InvalidEvent as exc:
            stats.skip(f"invalid order: {exc.reason}"[:80], order=True)
            continue
        assert isinstance(event, PurchaseEvent)
        stats.orders += 1
        yield event


def catalog_to_json(item: CatalogItem) -> dict[str, Any]:
    """The catalog-topic value of a catalogue entry."""
    return {
        "type": "item",
        "item_id": item.item_id,
        "category": item.category,
        "price": item.price,
        "stock": item.stock,
        "active": item.active,
        "name": item.name,
    }


def order_to_json(event: PurchaseEvent) -> dict[str, Any]:
    """The orders-topic value of a purchase event (the contract's JSON)."""
    items = []
    for line in event.items:
        item: dict[str, Any] = {"item_id": line.item_id, "quantity": line.quantity}
        if line.price is not None:
            item["price"] = line.price
        items.append(item)
    return {
        "event_id": event.event_id,
        "type": "purchase",
        "order_id": event.order_id,
        "user_id": event.user_id,
        "ts": event.ts,
        "items": items,
    }
