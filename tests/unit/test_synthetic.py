"""The synthetic shop: deterministic, realistic enough that cross-sells are recoverable."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from xsell.devenv.synthetic_shop import (
    COMPLEMENTS,
    CSV_HEADER,
    DEFAULT_START_TS,
    Shop,
    make_catalog,
    rfc3339,
    write_orders_csv,
)
from xsell.models.events import CART_TYPES, CatalogItem, PurchaseEvent, purchase_event_id


@pytest.fixture(scope="module")
def catalog() -> list[CatalogItem]:
    return make_catalog(seed=0)


@pytest.fixture(scope="module")
def shop(catalog: list[CatalogItem]) -> Shop:
    return Shop(catalog, seed=0)


@pytest.fixture(scope="module")
def orders(shop: Shop) -> list[PurchaseEvent]:
    return shop.orders(5000, seed=0)


def test_deterministic_per_seed() -> None:
    assert make_catalog(seed=3) == make_catalog(seed=3)
    assert make_catalog(seed=3) != make_catalog(seed=4)
    assert Shop(seed=1).orders(300, seed=5) == Shop(seed=1).orders(300, seed=5)
    assert Shop(seed=1).orders(300, seed=5) != Shop(seed=1).orders(300, seed=6)
    assert Shop(seed=1).cart_sessions(100, seed=2) == Shop(seed=1).cart_sessions(100, seed=2)
    assert Shop(seed=1).cart_sessions(100, seed=2) != Shop(seed=1).cart_sessions(100, seed=3)


def test_catalog_shape(catalog: list[CatalogItem]) -> None:
    assert 150 <= len(catalog) <= 300
    ids = [item.item_id for item in catalog]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z-]+-\d{2}", i) for i in ids)
    anchors = {item.category for item in catalog if item.category in COMPLEMENTS}
    assert 8 <= len(anchors) <= 12
    assert all(item.category and item.name for item in catalog)
    assert all(item.price is not None and item.price > 0 for item in catalog)
    stock = [item.stock for item in catalog]
    assert any(s == 0 for s in stock)
    assert any(s is not None and s >= 800 for s in stock)
    assert sum(1 for s in stock if s is not None and 0 < s < 800) > 0.8 * len(catalog)
    inactive = sum(1 for item in catalog if not item.active)
    assert 0 < inactive < 0.1 * len(catalog)
    with pytest.raises(ValueError):
        make_catalog(n_categories=0)
    assert {i.category for i in make_catalog(n_categories=2)} >= {"phone", "laptop", "mouse"}


def test_accessories_cheaper_than_anchors_and_upsells_exist(catalog: list[CatalogItem]) -> None:
    prices: dict[str, list[float]] = defaultdict(list)
    for item in catalog:
        assert item.price is not None
        prices[item.category or ""].append(item.price)
    for anchor, addons in COMPLEMENTS.items():
        if anchor not in prices:
            continue
        assert len(set(prices[anchor])) > 1  # a pricier and a cheaper phone
        cheapest_anchor = min(prices[anchor])
        for addon in addons:
            assert prices[addon], addon
            assert max(prices[addon]) < cheapest_anchor, (anchor, addon)
            assert max(prices[addon]) <= 0.35 * sorted(prices[anchor])[len(prices[anchor]) // 2]


def test_orders_are_well_formed(orders: list[PurchaseEvent], catalog: list[CatalogItem]) -> None:
    ids = {item.item_id for item in catalog}
    assert len({o.order_id for o in orders}) == len(orders)
    for o in orders:
        assert re.fullmatch(r"o\d{6}", o.order_id)
        assert o.event_id == purchase_event_id(o.order_id)
        assert o.user_id is None or re.fullmatch(r"u\d{4,}", o.user_id)
        assert o.items and all(line.item_id in ids for line in o.items)
        assert len(o.distinct_items()) == len(o.items)
        assert all(line.quantity >= 1 and line.price for line in o.items)
    ts = [o.ts for o in orders]
    assert ts[0] >= DEFAULT_START_TS
    assert all(a < b for a, b in pairwise(ts))
    assert ts[-1] - ts[0] > 5 * 86400  # spread over days
    sizes = Counter(len(o.items) for o in orders)
    assert sum(n for size, n in sizes.items() if 1 <= size <= 5) >= 0.98 * len(orders)
    assert sizes[1] > 0 and sizes[2] > 0 and sizes[3] > 0


def test_popularity_and_users_are_skewed(orders: list[PurchaseEvent]) -> None:
    items = Counter(i for o in orders for i in o.distinct_items())
    counts = sorted(items.values(), reverse=True)
    assert counts[0] > 10 * counts[len(counts) // 2]  # Zipf-like head and long tail
    users = Counter(o.user_id for o in orders)
    assert 0.02 * len(orders) < users.pop(None) < 0.2 * len(orders)  # some anonymous
    assert users.most_common(1)[0][1] >= 20  # loyal users with many orders
    assert sum(1 for n in users.values() if n == 1) > 0.5 * len(users)  # many new users


def test_phone_is_bought_with_its_accessories(orders: list[PurchaseEvent], shop: Shop) -> None:
    category = {item.item_id: item.category for item in shop.catalog}
    partners: dict[str, Counter[str]] = defaultdict(Counter)
    for o in orders:
        items = o.distinct_items()
        for a in items:
            if category[a] == "phone":
                partners[a].update(b for b in items if b != a)
    overall: Counter[str] = sum(partners.values(), Counter())
    assert category[overall.most_common(1)[0][0]] in COMPLEMENTS["phone"]
    checked = 0
    for phone, counter in partners.items():
        if sum(1 for o in orders if phone in o.distinct_items()) >= 50:
            checked += 1
            top = counter.most_common(1)[0][0]
            assert category[top] in COMPLEMENTS["phone"], (phone, counter.most_common(3))
    assert checked >= 2
    # Favourites: each popular phone has a clear favourite case.
    best = max(partners, key=lambda p: sum(partners[p].values()))
    cases = [(n, i) for i, n in partners[best].items() if category[i] == "phone-case"]
    assert sorted(cases)[-1][0] > 2 * sum(n for n, _ in cases) / len(shop.by_category["phone-case"])


def test_orders_csv_round_trip(tmp_path: Path, shop: Shop, catalog: list[CatalogItem]) -> None:
    orders = shop.orders(200, seed=7)
    path = tmp_path / "orders.csv"
    rows_written = write_orders_csv(path, orders, catalog)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_HEADER
    body = rows[1:]
    assert len(body) == rows_written == sum(len(o.items) for o in orders)
    category = {item.item_id: item.category for item in catalog}
    expected = [(o, line) for o in orders for line in o.items]
    for row, (o, line) in zip(body, expected, strict=True):
        order_id, item_id, user_id, ts, price, quantity, cat = row
        assert (order_id, item_id, user_id) == (o.order_id, line.item_id, o.user_id or "")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ts)
        assert datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() == o.ts
        assert line.price is not None and float(price) == pytest.approx(line.price)
        assert float(quantity) == line.quantity and cat == category[item_id]
    assert rfc3339(1704103200.0) == "2024-01-01T10:00:00Z"


def test_cart_sessions_are_well_formed(shop: Shop) -> None:
    sessions = shop.cart_sessions(1000, seed=0)
    assert len(sessions) == 1000
    event_ids = [e.event_id for s in sessions for e in s]
    assert len(set(event_ids)) == len(event_ids)
    category = {item.item_id: item.category for item in shop.catalog}
    removes = anchor_first = both = 0
    for session in sessions:
        assert session and session[0].type == "add_to_cart"
        assert len({(e.user_id, e.session_id) for e in session}) == 1
        assert all(a.ts < b.ts for a, b in pairwise(session))
        in_cart: Counter[str] = Counter()
        for e in session:
            assert e.type in CART_TYPES and e.item_id in category
            if e.type == "add_to_cart":
                in_cart[e.item_id] += 1
            else:
                assert in_cart[e.item_id] > 0, "remove before add"
                in_cart[e.item_id] -= 1
                removes += 1
        adds = [category[e.item_id] for e in session if e.type == "add_to_cart"]
        anchor = next((c for c in adds if c in COMPLEMENTS), None)
        if anchor and any(c in COMPLEMENTS[anchor] for c in adds):
            both += 1
            first_addon = min(i for i, c in enumerate(adds) if c in COMPLEMENTS[anchor])
            anchor_first += adds.index(anchor) < first_addon
    assert 0.05 * len(sessions) < removes < 0.5 * len(sessions)
    assert both > 0.5 * len(sessions) and anchor_first > 0.9 * both
