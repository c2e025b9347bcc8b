"""The one API stack of the `xsell api` tests (test_api_*.py here): a worker and an API process
on the session's broker and Redis, seeded with a small catalogue and purchase history. It is
package-scoped, so it starts once for all of them (in file order: they share its state) and
stops after the last."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import stack_env
from tests.integration.api_stack import ApiStack
from xsell.devenv.servers import LocalBroker, LocalRedis

CATALOG = [
    {"type": "item", "item_id": "phone", "category": "phone", "price": 500.0, "stock": 10},
    {"type": "item", "item_id": "phone-pro", "category": "phone", "price": 900.0, "stock": 3},
    {"type": "item", "item_id": "case", "category": "case", "price": 20.0, "stock": 100},
    {"type": "item", "item_id": "charger", "category": "charger", "price": 30.0, "stock": 0},
    {"type": "item", "item_id": "screen", "category": "screen", "price": 15.0, "stock": 50},
    {"type": "item", "item_id": "cable", "category": "cable", "price": 9.0, "stock": 50},
]
HISTORY = [
    ["phone", "case", "charger"],
    ["phone", "case", "screen"],
    ["phone", "phone-pro"],
    ["phone", "cable"],
    ["phone", "case"],
    ["phone", "screen"],
    ["laptop", "bag"],
]


@pytest.fixture(scope="package")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    api = ApiStack(stack_env(broker, redis_server))
    orders = [
        {
            "event_id": f"h{n}",
            "type": "purchase",
            "order_id": f"h{n}",
            "user_id": f"buyer{n}",
            "ts": 1_700_000_000 + n,
            "items": [{"item_id": i} for i in items],
        }
        for n, items in enumerate(HISTORY)
    ]
    answer = api.post("/v1/events", [*CATALOG, *orders])
    assert answer.status_code == 202, answer.text
    api.wait_latest(f"buyer{len(HISTORY) - 1}", f"h{len(HISTORY) - 1}", "post_purchase")
    yield api
    api.stop()
    assert "Traceback" not in api.api.log_text(), api.api.log_text()[-3000:]
