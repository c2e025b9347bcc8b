"""What `xsell demo` plays: plausible complements from enough orders, and only simulated users
(never the visitor of the demo page nor a user of the API)."""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from xsell.config.settings import load_settings
from xsell.devenv import demo_data
from xsell.devenv.demo import VISITOR
from xsell.devenv.simulated import SIMULATED_PREFIX, Shoppers, is_simulated, simulated_user
from xsell.devenv.stack import LocalStack
from xsell.devenv.synthetic_shop import COMPLEMENTS, Shop, write_orders_csv
from xsell.models.events import CatalogItem, PurchaseEvent

Source = tuple[list[CatalogItem], list[PurchaseEvent], list[dict[str, Any]]]
MIN_ORDERS = 50  # orders of every anchor item in the demo's history


@pytest.fixture(scope="module")
def demo() -> Source:
    catalog, history, live = demo_data.synthetic(now=1_800_000_000.0)
    return catalog, history, list(itertools.islice(live, 2000))


def together(history: list[PurchaseEvent]) -> tuple[Counter[str], dict[str, Counter[str]]]:
    orders: Counter[str] = Counter()
    pairs: dict[str, Counter[str]] = defaultdict(Counter)
    for order in history:
        items = set(order.distinct_items())
        for a in items:
            orders[a] += 1
            pairs[a].update(items - {a})
    return orders, pairs


def test_every_anchor_is_bought_often_enough_to_learn_from(demo: Source) -> None:
    catalog, history, _ = demo
    orders, _ = together(history)
    anchors = [c.item_id for c in catalog if c.category in COMPLEMENTS]
    assert len(anchors) >= 80
    thin = {a: orders[a] for a in anchors if orders[a] < MIN_ORDERS}
    assert not thin, thin  # was 5 orders for a phone (3,000 orders, a steep long tail)


def test_a_phones_top_companions_are_cheaper_accessories_of_the_phone(demo: Source) -> None:
    catalog, history, _ = demo
    items = {c.item_id: c for c in catalog}
    orders, pairs = together(history)
    for anchor in (c for c in catalog if c.category in COMPLEMENTS):
        top = pairs[anchor.item_id].most_common(3)
        assert len(top) == 3, anchor.item_id
        for other, _ in top:  # was a EUR 1,142 camera and a soundbar for a phone
            assert items[other].category in COMPLEMENTS[anchor.category or ""], (anchor, other)
            assert (items[other].price or 0) < (anchor.price or 0), (anchor, other)
        # the top companion is bought with the anchor in a good share of its orders, from
        # dozens of orders, not one stray basket of a handful
        assert top[0][1] >= 10 and top[0][1] / orders[anchor.item_id] >= 0.1, (anchor, top)


def test_the_history_ends_before_now_and_is_in_time_order(demo: Source) -> None:
    _, history, _ = demo
    assert len(history) == demo_data.HISTORY_ORDERS
    assert 1_800_000_000.0 - 7200 < history[-1].ts <= 1_800_000_000.0 - 3600
    assert all(a.ts < b.ts for a, b in itertools.pairwise(history))


def test_the_catalogue_names_are_distinct(demo: Source) -> None:
    catalog, _, _ = demo
    names = Counter(c.name for c in catalog)
    assert [n for n, k in names.items() if k > 1] == []


def test_every_user_the_demo_plays_is_simulated(demo: Source) -> None:
    _, history, live = demo
    users = {o.user_id for o in history if o.user_id is not None}
    users |= {event["user_id"] for event in live}
    assert len(users) > 100
    assert all(u.startswith(SIMULATED_PREFIX) for u in users), sorted(users)[:5]
    assert VISITOR not in users and not is_simulated(VISITOR)
    assert {event["type"] for event in live} >= {"add_to_cart", "purchase"}


def test_an_orders_file_is_played_with_simulated_users(demo: Source, tmp_path: Path) -> None:
    catalog = demo[0]
    path = tmp_path / "orders.csv"
    orders = Shop(catalog, seed=7).orders(200, seed=1)  # the file's own ids: u0001 ...
    assert not any(is_simulated(o.user_id) for o in orders)
    write_orders_csv(path, orders, catalog)
    _, past, live = demo_data.from_csv(str(path), None, None, load_settings())
    users = {o.user_id for o in past} | {e["user_id"] for e in itertools.islice(live, 200)}
    assert users and all(is_simulated(u) for u in users if u is not None)


def test_simulated_user_adds_the_prefix_once() -> None:
    assert simulated_user("u0001") == "sim-u0001"
    assert simulated_user("sim-u0001") == "sim-u0001"
    assert not is_simulated(None) and not is_simulated("u0001") and is_simulated("sim-g1")


def suggestion(user: str | None) -> dict[str, Any]:
    return {
        "user_id": user,
        "suggestion_id": "s1",
        "placement": "cart",
        "items": [{"item_id": "phone-case-01", "kind": "cross_sell"}],
    }


class AlwaysAccepts(random.Random):
    def random(self) -> float:
        return 0.0  # below ACCEPT: every offer is taken


def test_the_shoppers_never_answer_for_a_real_user() -> None:
    shoppers = Shoppers({"phone-case-01": 20.0}, rng=AlwaysAccepts())
    for user in (VISITOR, "u0001", "api-user", None):
        assert shoppers.react(suggestion(user), 1.0) == []  # was impression, click, add
    answers = shoppers.react(suggestion("sim-u0001"), 1.0)
    assert [topic for topic, _ in answers] == ["feedback", "feedback", "cart-events"]
    assert {event["user_id"] for _, event in answers} == {"sim-u0001"}
    with pytest.raises(ValueError, match="not a simulated shopper"):
        shoppers.priced({"user_id": VISITOR, "items": [{"item_id": "phone-case-01"}]})


def test_the_stack_prints_the_export_lines_of_its_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XSELL_KEY_NAMESPACE", raising=False)
    monkeypatch.setenv("XSELL_TOPIC_PREFIX", "demo.")
    stack = LocalStack(
        {"XSELL_KAFKA_BROKERS": "127.0.0.1:40001", "XSELL_REDIS_URL": "redis://127.0.0.1:40002/0"}
    )
    assert stack.exports() == [
        "export XSELL_KAFKA_BROKERS=127.0.0.1:40001",
        "export XSELL_REDIS_URL=redis://127.0.0.1:40002/0",
        "export XSELL_TOPIC_PREFIX=demo.",
    ]
    assert LocalStack({"XSELL_REDIS_URL": "redis://x/0?a=1&b=2"}).exports(("XSELL_REDIS_URL",)) == [
        "export XSELL_REDIS_URL='redis://x/0?a=1&b=2'"
    ]
