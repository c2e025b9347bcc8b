"""Merchant rules through `xsell api` (docs/rules.md): CRUD with its 400s and 404s, the
preview, and a saved rule obeyed by the next complements answer within a second (the API's
answer cache included). Every rule made here is deleted at the end: the stack is shared."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.api_stack import PUBLIC, SECRET, ApiStack, conforms

pytestmark = pytest.mark.integration

RULE: dict[str, Any] = {
    "name": "phones: cables first, no cases",
    "priority": 10,
    "when": {"placements": ["product_page"], "items": ["phone"]},
    "then": {"pin": ["cable"], "hide": ["case"]},
}


def send(stack: ApiStack, method: str, path: str, body: Any = None) -> httpx.Response:
    return stack.http.request(
        method, path, json=body, headers={"Authorization": f"Bearer {SECRET}"}
    )


@pytest.fixture
def clean(stack: ApiStack) -> Iterator[None]:
    yield
    for rule in send(stack, "GET", "/v1/rules").json()["rules"]:
        assert send(stack, "DELETE", f"/v1/rules/{rule['rule_id']}").status_code == 200


def offered(stack: ApiStack) -> list[str]:
    got = stack.get("/v1/items/phone/complements")
    assert got.status_code == 200, got.text
    return [o["item_id"] for o in got.json()["items"]]


def test_rules_crud_and_its_refusals(stack: ApiStack, clean: None) -> None:
    before = send(stack, "GET", "/v1/rules").json()["version"]
    made = send(stack, "POST", "/v1/rules", RULE)
    assert made.status_code == 201, made.text
    rule_id, version = made.json()["rule_id"], made.json()["version"]
    assert version == before + 1
    listed = send(stack, "GET", "/v1/rules").json()
    assert listed["version"] == version
    assert [r["rule_id"] for r in listed["rules"]] == [rule_id]
    one = send(stack, "GET", f"/v1/rules/{rule_id}").json()
    assert one["then"]["pin"] == ["cable"] and one["priority"] == 10
    changed = send(stack, "PUT", f"/v1/rules/{rule_id}", {**RULE, "priority": 3})
    assert changed.json() == {"rule_id": rule_id, "version": version + 1}
    assert send(stack, "GET", f"/v1/rules/{rule_id}").json()["priority"] == 3
    for method, body in (("GET", None), ("PUT", RULE), ("DELETE", None)):
        missing = send(stack, method, "/v1/rules/rule-nope", body)
        assert missing.status_code == 404 and "rule-nope" in missing.json()["error"]
    bad = [
        ({**RULE, "colour": "red"}, "colour"),
        ({**RULE, "then": {"pin": ["a", "b", "c", "d"]}}, "pin"),
        ({**RULE, "then": {"boost": [{"tag": "x", "factor": 0}]}}, "factor"),
        ({**RULE, "then": {"boost": [{"tag": "x", "factor": 100.5}]}}, "factor"),
        (
            {**RULE, "when": {"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00Z"}},
            "ends_at must be after starts_at",
        ),
    ]
    for body, reason in bad:
        refused = send(stack, "POST", "/v1/rules", body)
        assert refused.status_code == 400 and reason in refused.json()["error"], refused.text
    public = stack.http.get("/v1/rules", headers={"Authorization": f"Bearer {PUBLIC}"})
    assert public.status_code == 403
    gone = send(stack, "DELETE", f"/v1/rules/{rule_id}")
    assert gone.json() == {"rule_id": rule_id, "version": version + 2}
    assert send(stack, "GET", f"/v1/rules/{rule_id}").status_code == 404


def test_a_saved_rule_is_obeyed_by_complements_within_a_second(
    stack: ApiStack, clean: None
) -> None:
    first = offered(stack)
    assert "case" in first and first[0] != "cable"  # cached now (XSELL_API_CACHE_SECONDS)
    made = send(stack, "POST", "/v1/rules", RULE)
    saved_at = time.monotonic()
    assert made.status_code == 201
    while (got := offered(stack))[:1] != ["cable"] or "case" in got:
        assert time.monotonic() - saved_at < 1.0, got
        time.sleep(0.02)
    answer = stack.get("/v1/items/phone/complements").json()
    conforms("offers", answer)
    assert answer["rules_version"] == made.json()["version"]
    assert answer["items"][0]["because"]["rule_id"] == made.json()["rule_id"]
    # another placement is not touched by a product_page rule
    cart = stack.post("/v1/recommendations", {"items": ["phone"], "placement": "cart"}).json()
    assert "case" in [o["item_id"] for o in cart["items"]]


def test_preview_with_and_without_rules(stack: ApiStack, clean: None) -> None:
    body = {"placement": "product_page", "item_ids": ["phone"]}
    plain = send(stack, "POST", "/v1/rules/preview", body).json()
    assert plain["with_rules"] == plain["without_rules"]
    unsaved = {**RULE, "then": {"hide": ["case"], "pin": ["cable"]}}
    got = send(stack, "POST", "/v1/rules/preview", {**body, "rule": unsaved})
    assert got.status_code == 200, got.text
    with_rules = [o["item_id"] for o in got.json()["with_rules"]]
    without = [o["item_id"] for o in got.json()["without_rules"]]
    assert with_rules[0] == "cable" and "case" not in with_rules and "case" in without
    assert got.json()["with_rules"][0]["because"]["rule_id"] == "preview"
    assert send(stack, "GET", "/v1/rules").json()["rules"] == []  # nothing saved
    segment_rule = {**RULE, "when": {"segments": ["loyal"]}}
    no_segment = send(stack, "POST", "/v1/rules/preview", {**body, "rule": segment_rule}).json()
    assert "case" in [o["item_id"] for o in no_segment["with_rules"]]
    loyal = {**body, "rule": segment_rule, "segment": "loyal"}
    with_segment = send(stack, "POST", "/v1/rules/preview", loyal).json()
    assert "case" not in [o["item_id"] for o in with_segment["with_rules"]]
    refused = send(stack, "POST", "/v1/rules/preview", {**body, "rule": {"name": "x"}})
    assert refused.status_code == 400
