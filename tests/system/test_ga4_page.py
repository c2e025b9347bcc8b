"""A shop page that tags GA4 (window.dataLayer) and adds the widget with data-datalayer, in a
real headless Chromium, against a real `xsell api` process, worker, broker and Redis: the
dataLayer's add_to_cart and purchase (entries already there when the widget loads and later
pushes) reach the cart-events and orders topics with stable event ids, the worker answers
and the suggestions arrive at the page over the stream; view_item becomes a view. The page
comes from a test-only server on another origin (as a shop's would); nothing from outside."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import stack_env
from tests.helpers import Bus
from tests.integration.api_stack import PUBLIC, ApiStack, token
from tests.system.browser import chromium, errors
from tests.system.demo_run import hosts
from xsell.devenv.servers import LocalBroker, LocalRedis, free_port

pytestmark = pytest.mark.integration

CATALOG = [
    {"type": "item", "item_id": "phone", "category": "phone", "price": 500.0, "stock": 10},
    {"type": "item", "item_id": "case", "category": "case", "price": 20.0, "stock": 100},
    {"type": "item", "item_id": "screen", "category": "screen", "price": 15.0, "stock": 50},
]
HISTORY = [["phone", "case"], ["phone", "case", "screen"], ["phone", "case"], ["phone", "screen"]]
GTM_ADD = {
    "event": "add_to_cart",
    "ecommerce": {"items": [{"item_id": "phone", "quantity": 1, "price": 500}]},
}
GTM_VIEW = {"event": "view_item", "ecommerce": {"items": [{"item_id": "phone", "price": 500}]}}
GTM_PURCHASE = {
    "event": "purchase",
    "ecommerce": {
        "transaction_id": "T-1001",
        "value": 520,
        "items": [
            {"item_id": "phone", "quantity": 1, "price": 500},
            {"item_id": "case", "quantity": "1", "price": "20.00"},
        ],
    },
}


class Pages(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def shop() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis, shop: str) -> Iterator[ApiStack]:
    api = ApiStack(
        stack_env(broker, redis_server),
        XSELL_API_CORS_ORIGINS=shop,
        XSELL_API_PUBLIC_PURCHASES="true",
    )
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
    assert api.post("/v1/events", CATALOG).status_code == 202
    time.sleep(1.0)  # the catalogue first: an order's categories are those of its items then
    answer = api.post("/v1/events", orders)
    assert answer.status_code == 202, answer.text
    api.wait_latest(f"buyer{len(HISTORY) - 1}", f"h{len(HISTORY) - 1}", "post_purchase")
    yield api
    api.stop()
    assert "Traceback" not in api.api.log_text(), api.api.log_text()[-3000:]


@pytest.fixture(scope="module")
def bus(stack: ApiStack) -> Iterator[Bus]:
    reader = Bus(stack.settings)
    yield reader
    reader.close()


def page(stack: ApiStack, user: str, entries: list[Any]) -> str:
    """A shop page with GA4 entries already in its dataLayer, then the widget's one tag."""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>GA4 shop</title>
<link rel="icon" href="data:,"></head><body>
<div id="xsell-offers"></div>
<script>
window.got = [];
window.xsellConfig = {{onSuggestion: function (m) {{ window.got.push(m); }}}};
window.dataLayer = window.dataLayer || [];
{"".join(f"dataLayer.push({json.dumps(e)});" for e in entries)}
</script>
<script src="{stack.api.url}/widget.js" data-key="{PUBLIC}" data-user="{user}"
  data-token="{token(user)}" data-placement="any" data-datalayer="on"></script>
</body></html>"""


def first(bus: Bus, topic: str, event_id: str) -> dict[str, Any]:
    """The next record of ``topic`` with ``event_id`` (others, the seeded history, skipped)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        (record,) = bus.collect(topic, 1, timeout=deadline - time.monotonic())
        if record["event_id"] == event_id:
            return record
    raise AssertionError(f"{topic}: no {event_id}")


def triggers(browser: Any) -> list[tuple[str, str]]:
    """(trigger type, placement) of the suggestions the page received over the stream."""
    got = browser.execute_script("return window.got.map(m => [m.trigger.type, m.placement])")
    return [tuple(g) for g in got]


def test_ga4_events_in_the_datalayer_reach_xsell_and_the_suggestions_reach_the_page(
    stack: ApiStack, bus: Bus, shop: str
) -> None:
    user = "ga4-shopper"
    Pages.pages["/product"] = page(stack, user, [GTM_VIEW, {"ecommerce": None}, GTM_ADD])
    with chromium() as browser:
        browser.get(shop + "/product")
        # the entries that were there before the widget: a view and an add to cart of the phone
        viewed, added = bus.collect("cart-events", 2)
        assert (viewed["type"], viewed["user_id"], viewed["item_id"]) == ("view", user, "phone")
        assert viewed["event_id"].startswith("ga4-") and viewed["event_id"] != added["event_id"]
        assert (added["type"], added["user_id"], added["item_id"]) == ("add_to_cart", user, "phone")
        assert (added["quantity"], added["price"]) == (1, 500)
        assert added["event_id"].startswith("ga4-") and added["event_id"].endswith("-0")
        WebDriverWait(browser, 15, poll_frequency=0.1).until(
            lambda b: ("add_to_cart", "cart") in triggers(b)
        )
        offered = browser.execute_script(
            "return [...document.querySelectorAll('#xsell-offers li')]"
            ".map(e => e.getAttribute('data-item-id'))"
        )
        assert "case" in offered and "phone" not in offered
        # a later push, as the shop's checkout does: a purchase, counted by the worker
        browser.execute_script(
            "dataLayer.push({ecommerce: null}); dataLayer.push(arguments[0])", GTM_PURCHASE
        )
        order = first(bus, "orders", "ga4-purchase-T-1001")
        assert order["order_id"] == "ga4:T-1001"
        assert order["user_id"] == user and order["type"] == "purchase"
        assert order["items"] == [
            {"item_id": "phone", "quantity": 1, "price": 500},
            {"item_id": "case", "quantity": 1, "price": 20},
        ]
        WebDriverWait(browser, 15, poll_frequency=0.1).until(
            lambda b: ("purchase", "post_purchase") in triggers(b)
        )
        assert stack.wait_latest(user, "ga4-purchase-T-1001", "post_purchase")
        assert hosts(browser) <= {shop, stack.api.url}  # nothing from anywhere else
        assert errors(browser) == []
        # a reload sends the page's entries again with the same event id: applied once
        browser.refresh()
        seen, again = bus.collect("cart-events", 2)
        assert (seen["event_id"], again["event_id"]) == (viewed["event_id"], added["event_id"])


def test_gtag_entries_map_like_gtm_ones_and_others_send_nothing(stack: ApiStack, shop: str) -> None:
    Pages.pages["/mapping"] = page(stack, "mapper", [])
    with chromium() as browser:
        browser.get(shop + "/mapping")
        WebDriverWait(browser, 10).until(lambda b: b.execute_script("return !!window.xsellWidget"))
        events = browser.execute_script(
            """
            function gtag() { return arguments; }
            const map = (e, i) => window.xsellWidget.ga4Events(e, i);
            return {
              gtag: map(gtag('event', 'remove_from_cart',
                             {items: [{item_id: 'case', quantity: 2, price: 19.5}]}), 7),
              gtagAgain: map(gtag('event', 'remove_from_cart',
                                  {items: [{item_id: 'case', quantity: 2, price: 19.5}]}), 7),
              elsewhere: map(gtag('event', 'remove_from_cart',
                                  {items: [{item_id: 'case', quantity: 2, price: 19.5}]}), 8),
              view: map({event: 'view_item', ecommerce: {items: [{item_id: 'x'}]}}, 0),
              cleared: map({ecommerce: null}, 1),
              config: map(gtag('config', 'G-XXXX'), 2),
              noOrder: map({event: 'purchase', ecommerce: {items: [{item_id: 'x'}]}}, 3),
              noItems: map({event: 'add_to_cart', ecommerce: {items: [{price: 3}]}}, 4),
            };
            """
        )
        # a product page's co-view partner says so (rendered without a user: no feedback)
        why = browser.execute_script(
            """
            window.xsellWidget.render({suggestion_id: 'sug-x', user_id: null,
              placement: 'product_page', items: [{item_id: 'strap', score: 1,
              kind: 'cross_sell', because: {item_id: 'lens', together: 0, confidence: 0,
              co_viewed: 7}}]});
            return document.querySelector('#xsell-offers .xsell-why').textContent;
            """
        )
    assert why == "Viewed with lens by 7 shoppers"
    (removed,) = events["gtag"]
    assert removed["type"] == "remove_from_cart" and removed["user_id"] == "mapper"
    assert (removed["item_id"], removed["quantity"], removed["price"]) == ("case", 2, 19.5)
    assert events["gtagAgain"][0]["event_id"] == removed["event_id"]  # stable
    assert events["elsewhere"][0]["event_id"] != removed["event_id"]  # another entry
    (viewed,) = events["view"]
    assert (viewed["type"], viewed["user_id"], viewed["item_id"]) == ("view", "mapper", "x")
    for name in ("cleared", "config", "noOrder", "noItems"):
        assert events[name] == [], name


def test_public_purchases_only_for_the_tokens_user(stack: ApiStack) -> None:
    purchase = {
        "event_id": "pp-1",
        "type": "purchase",
        "order_id": "pp-1",
        "user_id": "dana",
        "ts": 1_700_000_300,
        "items": [{"item_id": "phone"}],
    }
    mine = {"X-User-Token": token("dana")}
    answer = stack.post("/v1/events", purchase, key=PUBLIC, headers=mine)
    assert answer.status_code == 202 and answer.json() == {"accepted": 1, "rejected": []}
    other = stack.post("/v1/events", purchase, key=PUBLIC, headers={"X-User-Token": token("eve")})
    assert other.status_code == 403
    anonymous = {k: v for k, v in purchase.items() if k != "user_id"}
    answer = stack.post("/v1/events", anonymous, key=PUBLIC, headers=mine)
    assert answer.status_code == 403 and "user_id: needed" in answer.json()["error"]
    forget = {"event_id": "f-1", "type": "forget_user", "user_id": "dana", "ts": 1_700_000_301}
    answer = stack.post("/v1/events", forget, key=PUBLIC, headers=mine)
    assert answer.status_code == 403 and "cart and feedback events only" in answer.json()["error"]
