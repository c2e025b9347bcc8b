"""`xsell api` end to end (the package's one stack, conftest.py): health, the description and
docs, API keys and user tokens, CORS, and refusing a public address without keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.integration.api_stack import (
    ORIGIN,
    PUBLIC,
    SECRET,
    TOKEN_SECRET,
    ApiStack,
    cart_event,
    token,
)
from xsell.api.tokens import token_user

pytestmark = pytest.mark.integration


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
        "/v1/items/{item_id}/followed-by",
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
    assert "XSELL_API_PUBLIC_PURCHASES=true" in answer.json()["error"]  # off by default


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
    assert token_user(TOKEN_SECRET.encode(), minted, time.time()) == "dave"
    answer = stack.get("/v1/users/dave/suggestions", key=PUBLIC, headers={"X-User-Token": minted})
    assert answer.status_code == 404  # allowed, and dave has no suggestion yet


# --- CORS and an unsafe configuration ----------------------------------------------------


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
