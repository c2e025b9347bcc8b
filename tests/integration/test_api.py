"""`xsell api` end to end: a real redis-server, the broker, a worker and an API process; every
route, field by field, and every error status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from kafka import KafkaConsumer

from tests.conftest import stack_env
from tests.integration.api_stack import ORIGIN, PUBLIC, SECRET, ApiStack, sse, token
from xsell.api.tokens import token_user
from xsell.devenv.servers import LocalBroker, LocalRedis
from xsell.verify.hostile_cases import generate

pytestmark = pytest.mark.integration
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def conforms(name: str, value: Any) -> None:
    """``value`` is valid for docs/schemas/NAME.schema.json (the contract)."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(value)


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


@pytest.fixture(scope="module")
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


def cart_event(eid: str, user: str, item: str, ts: float = 1_700_000_100) -> dict[str, Any]:
    return {"event_id": eid, "type": "add_to_cart", "user_id": user, "item_id": item, "ts": ts}


def assert_message(
    msg: dict[str, Any], *, user: str | None, placement: str, trigger_type: str
) -> None:
    assert set(msg) == {
        "suggestion_id",
        "user_id",
        "placement",
        "trigger",
        "items",
        "created_at",
        "variant",
    }
    assert msg["variant"] == "default"  # no experiment configured
    assert msg["suggestion_id"].startswith("sug-") and len(msg["suggestion_id"]) == 36
    assert msg["user_id"] == user and msg["placement"] == placement
    assert msg["trigger"]["type"] == trigger_type
    assert msg["created_at"].endswith("Z")
    assert len(msg["items"]) <= 3
    for offer in msg["items"]:
        assert set(offer) == {"item_id", "score", "kind", "because"}
        assert offer["kind"] in ("cross_sell", "upsell", "popular")


# --- health, description ----------------------------------------------------------------


def test_health_and_readiness(stack: ApiStack) -> None:
    assert stack.get("/healthz", key=None).json() == {"status": "ok"}
    assert stack.get("/readyz", key=None).json() == {
        "status": "ready",
        "redis": "ok",
        "kafka": "ok",
    }


def test_openapi_describes_every_route_and_docs_load_nothing_from_outside(stack: ApiStack) -> None:
    paths = stack.get("/openapi.json", key=None).json()["paths"]
    for route in (
        "/v1/users/{user_id}/suggestions",
        "/v1/users/{user_id}/suggestions/stream",
        "/v1/items/{item_id}/complements",
        "/v1/recommendations",
        "/v1/events",
        "/healthz",
        "/readyz",
        "/metrics",
        "/widget.js",
    ):
        assert route in paths, route
    page = stack.get("/docs", key=None).text
    assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn." not in page
    assert stack.get("/docs-assets/swagger-ui-bundle.js", key=None).status_code == 200
    widget = stack.get("/widget.js", key=None)
    assert widget.headers["content-type"].startswith("application/javascript")
    assert "EventSource" in widget.text and "http" not in widget.text.split("*/", 1)[1]


# --- keys and user tokens -----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {SECRET}"}]
)
def test_a_missing_or_wrong_key_gets_401(stack: ApiStack, headers: dict[str, str]) -> None:
    answer = stack.get("/v1/items/phone/complements", key=None, headers=headers)
    assert answer.status_code == 401 and "API key" in answer.json()["error"]


def test_a_secret_key_in_the_query_is_refused(stack: ApiStack) -> None:
    answer = stack.get(f"/v1/items/phone/complements?key={SECRET}", key=None)
    assert answer.status_code == 401 and "public keys only" in answer.json()["error"]


def test_a_public_key_on_a_secret_route_gets_403(stack: ApiStack) -> None:
    answer = stack.get("/metrics", key=PUBLIC)
    reason = "this route needs a secret API key"
    assert answer.status_code == 403 and answer.json() == {"error": reason, "detail": reason}


@pytest.mark.parametrize(
    ("user_token", "reason"),
    [
        (None, "this request needs a user token (X-User-Token) with a public key"),
        ("expired", "expired user token"),
        ("other", "the user token is for another user"),
        ("forged", "invalid user token"),
        ("garbage", "malformed user token"),
    ],
)
def test_a_public_key_without_a_valid_token_of_the_user_gets_403(
    stack: ApiStack, user_token: str | None, reason: str
) -> None:
    tokens = {
        None: None,
        "expired": token("alice", ttl=-10),
        "other": token("bob"),
        "forged": token("alice")[:-4] + "AAAA",
        "garbage": "x.y",
    }
    headers = {} if tokens[user_token] is None else {"X-User-Token": tokens[user_token]}
    for answer in (
        stack.get("/v1/users/alice/suggestions", key=PUBLIC, headers=headers),
        stack.get("/v1/items/phone/complements?user_id=alice", key=PUBLIC, headers=headers),
        stack.post(
            "/v1/recommendations",
            {"items": ["phone"], "user_id": "alice"},
            key=PUBLIC,
            headers=headers,
        ),
        stack.post("/v1/events", cart_event("t-1", "alice", "phone"), key=PUBLIC, headers=headers),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json() == {"error": reason, "detail": reason}


def test_a_public_key_with_the_users_token_may_read_and_post_cart_events(stack: ApiStack) -> None:
    headers = {"X-User-Token": token("carol")}
    answer = stack.post(
        "/v1/events", cart_event("carol-1", "carol", "phone"), key=PUBLIC, headers=headers
    )
    assert answer.status_code == 202 and answer.json() == {"accepted": 1, "rejected": []}
    stack.wait_latest("carol", "carol-1")
    assert stack.get("/v1/users/carol/suggestions", key=PUBLIC, headers=headers).status_code == 200
    assert stack.get("/v1/items/phone/complements", key=PUBLIC).status_code == 200  # no user
    purchase = {
        "event_id": "carol-o",
        "type": "purchase",
        "order_id": "c",
        "user_id": "carol",
        "ts": 1_700_000_200,
        "items": [{"item_id": "phone"}],
    }
    answer = stack.post("/v1/events", purchase, key=PUBLIC, headers=headers)
    assert answer.status_code == 403 and "cart and feedback events only" in answer.json()["error"]


def test_xsell_api_token_prints_a_token_the_api_accepts(stack: ApiStack) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "api", "token", "dave", "--ttl", "60"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **stack.env},
    )
    assert out.returncode == 0, out.stderr
    minted = out.stdout.strip()
    assert token_user(b"token-secret-for-tests", minted, time.time()) == "dave"
    answer = stack.get("/v1/users/dave/suggestions", key=PUBLIC, headers={"X-User-Token": minted})
    assert answer.status_code == 404  # allowed, and dave has no suggestion yet


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


# --- event ingestion -----------------------------------------------------------------------


def test_a_mixed_batch_sends_the_valid_and_lists_the_invalid(stack: ApiStack) -> None:
    batch = [
        cart_event("mix-1", "henry", "phone"),
        {"type": "add_to_cart"},
        [1],
        {"event_id": "x", "type": "teleport"},
        cart_event("mix-2", "henry", "case"),
    ]
    answer = stack.post("/v1/events", batch)
    assert answer.status_code == 202
    body = answer.json()
    conforms("events-answer", body)
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert body["rejected"][0]["error"] == "event_id: missing"
    assert body["rejected"][1]["error"] == "expected a JSON object, got list"
    assert body["rejected"][2]["error"].startswith("type: expected one of")
    stack.wait_latest("henry", "mix-2")


@pytest.mark.parametrize(
    ("content", "status", "reason"),
    [
        (b"not json", 400, "body: not JSON"),
        (b"[]", 400, "body: an empty array"),
        (b'{"a": NaN}', 400, "body: not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "body: not JSON"),
        (b'[{"type": "add_to_cart"}]', 400, "no valid event"),
    ],
)
def test_bad_bodies_get_400(stack: ApiStack, content: bytes, status: int, reason: str) -> None:
    answer = stack.post("/v1/events", content=content, headers={"Content-Type": "application/json"})
    assert answer.status_code == status and reason in answer.json()["error"]


def test_a_body_over_the_payload_limit_gets_413(stack: ApiStack) -> None:
    big = json.dumps([cart_event(f"b{n}", "ivan", "phone") for n in range(20_000)]).encode()
    assert len(big) > 1 << 20
    answer = stack.post("/v1/events", content=big, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    reason = "request body larger than 1048576 bytes (XSELL_MAX_PAYLOAD_BYTES)"
    assert answer.json() == {"error": reason, "detail": reason}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it is read
        for n in range(0, len(big), 65536):
            yield big[n : n + 65536]

    answer = stack.post(
        "/v1/events", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413


def test_hostile_records_never_get_a_500_and_the_valid_ones_are_accepted(stack: ApiStack) -> None:
    statuses: dict[int, int] = {}
    valid_accepted = 0
    for case in generate(300, seed=5, valid_every=10, big=False):
        answer = stack.post(
            "/v1/events", content=case.value or b"", headers={"Content-Type": "application/json"}
        )
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        assert answer.status_code in (202, 400, 413), (case, answer.text)
        if case.valid:
            assert answer.status_code == 202, (case, answer.text)
            valid_accepted += 1
    assert valid_accepted >= 25 and statuses.get(400, 0) >= 200


def test_cors_allows_the_configured_origin_only(stack: ApiStack) -> None:
    ok = stack.http.options(
        "/v1/events",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-user-token,content-type",
        },
    )
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ORIGIN
    other = stack.http.options(
        "/v1/events",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in other.headers


def test_metrics_count_requests_by_route_template_and_status(stack: ApiStack) -> None:
    stack.get("/v1/items/phone/complements")
    stack.get("/v1/items/nope/complements", key="wrong")
    text = stack.get("/metrics").text
    assert (
        'xsell_api_requests_total{method="GET",route="/v1/items/{item_id}/complements",'
        'status="200"}' in text
    )
    assert 'route="/v1/items/{item_id}/complements",status="401"' in text
    assert "xsell_api_request_seconds_bucket" in text and "xsell_api_open_streams" in text
    assert "xsell_api_kafka_errors_total" in text and "xsell_api_redis_errors_total" in text
    assert "/v1/items/phone" not in text  # templates, never raw paths


def test_the_api_refuses_a_public_address_without_keys(stack: ApiStack) -> None:
    env = {
        **os.environ,
        **stack.env,
        "XSELL_API_HOST": "0.0.0.0",
        "XSELL_API_KEYS": "",
        "XSELL_API_PUBLIC_KEYS": "",
    }
    out = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "api"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "xsell: unsafe configuration: the API on 0.0.0.0 without XSELL_API_KEYS or "
        "XSELL_API_PUBLIC_KEYS (set XSELL_ALLOW_UNSAFE=true to run anyway)"
    )


def test_the_worker_exports_its_metrics(stack: ApiStack) -> None:
    import httpx

    text = httpx.get(f"http://127.0.0.1:{stack.metrics_port}/metrics", timeout=10).text
    samples = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['xsell_worker_events_total{outcome="applied",topic="cart-events"}'] >= 5
    assert samples['xsell_worker_events_total{outcome="applied",topic="orders"}'] >= 7
    assert samples['xsell_worker_events_total{outcome="applied",topic="catalog"}'] >= 6
    assert samples['xsell_worker_suggestions_total{placement="cart"}'] >= 5
    assert samples['xsell_worker_suggestions_total{placement="post_purchase"}'] >= 7
    assert samples['xsell_worker_batch_seconds_count{topic="cart-events"}'] >= 1
    assert any(k.startswith("xsell_worker_consumer_lag{") for k in samples)
    assert "xsell_worker_dead_letters_total" in text
