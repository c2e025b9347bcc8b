"""A synthetic shop with believable cross-sell structure, for ``xsell demo`` and the tests.

Why: a demo is only convincing if its suggestions make sense to a human at a glance (a phone
gets a case, a laptop a bag, a coffee a pastry), and tests need data with a known right answer.
Uniform random baskets would give neither, so the generator plants the structure real shops have.

Generative model (everything drawn from ``numpy.random.Generator``s seeded from the arguments,
so the same seeds always give the same catalogue, orders and carts):

* Catalogue: departments, each an *anchor* category (phone, laptop, camera, coffee ...) with
  2-3 complementary *add-on* categories (phone -> phone-case, screen-protector, charger).
  Anchor prices spread around a department median (so a pricier and a cheaper phone exist:
  upsell cases); add-ons cost 2-30% of that median, so always less than any of their anchors.
  Most items are in stock, a few are out of stock (0) or overstocked, a few are inactive
  (discontinued, yet still present in past orders: the demo can show them being filtered).
* Popularity is Zipf-like: anchors, add-ons within a category and the whole catalogue each get
  weights 1/rank^s over a random ranking, so a few best-sellers dominate and the tail is long.
* Affinity: each anchor has 2-3 favourite items in each add-on category (phone-07 is bought
  with phone-case-03 far more than with other cases), which is the signal to recover.
* A basket is one anchor followed by 0-3 add-ons from distinct complement categories (80%
  a favourite of that anchor, else a popular item of the category); some baskets are add-ons
  only (the shopper owns the phone already); 15% (``noise``) get one random noise item.
  Sizes are 1-5.
* Users: a few loyal users (Zipf weights, each with a favourite department) place many orders,
  most orders come from new users who buy once or twice, and some orders are anonymous.
* Time: exponential gaps between orders (about ``orders_per_day`` a day), whole seconds,
  strictly increasing. Cart sessions add items one by one in basket order (anchor first),
  sometimes compare two anchors (add one, remove it, add the other) or drop an add-on again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from xsell.devenv.synthetic_catalog import (
    COMPLEMENTS,
    DEPARTMENTS,
    Department,
    Weights,
    make_catalog,
    pick,
    zipf_weights,
)
from xsell.models.events import CartEvent, CatalogItem, OrderLine, PurchaseEvent, purchase_event_id

__all__ = [
    "COMPLEMENTS",
    "CSV_HEADER",
    "DEFAULT_START_TS",
    "DEPARTMENTS",
    "Department",
    "Shop",
    "make_catalog",
    "rfc3339",
    "write_orders_csv",
]

DEFAULT_START_TS = 1704067200.0  # 2024-01-01T00:00:00Z
CSV_HEADER = ("order_id", "item_id", "user_id", "ts", "price", "quantity", "category")
_N_ADDONS_P = (0.3, 0.35, 0.22, 0.13)  # P(0, 1, 2, 3 add-ons) in an anchor's basket


def rfc3339(ts: float) -> str:
    """Epoch seconds as RFC 3339 UTC text, e.g. ``2024-01-01T10:00:00Z``."""
    moment = datetime.fromtimestamp(ts, tz=UTC)
    if ts == int(ts):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Users:
    """Who places the next order: loyal regulars, new (mostly one-off) users, or anonymous."""

    def __init__(self, rng: np.random.Generator, n_orders: int, departments: Sequence[str]):
        self.rng = rng
        self.n_loyal = max(10, n_orders // 40)
        self.loyal_p = zipf_weights(self.n_loyal, rng, 0.5)
        self.favourite = [pick(rng, departments) for _ in range(self.n_loyal)]
        self.n_new = 0

    def next(self) -> tuple[str | None, str | None]:
        """(user id or None if anonymous, the user's favourite department or None)."""
        r = self.rng.random()
        if r < 0.08:
            return None, None
        if r < 0.5:
            idx = int(self.rng.choice(self.n_loyal, p=self.loyal_p))
            return f"u{idx:04d}", self.favourite[idx]
        if self.n_new and r < 0.6:  # an earlier new user coming back
            return f"u{self.n_loyal + int(self.rng.integers(self.n_new)):04d}", None
        self.n_new += 1
        return f"u{self.n_loyal + self.n_new - 1:04d}", None


class Shop:
    """Generates orders and cart sessions over a catalogue (built from ``seed`` if not given).

    The catalogue and the item affinities depend on ``seed``; orders and carts additionally on
    the seed of each call. Items of categories outside :data:`DEPARTMENTS` only appear as noise.
    ``noise`` is the share of baskets with one random item; ``anchor_skew`` the Zipf exponent
    of the anchors' popularity (0: all equally popular). The defaults are the evaluation's
    hard case (a long tail, noisy baskets); the demo asks for a clean, even shop
    (:mod:`xsell.devenv.demo_data`).
    """

    def __init__(
        self,
        catalog: Sequence[CatalogItem] | None = None,
        seed: int = 0,
        orders_per_day: float = 250.0,
        *,
        noise: float = 0.15,
        anchor_skew: float = 1.05,
    ) -> None:
        self.catalog = list(catalog) if catalog is not None else make_catalog(seed)
        self.items = {item.item_id: item for item in self.catalog}
        self.orders_per_day = orders_per_day
        self.noise = noise
        rng = np.random.default_rng([seed, 1])
        self.by_category: dict[str, list[str]] = {}
        for item in self.catalog:
            self.by_category.setdefault(item.category or "", []).append(item.item_id)
        by_cat = self.by_category
        self.cat_p = {cat: zipf_weights(len(ids), rng) for cat, ids in by_cat.items()}
        self.anchors = [i.item_id for i in self.catalog if i.category in COMPLEMENTS]
        if not self.anchors:
            raise ValueError("the catalogue has no anchor category of DEPARTMENTS")
        self.anchor_p = zipf_weights(len(self.anchors), rng, anchor_skew)
        self.all_ids = [item.item_id for item in self.catalog]
        self.all_p = zipf_weights(len(self.all_ids), rng, 0.6)  # noise: a flatter, long tail
        self.favourites: dict[str, dict[str, tuple[list[str], Weights]]] = {}
        for anchor in self.anchors:
            favs: dict[str, tuple[list[str], Weights]] = {}
            for cat in COMPLEMENTS[self.items[anchor].category or ""]:
                if ids := by_cat.get(cat, []):
                    k = min(len(ids), int(rng.integers(2, 4)))
                    w = np.array([0.6, 0.3, 0.1][:k])
                    favs[cat] = (
                        [ids[int(j)] for j in rng.choice(len(ids), k, replace=False)],
                        w / w.sum(),
                    )
            self.favourites[anchor] = favs

    def _anchor(self, rng: np.random.Generator, department: str | None) -> str:
        if department in self.by_category and rng.random() < 0.6:
            return pick(rng, self.by_category[department], self.cat_p[department])
        return pick(rng, self.anchors, self.anchor_p)

    def _basket(self, rng: np.random.Generator, department: str | None) -> list[str]:
        """Distinct item ids in add-to-cart order: anchor, add-ons, maybe one noise item."""
        anchor = self._anchor(rng, department)
        favs = self.favourites[anchor]
        cats = list(favs)
        addon_only = bool(cats) and rng.random() < 0.12
        n_addons = int(rng.integers(1, 3) if addon_only else rng.choice(4, p=_N_ADDONS_P))
        basket = [] if addon_only else [anchor]
        for j in rng.choice(len(cats), min(n_addons, len(cats)), replace=False):
            cat = cats[int(j)]
            chosen, w = favs[cat]
            basket.append(
                pick(rng, chosen, w)
                if rng.random() < 0.8
                else pick(rng, self.by_category[cat], self.cat_p[cat])
            )
        if rng.random() < self.noise:
            noise = pick(rng, self.all_ids, self.all_p)
            basket.insert(int(rng.integers(1, len(basket) + 1)), noise)
        return list(dict.fromkeys(basket))

    def _quantity(self, rng: np.random.Generator, item_id: str) -> float:
        return 1.0 if item_id in self.favourites or rng.random() > 0.1 else 2.0

    def orders(
        self, n: int, seed: int = 0, start_ts: float = DEFAULT_START_TS, *, first_order: int = 0
    ) -> list[PurchaseEvent]:
        """``n`` purchases, ids ``o{first_order:06d}`` upwards, times increasing from start_ts."""
        rng = np.random.default_rng([seed, 2])
        users = _Users(rng, n, list(COMPLEMENTS))
        out: list[PurchaseEvent] = []
        ts = float(int(start_ts))
        for k in range(n):
            ts = max(ts + 1.0, float(round(ts + rng.exponential(86400.0 / self.orders_per_day))))
            user_id, department = users.next()
            lines = []
            for item_id in self._basket(rng, department):
                price = self.items[item_id].price
                if price is not None and rng.random() < 0.08:
                    price = round(price * 0.9, 2)  # a discount
                lines.append(OrderLine(item_id, self._quantity(rng, item_id), price))
            order_id = f"o{first_order + k:06d}"
            out.append(
                PurchaseEvent(purchase_event_id(order_id), order_id, user_id, ts, tuple(lines))
            )
        return out

    def cart_sessions(
        self, n: int, seed: int = 0, start_ts: float = DEFAULT_START_TS, *, first_session: int = 0
    ) -> list[list[CartEvent]]:
        """``n`` cart sessions (session ids ``s{first_session:06d}`` upwards) of add/remove
        events; anonymous shoppers get a guest id ``g<session number>``."""
        rng = np.random.default_rng([seed, 3])
        users = _Users(rng, n, list(COMPLEMENTS))
        sessions: list[list[CartEvent]] = []
        start = float(int(start_ts))
        for s in range(n):
            start += float(round(rng.exponential(86400.0 / self.orders_per_day))) + 1.0
            user_id, department = users.next()
            basket = self._basket(rng, department)
            steps = [("add_to_cart", item) for item in basket]
            cat = self.items[basket[0]].category or ""
            rivals = [i for i in self.by_category.get(cat, []) if i != basket[0]]
            if basket[0] in self.favourites and rivals and rng.random() < 0.1:
                rival = pick(rng, rivals)  # compared with another model first
                steps[:0] = [("add_to_cart", rival), ("remove_from_cart", rival)]
            if len(basket) > 1 and rng.random() < 0.15:
                j = int(rng.integers(1, len(basket)))
                at = steps.index(("add_to_cart", basket[j]))
                steps.insert(
                    int(rng.integers(at + 1, len(steps) + 1)), ("remove_from_cart", basket[j])
                )
            session_id = f"s{first_session + s:06d}"
            ts, events = start, []
            for e, (kind, item_id) in enumerate(steps):
                events.append(
                    CartEvent(
                        f"{session_id}-e{e:02d}",
                        kind,
                        user_id or f"g{first_session + s:06d}",
                        item_id,
                        ts,
                        self._quantity(rng, item_id),
                        self.items[item_id].price,
                        session_id,
                    )
                )
                ts += float(rng.integers(5, 120))
            sessions.append(events)
        return sessions


def write_orders_csv(
    path: str | Path, orders: Iterable[PurchaseEvent], catalog: Iterable[CatalogItem]
) -> int:
    """Write the orders CSV (one row per order line, in add-to-cart order); returns row count."""
    categories = {item.item_id: item.category or "" for item in catalog}
    rows = 0
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for order in orders:
            when = rfc3339(order.ts)
            for line in order.items:
                price = "" if line.price is None else f"{line.price:.2f}"
                qty = int(line.quantity) if line.quantity == int(line.quantity) else line.quantity
                writer.writerow(
                    [
                        order.order_id,
                        line.item_id,
                        order.user_id or "",
                        when,
                        price,
                        qty,
                        categories.get(line.item_id, ""),
                    ]
                )
                rows += 1
    return rows
