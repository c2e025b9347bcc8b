"""The API's limits with their own `xsell api` process (the package's stack raises the failure
limit, since its tests send wrong keys on purpose): failed authentications per client address
and per key prefix (429 with Retry-After, one WARNING line without the key), the dashboard's
sign-in, and a public key's events per request (413) and per second (429).

Client addresses come from X-Forwarded-For, which uvicorn trusts from 127.0.0.1 (its
FORWARDED_ALLOW_IPS default): each test fails from addresses of its own. The window is an
hour, so that no window ends in the middle of a test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import env_settings, stack_env
from tests.integration.api_stack import API_ENV, PUBLIC, SECRET, cart_event, token
from xsell.config.strength import new_secret
from xsell.devenv.servers import LocalApi, LocalBroker, LocalRedis
from xsell.kafka_clients import create_topics

pytestmark = pytest.mark.integration
LIMIT = 20  # the default XSELL_API_AUTH_FAILURE_LIMIT
PER_SECOND = 5


@pytest.fixture(scope="module")
def api(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[LocalApi]:
    env = {
        **stack_env(broker, redis_server),
        **API_ENV,
        "XSELL_API_AUTH_FAILURE_LIMIT": str(LIMIT),
        "XSELL_API_AUTH_FAILURE_WINDOW_SECONDS": "3600",
        "XSELL_API_PUBLIC_EVENTS_PER_SECOND": str(PER_SECOND),
        "XSELL_API_PUBLIC_MAX_EVENTS": "500",
    }
    create_topics(env_settings(env))
    process = LocalApi(env)
    process.start(timeout=60)
    yield process
    process.stop()
    assert "Traceback" not in process.log_text(), process.log_text()[-3000:]


def _get(
    api: LocalApi, key: str, address: str, path: str = "/v1/items/phone/complements"
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", "X-Forwarded-For": address}
    return httpx.get(api.url + path, headers=headers, timeout=30)


def _post(api: LocalApi, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        api.url + "/v1/events",
        content=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {PUBLIC}",
            "Content-Type": "application/json",
            **headers,
        },
        timeout=30,
    )


def _too_many(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    assert set(answer.json()) == {"error", "detail"}
    assert 1 <= int(answer.headers["retry-after"]) <= 3600


def test_failed_keys_are_limited_per_client_address(api: LocalApi) -> None:
    wrong = [new_secret() for _ in range(LIMIT + 1)]
    answers = [_get(api, key, "10.0.0.1").status_code for key in wrong]
    assert answers == [401] * LIMIT + [429]
    _too_many(_get(api, new_secret(), "10.0.0.1"))
    _too_many(_get(api, SECRET, "10.0.0.1"))  # a right key too: else a right guess shows
    assert _get(api, SECRET, "10.0.0.2").status_code == 200  # other addresses are served
    warnings = [line for line in api.log_text().splitlines() if "10.0.0.1" in line]
    assert len(warnings) == 1 and "WARNING" in warnings[0], warnings
    assert "XSELL_API_AUTH_FAILURE_LIMIT" in warnings[0]
    assert not any(key in api.log_text() or key[:8] in api.log_text() for key in wrong)


def test_failed_keys_are_limited_per_key_prefix_but_a_public_key_is_never_locked_out(
    api: LocalApi,
) -> None:
    guesses = [f"sk-guess{new_secret()}" for _ in range(LIMIT + 1)]
    answers = [_get(api, key, f"10.1.0.{n}").status_code for n, key in enumerate(guesses)]
    assert answers == [401] * LIMIT + [429]
    _too_many(_get(api, f"sk-guess{new_secret()}", "10.1.1.1"))  # a fresh address
    # wrong keys that begin like the (public) public key lock its prefix ...
    lookalikes = [PUBLIC[:8] + new_secret() for _ in range(LIMIT + 1)]
    answers = [_get(api, key, f"10.1.2.{n}").status_code for n, key in enumerate(lookalikes)]
    assert answers[-1] == 429
    # ... but the public key itself is still served
    assert _get(api, PUBLIC, "10.1.3.1", "/v1/items/phone/complements").status_code == 200
    prefix_lines = [line for line in api.log_text().splitlines() if "key prefix #" in line]
    assert len(prefix_lines) == 2 and "sk-guess" not in "\n".join(prefix_lines)


def test_failed_dashboard_sign_ins_are_limited(api: LocalApi) -> None:
    def sign_in(key: str) -> httpx.Response:
        return httpx.post(
            api.url + "/dashboard/login",
            content=f"key={key}".encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Forwarded-For": "10.2.0.1",
            },
            follow_redirects=False,
            timeout=30,
        )

    answers = [sign_in(new_secret()).status_code for _ in range(LIMIT + 1)]
    assert answers == [401] * LIMIT + [429]
    blocked = sign_in(SECRET)  # the right key, from the blocked address
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert 1 <= int(blocked.headers["retry-after"]) <= 3600


def test_a_public_request_carries_at_most_500_events(api: LocalApi) -> None:
    user = "capped"
    headers = {"X-User-Token": token(user), "X-Forwarded-For": "10.3.0.1"}
    events = [cart_event(f"cap-{n}", user, f"item-{n}") for n in range(501)]
    over = _post(api, events, headers)
    assert over.status_code == 413
    assert over.json()["error"] == (
        "501 events in one request: a public key may send at most 500 (XSELL_API_PUBLIC_MAX_EVENTS)"
    )
    # a secret key is bounded by XSELL_MAX_PAYLOAD_BYTES only
    secret = httpx.post(
        api.url + "/v1/events",
        content=json.dumps(events).encode(),
        headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert secret.status_code == 202 and secret.json()["accepted"] == 501


def test_a_public_key_sends_at_most_its_events_per_second(api: LocalApi) -> None:
    user = "busy"
    headers = {"X-User-Token": token(user), "X-Forwarded-For": "10.4.0.1"}
    many = [cart_event(f"busy-{n}", user, f"item-{n}") for n in range(PER_SECOND + 1)]
    answer = _post(api, many, headers)
    _too_many(answer)
    assert "XSELL_API_PUBLIC_EVENTS_PER_SECOND" in answer.json()["error"]
    # requests within one second add up: two in a row of three events each go over
    statuses = []
    for n in range(50):
        three = [cart_event(f"b{n}-{i}", user, f"item-{i}") for i in range(3)]
        statuses.append(_post(api, three, headers).status_code)
        if statuses[-1] == 429:
            break
    assert statuses[-1] == 429 and set(statuses[:-1]) <= {202}
