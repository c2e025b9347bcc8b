"""The connectors' pure mappings (xsell/connect/): documented webhook payloads
(tests/fixtures/connect/) to records the worker's own parser accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xsell.connect import shopify, woocommerce
from xsell.connect.common import Malformed, event_id, signature, signed, tags_of
from xsell.models.events import Limits
from xsell.models.validate import parse_record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "connect"
TOPIC = {"item": "catalog", "purchase": "orders", "forget_user": "orders"}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def parsed(records: list[dict[str, Any]]) -> list[Any]:
    """Every record through the worker's parser (raises if one is not valid)."""
    return [
        parse_record(TOPIC.get(r["type"], "cart-events"), json.dumps(r), Limits()) for r in records
    ]


def test_signature_is_base64_hmac_sha256_and_checked() -> None:
    # RFC 4231 test case 2's key and data; its HMAC-SHA256 in base64
    assert signature("Jefe", b"what do ya want for nothing?") == (
        "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
    )
    good = signature("s" * 40, b"{}")
    assert signed("s" * 40, b"{}", good)
    assert not signed("s" * 40, b"{ }", good)
    assert not signed("t" * 40, b"{}", good)
    assert not signed("s" * 40, b"{}", None) and not signed("s" * 40, b"{}", "")


def test_shopify_order_becomes_one_purchase() -> None:
    (record,) = shopify.order_records(fixture("shopify_orders_create.json"), now=0.0)
    (event,) = parsed([record])
    assert event.order_id == "shopify:820982911946154508"
    assert event.user_id == "115310627314723954"
    assert event.ts == 1640995200.0  # 2021-12-31T19:00:00-05:00
    # SKU where there is one, else the product id; the custom line (no product) is left out
    assert [(line.item_id, line.quantity, line.price) for line in event.items] == [
        ("IPOD2008PINK", 1.0, 199.0),
        ("632910393", 2.0, 19.0),
    ]
    again = shopify.order_records(fixture("shopify_orders_create.json"), now=5.0)
    assert again[0]["event_id"] == record["event_id"]  # from the order id: a resend is a no-op


def test_shopify_guest_order_is_the_cart_token_and_custom_only_order_is_nothing() -> None:
    order = fixture("shopify_orders_create.json")
    order.update(customer=None, cart_token="tok-1")
    assert shopify.order_records(order, 0.0)[0]["user_id"] == "tok-1"
    order["line_items"] = order["line_items"][2:]
    assert shopify.order_records(order, 0.0) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id: expected an id"),
        ({"line_items": "x"}, "line_items: expected an array"),
        ({"line_items": [7]}, "line_items[0]: expected an object"),
        ({"line_items": [{"sku": "a", "quantity": "two"}]}, "line_items[0].quantity"),
    ],
)
def test_shopify_malformed_order_names_the_field(change: dict[str, Any], reason: str) -> None:
    order = {**fixture("shopify_orders_create.json"), **change}
    with pytest.raises(Malformed, match=reason.replace("[", r"\[").replace("]", r"\]")):
        shopify.order_records(order, 0.0)


def test_shopify_cart_versions_become_adds_and_removes() -> None:
    first = shopify.cart_of(fixture("shopify_carts_create.json"), now=0.0)
    assert first.cart_id == "eeafa272cebfd4b22385bc4b645e762c"
    assert first.lines == {"example-shirt-s": 3.0}
    created = shopify.cart_records(first, {}, "w1")
    assert [(r["type"], r["item_id"], r.get("quantity")) for r in created] == [
        ("add_to_cart", "example-shirt-s", 3.0)
    ]
    second = shopify.cart_of(fixture("shopify_carts_update.json"), now=0.0)
    updated = shopify.cart_records(second, first.lines, "w2")
    assert [(r["type"], r["item_id"]) for r in updated] == [
        ("add_to_cart", "example-socks"),
        ("remove_from_cart", "example-shirt-s"),
    ]
    events = parsed(created + updated)
    assert {e.user_id for e in events} == {first.cart_id}
    assert events[1].ts == 1640995500.0
    # the same delivery gives the same ids; another delivery other ids
    assert [r["event_id"] for r in shopify.cart_records(second, first.lines, "w2")] == [
        r["event_id"] for r in updated
    ]
    assert shopify.cart_records(second, first.lines, "w3")[0]["event_id"] != updated[0]["event_id"]
    # more of an item already there: added by the increase; fewer: nothing
    more = shopify.cart_records(first, {"example-shirt-s": 1.0}, "w4")
    assert [r["quantity"] for r in more] == [2.0]
    assert shopify.cart_records(first, {"example-shirt-s": 5.0}, "w5") == []


def test_shopify_product_variants_without_sku_are_one_item() -> None:
    product, records = shopify.product_records(fixture("shopify_products_update.json"))
    assert product == "788032119674292922"
    assert records == [
        {
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
    ]
    (item,) = parsed(records)
    assert (item.category, item.price, item.stock, item.active) == ("Shirts", 19.99, 125.0, True)


def test_shopify_product_variants_with_skus_are_items_and_drafts_inactive() -> None:
    payload = fixture("shopify_products_update.json")
    payload["status"] = "draft"
    payload["variants"][0]["sku"] = "TS-S"
    payload["variants"][1].update(sku="TS-M", price="21.00", inventory_quantity=-3)
    _, records = shopify.product_records(payload)
    assert [(r["item_id"], r["price"], r["stock"], r["active"]) for r in records] == [
        ("TS-S", 19.99, 75.0, False),
        ("TS-M", 21.0, 0.0, False),
    ]


def test_shopify_delete_redact_and_data_request() -> None:
    assert shopify.deleted_product(fixture("shopify_products_delete.json")) == "788032119674292922"
    assert shopify.retired_records(["a"]) == [{"type": "item", "item_id": "a", "active": False}]
    user = shopify.customer_of(fixture("shopify_customers_redact.json"))
    assert user == "191167" == shopify.customer_of(fixture("shopify_customers_data_request.json"))
    record = shopify.forget_record(user, "w9", now=1_700_000_000.0)
    (event,) = parsed([record])
    assert (event.type, event.user_id) == ("forget_user", "191167")
    assert record["event_id"] == event_id("shopify", "w9", "forget", "191167")
    with pytest.raises(Malformed, match="customer: expected an object"):
        shopify.customer_of({"shop_id": 1})


def test_woocommerce_order_becomes_one_guest_purchase() -> None:
    (record,) = woocommerce.order_records(fixture("woocommerce_order_created.json"), now=0.0)
    (event,) = parsed([record])
    assert (event.order_id, event.user_id) == ("woocommerce:727", None)  # customer_id 0: guest
    assert event.ts == 1490210882.0  # date_created_gmt 2017-03-22T19:28:02
    assert [(line.item_id, line.quantity, line.price) for line in event.items] == [
        ("93", 2.0, 3.0),
        ("Bar3", 1.0, 12.0),
    ]


def test_woocommerce_product_becomes_a_catalogue_record() -> None:
    (record,) = woocommerce.product_records(fixture("woocommerce_product_updated.json"))
    assert record == {
        "type": "item",
        "item_id": "794",
        "active": True,
        "name": "Premium Quality",
        "category": "clothing",
        "price": 21.99,
    }
    draft = {**fixture("woocommerce_product_updated.json"), "status": "draft", "sku": "PQ"}
    draft.update(stock_quantity=None, stock_status="outofstock")
    (off,) = woocommerce.product_records(draft)
    assert (off["item_id"], off["active"], off["stock"]) == ("PQ", False, 0.0)
    parsed([record, off])


def test_tags_are_short_distinct_and_few() -> None:
    assert tags_of("a, b,a , ") == ["a", "b"]
    assert tags_of("x|y") == ["x", "y"]
    assert tags_of([{"id": 1, "name": "sale"}, "new"]) == ["sale", "new"]
    assert tags_of("t" * 100) == ["t" * 64]
    assert len(tags_of(",".join(str(i) for i in range(100)))) == 32
    assert tags_of(None) == []
