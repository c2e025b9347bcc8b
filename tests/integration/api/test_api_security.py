"""`xsell api` hardening on the package's stack (conftest.py): no start with a weak secret,
malformed dashboard cookies, server-side logout, security headers, ``?token=`` on the stream
route only. The limits (failed authentications, event caps) have their own API process:
test_api_limits.py."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.integration.api_stack import ORIGIN, PUBLIC, SECRET, ApiStack, token

pytestmark = pytest.mark.integration
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("variable", "value", "why"),
    [
        ("XSELL_API_USER_TOKEN_SECRET", "", "is empty"),
        ("XSELL_API_USER_TOKEN_SECRET", "token-secret-for-tests", "is shorter than 32 bytes"),
        ("XSELL_API_KEYS", "sk-change-me-sk-change-me-sk-change-me", "is a placeholder"),
    ],
)
def test_the_api_refuses_to_start_with_a_weak_secret(
    stack: ApiStack, variable: str, value: str, why: str
) -> None:
    env = {**os.environ, **stack.env, variable: value}
    out = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "api"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2, out.stderr[-2000:]
    last = out.stderr.strip().splitlines()[-1]
    assert f"{variable} {why}: generate one with `xsell keys new`" in last
    assert not value or value not in out.stderr


def _sign_in(stack: ApiStack) -> str:
    answer = httpx.post(
        stack.api.url + "/dashboard/login",
        content=f"key={SECRET}".encode(),
        headers=FORM,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.cookies["xsell_dashboard"])


def _as(stack: ApiStack, session: str, path: str, method: str = "GET") -> httpx.Response:
    """A request with the session cookie, from a client without a cookie jar of its own."""
    headers = {"Cookie": f"xsell_dashboard={session}"}
    return httpx.request(method, stack.api.url + path, headers=headers, follow_redirects=False)


@pytest.mark.parametrize(
    "cookie",
    [
        b"xsell_dashboard=" + b"9" * 5000 + b".AAAA",
        b"xsell_dashboard=1799999999.\xc3\xa9\xff\xfe",
        b"xsell_dashboard=\xd9\xa1\xd9\xa2.abc",
        b"xsell_dashboard=" + b"A" * 10_000,
        b"xsell_dashboard",
    ],
)
def test_a_malformed_dashboard_cookie_is_not_signed_in(stack: ApiStack, cookie: bytes) -> None:
    page = stack.http.get("/dashboard", headers={"Cookie": cookie}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/dashboard/login"
    data = stack.http.get("/dashboard/data.json", headers={"Cookie": cookie})
    assert data.status_code == 401 and data.json()["error"] == "sign in at /dashboard/login"


def test_logout_revokes_the_session_server_side(stack: ApiStack) -> None:
    session = _sign_in(stack)
    other = _sign_in(stack)
    assert session != other
    assert _as(stack, session, "/dashboard/data.json").status_code == 200
    out = _as(stack, session, "/dashboard/logout", "POST")
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
    # a copy of the cookie (the browser deleted its own) is refused from now on ...
    assert _as(stack, session, "/dashboard/data.json").status_code == 401
    assert _as(stack, session, "/dashboard").status_code == 303
    # ... and only that session ended
    assert _as(stack, other, "/dashboard/data.json").status_code == 200


def test_security_headers_on_pages_and_answers(stack: ApiStack) -> None:
    for path in ("/healthz", "/dashboard/login", "/v1/items/phone/complements", "/nowhere"):
        answer = stack.get(path)
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    docs = stack.get("/docs", key=None)
    policy = docs.headers["content-security-policy"]
    assert "'sha256-" in policy and "'unsafe-inline'" not in policy.split("script-src")[1][:60]
    # the widget's CORS is unchanged
    preflight = stack.http.options(
        "/v1/events", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["access-control-allow-origin"] == ORIGIN


def test_a_user_token_in_the_url_counts_on_the_stream_route_only(stack: ApiStack) -> None:
    user = "url-token-user"
    mine = token(user)
    in_url = stack.get(f"/v1/users/{user}/suggestions?token={mine}", key=PUBLIC)
    assert in_url.status_code == 403 and "X-User-Token" in in_url.json()["error"]
    in_header = stack.get(
        f"/v1/users/{user}/suggestions", key=PUBLIC, headers={"X-User-Token": mine}
    )
    assert in_header.status_code == 404  # allowed: no suggestion yet
    recs = stack.post(
        f"/v1/recommendations?token={mine}", {"items": ["phone"], "user_id": user}, key=PUBLIC
    )
    assert recs.status_code == 403
    with stack.http.stream(
        "GET", f"/v1/users/{user}/suggestions/stream?key={PUBLIC}&token={mine}"
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
    refused = stack.http.get(f"/v1/users/{user}/suggestions/stream?key={PUBLIC}&token=forged")
    assert refused.status_code == 403
