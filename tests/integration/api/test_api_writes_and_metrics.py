"""`xsell api` end to end (the package's one stack, conftest.py): event ingestion (POST /v1/events:
mixed batches, bad and oversized bodies, hostile records) and the metrics of the API and of the
worker (run last: it counts what the tests before it sent)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.integration.api_stack import ApiStack, cart_event, conforms
from xsell.verify.hostile_cases import generate

pytestmark = pytest.mark.integration


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


# --- metrics of the API and the worker ---------------------------------------------------


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
    # self-tuning's choice: the configured similarity and prior until the stream says more
    assert samples['xsell_worker_tuning_similarity{similarity="confidence"}'] == 1.0
    assert samples['xsell_worker_tuning_similarity{similarity="jaccard"}'] == 0.0
    assert samples["xsell_worker_tuning_popularity_prior"] in (1.0, 10000.0)
