"""Views end to end (the package's one stack, conftest.py): `view` events over HTTP (a public
key with the user's token too) and straight on the cart-events topic reach the worker; an item
nobody bought offers its co-view partners on the product page, labelled; a bad view gets a
400 over HTTP and a dead letter over Kafka; a view yields no suggestion."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.helpers import Bus, wait_until
from tests.integration.api_stack import PUBLIC, ApiStack, conforms, token

pytestmark = pytest.mark.integration

TS = 1_700_000_500
CATALOG = [
    {"type": "item", "item_id": "lens", "category": "lens", "price": 200.0, "stock": 5},
    {"type": "item", "item_id": "tripod", "category": "tripod", "price": 50.0, "stock": 5},
    {"type": "item", "item_id": "strap", "category": "strap", "price": 15.0, "stock": 5},
]


def view(eid: str, user: str, item: str, ts: float) -> dict[str, Any]:
    return {"event_id": eid, "type": "view", "user_id": user, "item_id": item, "ts": ts}


def complements(stack: ApiStack, item: str) -> dict[str, Any]:
    answer = stack.get(f"/v1/items/{item}/complements")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_views_over_http_and_kafka_give_an_unbought_item_its_co_viewed_partners(
    stack: ApiStack,
) -> None:
    assert stack.post("/v1/events", CATALOG).status_code == 202
    before = complements(stack, "lens")
    assert before["items"] and all(o["kind"] == "popular" for o in before["items"])

    http = [view("vw-1", "vic", "lens", TS), view("vw-2", "vic", "tripod", TS + 5)]
    http.append(view("vw-3", "vic", "strap", TS + 9))
    answer = stack.post("/v1/events", http)
    assert answer.status_code == 202 and answer.json() == {"accepted": 3, "rejected": []}
    page = {"X-User-Token": token("val")}
    one = view("vw-4", "val", "lens", TS)
    assert stack.post("/v1/events", one, key=PUBLIC, headers=page).status_code == 202
    bus = Bus(stack.settings)
    try:
        bus.send("cart-events", "val", view("vw-5", "val", "tripod", TS + 3))

        def co_viewed() -> list[tuple[str, float]]:
            items = complements(stack, "lens")["items"]
            return [(o["item_id"], o["because"]["co_viewed"]) for o in items if o["because"]]

        wait_until(lambda: co_viewed() == [("tripod", 2.0), ("strap", 1.0)], what="co-views")
        message = complements(stack, "lens")
        conforms("offers", message)
        first, second, third = message["items"]
        assert first["kind"] == second["kind"] == "cross_sell"
        assert first["because"] == {
            "item_id": "lens",
            "together": 0.0,
            "confidence": 0.0,
            "co_viewed": 2.0,
        }
        assert third["kind"] == "popular"  # padding comes after the co-view partners
        # a view is no add-to-cart: no suggestion for the viewers, none in a cart
        assert stack.get("/v1/users/vic/suggestions").status_code == 404
        assert stack.get("/v1/users/val/suggestions").status_code == 404

        # a bad view: a 400 over HTTP, a dead letter over Kafka; the valid ones still flow
        bad = {"event_id": "vw-bad", "type": "view", "user_id": "vic", "ts": TS}
        refused = stack.post("/v1/events", bad)
        assert refused.status_code == 400 and "item_id" in refused.text
        bus.send("cart-events", "vic", {**bad, "event_id": "vw-bad-kafka"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (dead,) = bus.collect("dead-letter", 1, timeout=max(1.0, deadline - time.monotonic()))
            if "vw-bad-kafka" in str(dead["payload"]):
                assert "item_id" in dead["error"]
                break
        else:
            raise AssertionError("no dead letter for the bad view")
    finally:
        bus.close()
