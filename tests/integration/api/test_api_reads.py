"""`xsell api` end to end (the package's one stack, conftest.py): the latest suggestion and its
stream, and the ranking routes (complements, recommendations), field by field, with their 400s."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kafka import KafkaConsumer

from tests.integration.api_stack import (
    PUBLIC,
    SECRET,
    ApiStack,
    assert_message,
    cart_event,
    conforms,
    sse,
    token,
)

pytestmark = pytest.mark.integration


# --- latest suggestion and its stream ----------------------------------------------------


def test_latest_is_exactly_what_went_to_the_topic_and_forget_user_erases_it(
    stack: ApiStack,
) -> None:
    consumer = KafkaConsumer(
        stack.settings.topic("suggestions"),
        bootstrap_servers=stack.settings.kafka.broker_list,
        auto_offset_reset="earliest",
        group_id=None,
    )
    assert stack.post("/v1/events", cart_event("erin-1", "erin", "phone")).status_code == 202
    latest = stack.wait_latest("erin", "erin-1")
    raw = stack.get("/v1/users/erin/suggestions").content
    deadline, on_topic = time.monotonic() + 30, None
    while on_topic is None and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                if record.key == b"erin" and record.value is not None:
                    on_topic = record.value
    consumer.close()
    assert raw == on_topic  # byte for byte
    assert_message(latest, user="erin", placement="cart", trigger_type="add_to_cart")
    conforms("suggestion", latest)
    assert [o["item_id"] for o in latest["items"]][:1] == ["case"]
    assert stack.get("/v1/users/erin/suggestions?placement=cart").content == raw
    missing = stack.get("/v1/users/erin/suggestions?placement=post_purchase")
    reason = "no suggestion for this user and placement post_purchase"
    assert missing.status_code == 404 and missing.json() == {"error": reason, "detail": reason}
    bad = stack.get("/v1/users/erin/suggestions?placement=shelf")
    assert bad.status_code == 400
    forget = {"event_id": "erin-f", "type": "forget_user", "user_id": "erin", "ts": 1_700_000_300}
    assert stack.post("/v1/events", forget).status_code == 202
    deadline = time.monotonic() + 30
    while stack.get("/v1/users/erin/suggestions").status_code != 404:
        assert time.monotonic() < deadline, "the latest suggestion survived forget_user"
        time.sleep(0.1)


def test_the_stream_pushes_each_suggestion_keeps_alive_and_resumes(stack: ApiStack) -> None:
    path = "/v1/users/frank/suggestions/stream"
    with sse(stack, path, {"Authorization": f"Bearer {SECRET}"}) as got:
        time.sleep(1.5)  # connected; a keep-alive comment arrives within the (test's) 1 s
        assert any(raw.startswith(":") for _, raw, _ in got), got
        sent = time.monotonic()
        assert stack.post("/v1/events", cart_event("frank-1", "frank", "phone")).status_code == 202
        deadline = time.monotonic() + 10
        while not [f for _, _, f in got if f.get("event") == "suggestion"]:
            assert time.monotonic() < deadline, got
            time.sleep(0.05)
        arrived, _, fields = next(g for g in got if g[2].get("event") == "suggestion")
        message = json.loads(fields["data"])
        assert fields["id"] == message["suggestion_id"]
        assert message["trigger"]["event_id"] == "frank-1" and arrived - sent < 5
    # a reconnect gets the latest at once, unless Last-Event-ID already names it
    with sse(stack, path, {"Authorization": f"Bearer {SECRET}"}) as again:
        time.sleep(1.0)
    assert [
        json.loads(f["data"])["trigger"]["event_id"]
        for _, _, f in again
        if f.get("event") == "suggestion"
    ] == ["frank-1"]
    with sse(
        stack, path, {"Authorization": f"Bearer {SECRET}", "Last-Event-ID": fields["id"]}
    ) as resumed:
        time.sleep(1.0)
    assert not [f for _, _, f in resumed if f.get("event") == "suggestion"]
    with sse(stack, f"{path}?key={PUBLIC}&token={token('frank')}") as public:
        time.sleep(1.0)
    assert [f["id"] for _, _, f in public if f.get("event") == "suggestion"] == [fields["id"]]


# --- ranking routes --------------------------------------------------------------------


def test_complements_follow_the_rules_and_the_users_cart_and_purchases(stack: ApiStack) -> None:
    answer = stack.get("/v1/items/phone/complements")
    assert answer.status_code == 200
    msg = answer.json()
    assert_message(msg, user=None, placement="product_page", trigger_type="product_view")
    conforms("offers", msg)
    assert msg["trigger"] == {"type": "product_view", "event_id": None, "item_ids": ["phone"]}
    offered = [o["item_id"] for o in msg["items"]]
    assert offered[0] == "case" and "charger" not in offered  # out of stock
    assert "phone-pro" not in offered  # a pricier phone is an upsell, excluded by default
    assert msg["items"][0]["because"]["item_id"] == "phone"
    assert len(stack.get("/v1/items/phone/complements?k=1").json()["items"]) == 1
    # a user who has a case in the cart and bought the screen gets neither
    assert stack.post("/v1/events", cart_event("gina-1", "gina", "case")).status_code == 202
    stack.wait_latest("gina", "gina-1")
    bought = {
        "event_id": "gina-o",
        "type": "purchase",
        "order_id": "g",
        "user_id": "gina",
        "ts": 1_700_000_150,
        "items": [{"item_id": "screen"}],
    }
    assert stack.post("/v1/events", bought).status_code == 202  # it empties the cart
    stack.wait_latest("gina", "gina-o", "post_purchase")
    assert stack.post("/v1/events", cart_event("gina-2", "gina", "case")).status_code == 202
    stack.wait_latest("gina", "gina-2")
    mine = [
        o["item_id"] for o in stack.get("/v1/items/phone/complements?user_id=gina").json()["items"]
    ]
    assert "case" not in mine and "screen" not in mine and mine


def test_followed_by_offers_what_buyers_of_the_item_bought_next(stack: ApiStack) -> None:
    later = {
        "event_id": "buyer0-later",
        "type": "purchase",
        "order_id": "b0-later",
        "user_id": "buyer0",
        "ts": 1_700_000_000 + 2 * 86400,  # two days after buyer0's phone
        "items": [{"item_id": "cable"}],
    }
    assert stack.post("/v1/events", later).status_code == 202
    stack.wait_latest("buyer0", "buyer0-later", "post_purchase")
    answer = stack.get("/v1/items/phone/followed-by")
    assert answer.status_code == 200
    msg = answer.json()
    assert_message(msg, user=None, placement="product_page", trigger_type="product_view")
    conforms("offers", msg)
    first, *rest = msg["items"]
    assert first["item_id"] == "cable" and first["kind"] == "cross_sell"
    # one follow-up of the phone's 6 orders; the same-basket partners (case) are not offered
    # for what they are: anything after the follow-ups is popular padding
    assert first["because"]["followed_by"] == {"item": "phone", "share": 0.166667, "days": 30}
    assert all(o["kind"] == "popular" for o in rest)
    assert stack.get("/v1/items/phone/followed-by?k=0").status_code == 400


def test_recommendations_rank_a_cart_without_changing_state(stack: ApiStack) -> None:
    before = stack.get("/v1/items/phone/complements").json()["items"]
    answer = stack.post(
        "/v1/recommendations", {"items": ["case", "phone"], "placement": "checkout", "k": 2}
    )
    msg = answer.json()
    assert answer.status_code == 200
    assert_message(msg, user=None, placement="checkout", trigger_type="request")
    conforms("offers", msg)
    assert msg["trigger"] == {"type": "request", "event_id": None, "item_ids": ["case", "phone"]}
    assert len(msg["items"]) <= 2 and not {o["item_id"] for o in msg["items"]} & {"case", "phone"}
    assert stack.post("/v1/recommendations", {"items": ["phone"]}).json()["placement"] == "cart"
    assert stack.get("/v1/items/phone/complements").json()["items"] == before


def test_support_offers_complements_of_what_the_user_owns_explained(stack: ApiStack) -> None:
    # sue bought a screen, then wipes (bought with nothing else): a follow-up of the screen
    wipes = {"type": "item", "item_id": "wipes", "category": "wipes", "price": 5.0, "stock": 9}
    sue = [
        {
            "event_id": f"sue-{n}",
            "type": "purchase",
            "order_id": f"sue-{n}",
            "user_id": "sue",
            "ts": ts,
            "items": [{"item_id": item}],
        }
        for n, (item, ts) in enumerate((("screen", 1_700_000_100), ("wipes", 1_700_000_140)))
    ]
    assert stack.post("/v1/events", [wipes, *sue]).status_code == 202
    stack.wait_latest("sue", "sue-1", "post_purchase")
    bought = {
        "event_id": "sam-o",
        "type": "purchase",
        "order_id": "sam",
        "user_id": "sam",
        "ts": 1_700_000_160,
        "items": [{"item_id": "phone", "price": 500.0}, {"item_id": "screen", "price": 15.0}],
    }
    assert stack.post("/v1/events", bought).status_code == 202
    stack.wait_latest("sam", "sam-o", "post_purchase")
    answer = stack.get("/v1/users/sam/recommendations?placement=support")
    assert answer.status_code == 200, answer.text
    msg = answer.json()
    assert_message(msg, user="sam", placement="support", trigger_type="history")
    conforms("offers", msg)
    assert msg["trigger"] == {"type": "history", "event_id": None, "item_ids": ["phone", "screen"]}
    offered = [o["item_id"] for o in msg["items"]]
    assert offered and offered[0] == "case", msg
    assert not {"phone", "screen"} & set(offered)  # never an owned item
    # every offer is explained by an item the customer owns; no popular padding
    assert all(o["because"]["item_id"] in ("phone", "screen") for o in msg["items"])
    # and what buyers of an owned item bought next, explained as a follow-up of it
    wiped = next(o for o in msg["items"] if o["item_id"] == "wipes")
    followed = wiped["because"]["followed_by"]
    assert wiped["because"]["item_id"] == "screen" and followed["item"] == "screen", wiped
    assert followed["days"] == 30 and 0 < followed["share"] <= 0.5, wiped  # 1 of 4+
    assert all(
        o["because"].get("followed_by", followed)["item"] in ("phone", "screen")
        for o in msg["items"]
    )
    assert msg["segment"]["lifecycle"] == "returning" and msg["segment"]["spend"] is not None
    # the other ranking routes carry the user's segment too; a guest's is null
    mine = stack.get("/v1/items/phone/complements?user_id=sam").json()
    assert mine["segment"] == msg["segment"]
    assert stack.get("/v1/items/phone/complements").json()["segment"] is None
    cart = stack.post("/v1/recommendations", {"items": ["phone"], "user_id": "sam"}).json()
    assert cart["segment"] == msg["segment"]
    # the support console's route: a secret key only, even with the user's own token
    public = stack.get(
        "/v1/users/sam/recommendations?placement=support",
        key=PUBLIC,
        headers={"X-User-Token": token("sam")},
    )
    assert public.status_code == 403
    assert stack.get("/v1/users/nobody-yet/recommendations?placement=support").status_code == 404
    assert stack.get("/v1/users/sam/recommendations?placement=cart").status_code == 400
    assert stack.get("/v1/users/sam/recommendations").status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "body", "reason"),
    [
        ("get", "/v1/items/phone/complements?k=4", None, "k: must be between 1 and 3"),
        ("get", "/v1/items/phone/complements?k=zero", None, "k:"),
        ("get", "/v1/items/" + "x" * 200 + "/complements", None, "item_id: longer than 128"),
        ("get", "/v1/users/" + "u" * 200 + "/suggestions", None, "user_id: longer than 128"),
        ("get", "/v1/items/a%00b/complements", None, "item_id: contains control"),
        ("post", "/v1/recommendations", {"items": []}, "items:"),
        ("post", "/v1/recommendations", {"items": "phone"}, "items:"),
        ("post", "/v1/recommendations", {"items": [{"a": 1}]}, "items"),
        ("post", "/v1/recommendations", {"items": ["phone"], "placement": "shelf"}, "placement"),
        ("post", "/v1/recommendations", {"items": ["x"] * 1001}, "items:"),
        ("post", "/v1/recommendations", {"items": ["phone"], "extra": 1}, "extra"),
        ("post", "/v1/recommendations", {"items": ["phone"], "k": 9}, "k: must be between"),
    ],
)
def test_bad_ranking_requests_get_400_with_a_reason(
    stack: ApiStack, method: str, path: str, body: Any, reason: str
) -> None:
    answer = stack.get(path) if method == "get" else stack.post(path, body)
    assert answer.status_code == 400, answer.text
    conforms("error", answer.json())
    assert reason in answer.json()["error"]
