"""The connectors end to end: a real `xsell api` process and worker on the session's broker and
Redis; documented webhook payloads (tests/fixtures/connect/), signed here, become records on
xsell's topics and state in Redis; a wrong signature, an unknown topic, a malformed payload and
a connector without its secret are refused; a retried webhook gives the same event ids."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import stack_env
from tests.helpers import Bus
from tests.integration.api_stack import API_ENV, ApiStack
from xsell.config.strength import new_secret
from xsell.connect.common import signature
from xsell.devenv.servers import LocalApi, LocalBroker, LocalRedis

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "connect"
SHOP_SECRET = new_secret()
WOO_SECRET = new_secret()


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    # Shopify on, WooCommerce off (its secret unset)
    api = ApiStack(stack_env(broker, redis_server, XSELL_SHOPIFY_WEBHOOK_SECRET=SHOP_SECRET))
    yield api
    api.stop()
    assert "Traceback" not in api.api.log_text(), api.api.log_text()[-3000:]


@pytest.fixture(scope="module")
def bus(stack: ApiStack) -> Iterator[Bus]:
    reader = Bus(stack.settings)
    yield reader
    reader.close()


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def shopify(
    stack: ApiStack, topic: str, body: bytes, webhook_id: str, secret: str = SHOP_SECRET
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature(secret, body),
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "shop.myshopify.com",
    }
    return stack.http.post("/v1/connect/shopify", content=body, headers=headers)


def export(stack: ApiStack, user: str) -> dict[str, Any]:
    body = json.dumps({"shop_id": 1, "customer": {"id": user}, "data_request": {"id": 1}})
    answer = shopify(stack, "customers/data_request", body.encode(), f"dr-{time.monotonic()}")
    assert answer.status_code == 200, answer.text
    exported: dict[str, Any] = answer.json()["export"]
    return exported


def test_a_signed_order_goes_to_the_orders_topic_and_a_retry_changes_nothing(
    stack: ApiStack, bus: Bus
) -> None:
    body = body_of("shopify_orders_create.json")
    first = shopify(stack, "orders/create", body, "b7a1e8d2-order")
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["platform"], answer["topic"], answer["accepted"]) == (
        "shopify",
        "orders/create",
        1,
    )
    (record,) = bus.collect("orders", 1)
    assert record["type"] == "purchase" and record["event_id"] == answer["event_ids"][0]
    assert record["user_id"] == "115310627314723954"
    assert [line["item_id"] for line in record["items"]] == ["IPOD2008PINK", "632910393"]
    retry = shopify(stack, "orders/create", body, "b7a1e8d2-order")
    assert retry.status_code == 200 and retry.json()["event_ids"] == answer["event_ids"]
    (again,) = bus.collect("orders", 1)
    assert again["event_id"] == record["event_id"]
    # the worker applied it once: the customer's purchases are in the data request's export
    deadline = time.monotonic() + 30
    while not export(stack, "115310627314723954")["purchases"]:
        assert time.monotonic() < deadline, "the purchase never reached the state"
        time.sleep(0.2)
    purchases = export(stack, "115310627314723954")["purchases"]
    assert sorted(purchases) == ["632910393", "IPOD2008PINK"]


def test_cart_versions_become_adds_and_removes_and_a_retry_repeats_the_same(
    stack: ApiStack, bus: Bus
) -> None:
    created = shopify(stack, "carts/create", body_of("shopify_carts_create.json"), "cart-w1")
    assert created.status_code == 200, created.text
    (add,) = bus.collect("cart-events", 1)
    assert (add["type"], add["item_id"], add["quantity"]) == ("add_to_cart", "example-shirt-s", 3)
    update = body_of("shopify_carts_update.json")
    updated = shopify(stack, "carts/update", update, "cart-w2")
    assert updated.status_code == 200 and updated.json()["accepted"] == 2
    changes = bus.collect("cart-events", 2)
    assert [(r["type"], r["item_id"]) for r in changes] == [
        ("add_to_cart", "example-socks"),
        ("remove_from_cart", "example-shirt-s"),
    ]
    # Shopify sends the same webhook again (our 200 was lost): the same events, same ids
    retried = shopify(stack, "carts/update", update, "cart-w2")
    assert retried.json()["event_ids"] == updated.json()["event_ids"]
    assert [r["event_id"] for r in bus.collect("cart-events", 2)] == [
        r["event_id"] for r in changes
    ]
    user = "eeafa272cebfd4b22385bc4b645e762c"
    deadline = time.monotonic() + 30
    while list(export(stack, user)["cart"]) != ["example-socks"]:
        assert time.monotonic() < deadline, export(stack, user)
        time.sleep(0.2)


def test_products_become_catalogue_records_and_a_deletion_retires_them(
    stack: ApiStack, bus: Bus
) -> None:
    answer = shopify(stack, "products/update", body_of("shopify_products_update.json"), "p-w1")
    assert answer.status_code == 200, answer.text
    (item,) = bus.collect("catalog", 1)
    assert item == {
        "type": "item",
        "item_id": "788032119674292922",
        "active": True,
        "name": "Example T-Shirt",
        "category": "Shirts",
        "brand": "Acme",
        "tags": ["example", "mens", "t-shirt"],
        "price": 19.99,
        "stock": 125.0,
    }
    gone = shopify(stack, "products/delete", body_of("shopify_products_delete.json"), "p-w2")
    assert gone.status_code == 200
    (retired,) = bus.collect("catalog", 1)
    assert retired == {"type": "item", "item_id": "788032119674292922", "active": False}


def test_redact_sends_forget_user(stack: ApiStack, bus: Bus) -> None:
    answer = shopify(stack, "customers/redact", body_of("shopify_customers_redact.json"), "r-w1")
    assert answer.status_code == 200, answer.text
    (record,) = bus.collect("orders", 1)
    assert (record["type"], record["user_id"]) == ("forget_user", "191167")
    assert record["event_id"] == answer.json()["event_ids"][0]


def test_refusals(stack: ApiStack) -> None:
    body = body_of("shopify_orders_create.json")
    wrong = shopify(stack, "orders/create", body, "x1", secret=new_secret())
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "X-Shopify-Hmac-Sha256: not the signature of the body"
    unsigned = stack.http.post(
        "/v1/connect/shopify",
        content=body,
        headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "x2"},
    )
    assert unsigned.status_code == 401
    unknown = shopify(stack, "orders/paid", body, "x3")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "X-Shopify-Topic: 'orders/paid' is not one xsell takes"
    malformed = shopify(stack, "orders/create", b'{"id": 1, "line_items": {}}', "x4")
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "body: line_items: expected an array"
    signed_only = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": signature(SHOP_SECRET, body),
    }
    missing = stack.http.post("/v1/connect/shopify", content=body, headers=signed_only)
    assert missing.status_code == 400 and "X-Shopify-Webhook-Id" in missing.json()["error"]
    not_json = shopify(stack, "orders/create", b"{", "x5")
    assert (not_json.status_code, not_json.json()["error"]) == (400, "body: not JSON")
    huge = b'{"id": 1, "note": "' + b"x" * (stack.settings.inputs.max_payload_bytes) + b'"}'
    assert shopify(stack, "orders/create", huge, "x6").status_code == 413
    off = stack.http.post(
        "/v1/connect/woocommerce",
        content=b"{}",
        headers={"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Signature": "x"},
    )
    assert off.status_code == 404 and "woocommerce connector is off" in off.json()["error"]


def test_the_routes_are_in_the_openapi_document(stack: ApiStack) -> None:
    paths = stack.http.get("/openapi.json").json()["paths"]
    for path in ("/v1/connect/shopify", "/v1/connect/woocommerce"):
        responses = paths[path]["post"]["responses"]
        assert sorted(responses) == ["200", "400", "401", "404", "413", "503"]
        assert responses["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ConnectAnswer"
        }
    (topic,) = [
        p
        for p in paths["/v1/connect/shopify"]["post"]["parameters"]
        if p["name"] == "X-Shopify-Topic"
    ]
    assert topic["required"] and "orders/create" in topic["schema"]["enum"]


# --- WooCommerce: an API process of its own, with its secret set (no worker needed) ---------


@pytest.fixture(scope="module")
def woo(stack: ApiStack) -> Iterator[httpx.Client]:
    env = {**stack.env, **API_ENV, "XSELL_WOOCOMMERCE_WEBHOOK_SECRET": WOO_SECRET}
    env.pop("XSELL_SHOPIFY_WEBHOOK_SECRET")
    api = LocalApi(env)
    api.start(timeout=60)
    with httpx.Client(base_url=api.url, timeout=30) as client:
        yield client
    api.stop()
    assert "Traceback" not in api.log_text(), api.log_text()[-3000:]


def woocommerce(
    client: httpx.Client, topic: str | None, body: bytes, secret: str = WOO_SECRET
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Signature": signature(secret, body),
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Delivery-ID": "41",
    }
    if topic is not None:
        headers["X-WC-Webhook-Topic"] = topic
    return client.post("/v1/connect/woocommerce", content=body, headers=headers)


def test_woocommerce_order_and_product_go_to_their_topics(woo: httpx.Client, bus: Bus) -> None:
    ordered = woocommerce(woo, "order.created", body_of("woocommerce_order_created.json"))
    assert ordered.status_code == 200, ordered.text
    (order,) = bus.collect("orders", 1)
    assert (order["type"], order["order_id"], order["user_id"]) == (
        "purchase",
        "woocommerce:727",
        None,
    )
    assert [(line["item_id"], line["quantity"]) for line in order["items"]] == [
        ("93", 2),
        ("Bar3", 1),
    ]
    assert ordered.json()["event_ids"] == [order["event_id"]]
    again = woocommerce(woo, "order.created", body_of("woocommerce_order_created.json"))
    assert again.json()["event_ids"] == [order["event_id"]]
    assert bus.collect("orders", 1)[0]["event_id"] == order["event_id"]
    product = woocommerce(woo, "product.updated", body_of("woocommerce_product_updated.json"))
    assert product.status_code == 200, product.text
    (item,) = bus.collect("catalog", 1)
    assert (item["item_id"], item["category"], item["price"]) == ("794", "clothing", 21.99)


def test_woocommerce_ping_refusals_and_shopify_off(woo: httpx.Client) -> None:
    ping = woo.post(
        "/v1/connect/woocommerce",
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert ping.status_code == 200 and ping.json()["topic"] == "ping"
    body = body_of("woocommerce_order_created.json")
    wrong = woocommerce(woo, "order.created", body, secret=new_secret())
    assert wrong.status_code == 401
    unknown = woocommerce(woo, "coupon.created", body)
    assert unknown.status_code == 400 and "'coupon.created'" in unknown.json()["error"]
    missing = woocommerce(woo, None, body)
    assert missing.status_code == 400 and "X-WC-Webhook-Topic" in missing.json()["error"]
    malformed = woocommerce(woo, "product.updated", b'{"id": 5, "price": "cheap"}')
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "body: price: expected a number, got 'cheap'"
    off = woo.post("/v1/connect/shopify", content=b"{}", headers={"X-Shopify-Topic": "x"})
    assert off.status_code == 404
