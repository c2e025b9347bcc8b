"""xsell.ops.orders_csv: --map parsing, orders CSV -> purchase events, and the orders JSON."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from xsell.models.errors import XsellError
from xsell.models.events import Limits, OrderLine, PurchaseEvent, purchase_event_id
from xsell.models.validate import parse_order
from xsell.ops.orders_csv import (
    ONLINE_RETAIL_MAP,
    TS_BASE,
    CsvStats,
    order_to_json,
    parse_map,
    read_orders,
)

JAN_1_2024 = 1704067200.0  # 2024-01-01T00:00:00Z

SAMPLE = """\
order_id,item_id,user_id,ts,price,quantity
o1,a,13085.0,2024-01-01 10:00:00,2.5,1
o2,x,7,2024-01-02T00:00:00Z,,2
o1,b,13085.0,2024-01-01 10:00:00,3,1
o1,r,13085.0,2024-01-01 10:00:00,1,-1
o2,POST,7,2024-01-02T00:00:00Z,18,1
o3,c,,1700000000,,
o2,y,7,2024-01-02T00:00:00Z,4.25,0
"""


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def expected_sample() -> list[PurchaseEvent]:
    return [
        PurchaseEvent(
            event_id=purchase_event_id("o1"),
            order_id="o1",
            user_id="13085",
            ts=JAN_1_2024 + 10 * 3600,
            items=(OrderLine("a", 1.0, 2.5), OrderLine("b", 1.0, 3.0)),
        ),
        PurchaseEvent(
            event_id=purchase_event_id("o2"),
            order_id="o2",
            user_id="7",
            ts=JAN_1_2024 + 86400,
            items=(OrderLine("x", 2.0, None),),
        ),
        PurchaseEvent(
            event_id=purchase_event_id("o3"),
            order_id="o3",
            user_id=None,
            ts=1700000000.0,
            items=(OrderLine("c", 1.0, None),),
        ),
    ]


# --- parse_map -----------------------------------------------------------------------------


def test_parse_map_good() -> None:
    assert parse_map(None) == {}
    assert parse_map("") == {}
    assert parse_map("order_id=Invoice, item_id = StockCode,") == {
        "order_id": "Invoice",
        "item_id": "StockCode",
    }
    assert parse_map(ONLINE_RETAIL_MAP) == {
        "order_id": "Invoice",
        "item_id": "StockCode",
        "user_id": "Customer ID",
        "ts": "InvoiceDate",
        "price": "Price",
        "quantity": "Quantity",
    }
    assert parse_map("category=Cat=Name") == {"category": "Cat=Name"}


@pytest.mark.parametrize(
    "text",
    [
        "order",
        "order_id",
        "order_id=",
        "order_id= ",
        "sku=StockCode",
        "=Invoice",
        "item_id=StockCode,bad",
    ],
)
def test_parse_map_bad(text: str) -> None:
    with pytest.raises(XsellError, match="--map: bad entry"):
        parse_map(text)


# --- read_orders ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders.csv", "orders.csv.gz"])
def test_read_orders(tmp_path: Path, name: str) -> None:
    stats = CsvStats()
    events = list(
        read_orders(write(tmp_path, SAMPLE, name), skip_items=frozenset({"POST"}), stats=stats)
    )
    assert events == expected_sample()
    assert stats == CsvStats(
        rows=7,
        orders=3,
        skipped_rows=3,
        skipped_orders=0,
        reasons={"quantity <= 0": 2, "skipped item": 1},
    )


def test_stats_are_optional(tmp_path: Path) -> None:
    events = list(read_orders(write(tmp_path, SAMPLE), skip_items=frozenset({"POST"})))
    assert [e.order_id for e in events] == ["o1", "o2", "o3"]


def test_without_skip_items_the_row_is_kept(tmp_path: Path) -> None:
    events = list(read_orders(write(tmp_path, SAMPLE)))
    assert events[1].distinct_items() == ["x", "POST"]


def test_event_id_is_purchase_event_id(tmp_path: Path) -> None:
    for event in read_orders(write(tmp_path, SAMPLE)):
        assert event.event_id == purchase_event_id(event.order_id)


def test_orders_in_first_appearance_order_rows_not_contiguous(tmp_path: Path) -> None:
    text = "order_id,item_id\nB,1\nA,2\nB,3\nC,4\nA,5\nB,1\n"
    events = list(read_orders(write(tmp_path, text)))
    assert [(e.order_id, [line.item_id for line in e.items]) for e in events] == [
        ("B", ["1", "3", "1"]),
        ("A", ["2", "5"]),
        ("C", ["4"]),
    ]
    assert events[0].distinct_items() == ["1", "3"]


def test_missing_ts_column_gets_ts_base_plus_position(tmp_path: Path) -> None:
    events = list(read_orders(write(tmp_path, "order_id,item_id\nB,1\nA,2\nC,3\nA,4\n")))
    assert [(e.order_id, e.ts) for e in events] == [
        ("B", TS_BASE),
        ("A", TS_BASE + 1),
        ("C", TS_BASE + 2),
    ]
    assert all(e.user_id is None for e in events)
    assert all(line.quantity == 1.0 and line.price is None for e in events for line in e.items)


def test_empty_ts_cell_gets_ts_base_plus_position(tmp_path: Path) -> None:
    text = "order_id,item_id,ts\nA,1,2024-01-01 00:00:00\nB,2,\n"
    events = list(read_orders(write(tmp_path, text)))
    assert [e.ts for e in events] == [JAN_1_2024, TS_BASE + 1]


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2024-01-01 00:00:00", JAN_1_2024),  # naive: UTC
        ("2024-01-01T00:00:00", JAN_1_2024),
        ("2024-01-01 07:00:00+07:00", JAN_1_2024),
        ("2024-01-01T00:00:00Z", JAN_1_2024),
        ("1704067200", JAN_1_2024),
        ("1704067200.5", JAN_1_2024 + 0.5),
    ],
)
def test_timestamps(tmp_path: Path, ts: str, expected: float) -> None:
    [event] = read_orders(write(tmp_path, f"order_id,item_id,ts\n1,a,{ts}\n"))
    assert event.ts == expected


def test_negative_utc_offset(tmp_path: Path) -> None:
    text = "order_id,item_id,ts\n1,a,2023-12-31 19:00:00-05:00\n"
    stats = CsvStats()
    events = list(read_orders(write(tmp_path, text), stats=stats))
    assert stats.skipped_rows == 0, stats.reasons
    [event] = events
    assert event.ts == JAN_1_2024


def test_user_ids(tmp_path: Path) -> None:
    text = "order_id,item_id,user_id\n1,a,13085.0\n2,a,13085\n3,a,\n3,b,42.0\n4,a,u-1\n4,b,u-2\n"
    events = list(read_orders(write(tmp_path, text)))
    assert [e.user_id for e in events] == ["13085", "13085", "42", "u-1"]  # first user wins


def test_mapped_columns(tmp_path: Path) -> None:
    text = (
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "489434,85048,LED,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n"
        "489434,79323P,LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom\n"
        "C489449,22087,PAPER,-12,2009-12-01 10:33:00,2.95,16321.0,Australia\n"
    )
    stats = CsvStats()
    events = list(
        read_orders(
            write(tmp_path, text, "retail.csv.gz"), parse_map(ONLINE_RETAIL_MAP), stats=stats
        )
    )
    assert events == [
        PurchaseEvent(
            event_id=purchase_event_id("489434"),
            order_id="489434",
            user_id="13085",
            ts=1259653500.0,  # 2009-12-01T07:45:00Z
            items=(OrderLine("85048", 12.0, 6.95), OrderLine("79323P", 12.0, 6.75)),
        )
    ]
    assert (stats.rows, stats.orders, stats.skipped_rows) == (3, 1, 1)


def test_cancellations_are_skipped_by_quantity_not_by_id(tmp_path: Path) -> None:
    """Returns have quantity <= 0; an order id that merely starts with C is a real order."""
    text = "order_id,item_id,quantity\nC1,a,-1\nC2,b,1\n3,c,1\n"
    events = list(read_orders(write(tmp_path, text)))
    assert [e.order_id for e in events] == ["C2", "3"]


def test_missing_required_column(tmp_path: Path) -> None:
    with pytest.raises(XsellError, match="item_id"):
        list(read_orders(write(tmp_path, "order_id,sku\n1,a\n")))
    with pytest.raises(XsellError, match="order_id"):
        list(read_orders(write(tmp_path, "item_id\na\n")))
    with pytest.raises(XsellError, match="StockCode"):
        list(read_orders(write(tmp_path, "Invoice,item_id\n1,a\n"), parse_map(ONLINE_RETAIL_MAP)))


def test_order_with_too_many_lines_is_skipped(tmp_path: Path) -> None:
    text = "order_id,item_id\nbig,1\nbig,2\nbig,3\nok,1\nok,2\n"
    stats = CsvStats()
    events = list(read_orders(write(tmp_path, text), limits=Limits(max_order_lines=2), stats=stats))
    assert [e.order_id for e in events] == ["ok"]
    assert (stats.orders, stats.skipped_orders, stats.skipped_rows) == (1, 1, 0)
    assert stats.reasons == {"invalid order: items: 3 lines, more than 2": 1}


def test_bad_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    text = (
        "order_id,item_id,ts,price,quantity\n"
        "1,a,2024-01-01 00:00:00,1.5,1\n"
        "1,b,2024-01-01 00:00:00,1.5,two\n"  # quantity not a number
        "2,c,2024-01-01 00:00:00,abc,1\n"  # price not a number: order 2 has no lines
        "3,d,not a time,1,1\n"
    )
    stats = CsvStats()
    events = list(read_orders(write(tmp_path, text), stats=stats))
    assert [(e.order_id, e.distinct_items()) for e in events] == [("1", ["a"])]
    assert stats.rows == 4
    assert stats.skipped_rows == 3
    assert stats.skipped_orders == 2  # orders 2 and 3: every row was bad, items empty
    assert all(reason.startswith(("bad row: ", "invalid order: ")) for reason in stats.reasons)


def test_csv_stats_skip() -> None:
    stats = CsvStats()
    stats.skip("x")
    stats.skip("x")
    stats.skip("y", order=True)
    assert stats == CsvStats(
        rows=0, orders=0, skipped_rows=2, skipped_orders=1, reasons={"x": 2, "y": 1}
    )


# --- order_to_json -------------------------------------------------------------------------


def test_order_to_json() -> None:
    event = expected_sample()[0]
    assert order_to_json(event) == {
        "event_id": purchase_event_id("o1"),
        "type": "purchase",
        "order_id": "o1",
        "user_id": "13085",
        "ts": JAN_1_2024 + 36000,
        "items": [
            {"item_id": "a", "quantity": 1.0, "price": 2.5},
            {"item_id": "b", "quantity": 1.0, "price": 3.0},
        ],
    }
    assert "price" not in order_to_json(expected_sample()[1])["items"][0]


@pytest.mark.parametrize("event", expected_sample(), ids=lambda e: e.order_id)
def test_order_to_json_round_trips(event: PurchaseEvent) -> None:
    assert parse_order(order_to_json(event), Limits()) == event
    assert parse_order(json.loads(json.dumps(order_to_json(event))), Limits()) == event
