"""Buy again end to end: a worker and an `xsell api` process on a real broker and Redis
(tests/integration/api_stack.py). Shoppers buy coffee every 10 days and a camera once; a
returning shopper's cart suggestion (worker) and recommendations (API) offer their coffee
again as kind rebuy once it is due, never their camera, and a guest gets none."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import stack_env
from tests.integration.api_stack import ApiStack, cart_event, conforms
from xsell.devenv.servers import LocalBroker, LocalRedis

pytestmark = pytest.mark.integration

DAY = 86400
T0 = 1_700_000_000


def _order(n: int, user: str, ts: float, items: list[str]) -> dict[str, Any]:
    return {
        "event_id": f"o{n}",
        "type": "purchase",
        "order_id": f"o{n}",
        "user_id": user,
        "ts": ts,
        "items": [{"item_id": i} for i in items],
    }


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    api = ApiStack(stack_env(broker, redis_server))
    orders, n = [], 0
    for u in range(20):
        for visit in range(4):
            n += 1
            items = ["coffee", "mug", "camera"] if visit == 0 else ["coffee", "filter"]
            orders.append(_order(n, f"s{u}", T0 + visit * 10 * DAY + u, items))
    orders.append(_order(900, "me", T0 + 30 * DAY, ["coffee", "camera"]))
    orders.append(_order(901, "late", T0 + 42 * DAY, ["filter"]))  # the state's clock: day 42
    answer = api.post("/v1/events", orders)
    assert answer.status_code == 202, answer.text
    api.wait_latest("late", "o901", "post_purchase")
    yield api
    api.stop()
    assert "Traceback" not in api.api.log_text(), api.api.log_text()[-3000:]


def _kinds(items: list[dict[str, Any]]) -> dict[str, str]:
    return {o["item_id"]: o["kind"] for o in items}


def test_recommendations_offer_a_due_item_again_and_never_a_durable(stack: ApiStack) -> None:
    got = stack.post("/v1/recommendations", {"items": ["mug"], "user_id": "me"})
    assert got.status_code == 200, got.text
    body = got.json()
    conforms("offers", body)
    kinds = _kinds(body["items"])
    assert kinds.get("coffee") == "rebuy", body
    assert "camera" not in kinds
    rebuy = next(o for o in body["items"] if o["kind"] == "rebuy")
    assert rebuy["because"]["rebuy"] == {"every_days": 10, "last_days": 12}
    guest = stack.post("/v1/recommendations", {"items": ["mug"]}).json()
    assert all(o["kind"] != "rebuy" for o in guest["items"])


def test_a_cart_suggestion_offers_it_too(stack: ApiStack) -> None:
    event = cart_event("c-me", "me", "mug", T0 + 42 * DAY + 60)
    assert stack.post("/v1/events", [event]).status_code == 202
    message = stack.wait_latest("me", "c-me")
    conforms("suggestion", message)
    kinds = _kinds(message["items"])
    assert kinds.get("coffee") == "rebuy", message
    assert "camera" not in kinds
