"""A worker and an `xsell api` process on the session's broker and Redis, with keys, and an
HTTP client for them (the API tests share one per package or module: starting both takes
seconds)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from tests.conftest import env_settings
from xsell.api.tokens import mint
from xsell.config.settings import Settings
from xsell.config.strength import new_secret
from xsell.devenv.servers import LocalApi, LocalWorker, free_port
from xsell.kafka_clients import create_topics

SECRET = new_secret()
PUBLIC = new_secret()
TOKEN_SECRET = new_secret()
ORIGIN = "http://shop.test"
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"

API_ENV = {
    "XSELL_API_KEYS": SECRET,
    "XSELL_API_PUBLIC_KEYS": PUBLIC,
    "XSELL_API_USER_TOKEN_SECRET": TOKEN_SECRET,
    "XSELL_API_CORS_ORIGINS": ORIGIN,
    "XSELL_API_KEEPALIVE_SECONDS": "1",
    "XSELL_KAFKA_FETCH_MAX_WAIT_MS": "20",
    # the tests send wrong keys on purpose; tests/integration/api/test_api_limits.py checks
    # the limit of failed authentications with its own API process
    "XSELL_API_AUTH_FAILURE_LIMIT": "1000000",
}


def token(user: str, ttl: float = 600) -> str:
    return mint(TOKEN_SECRET.encode(), user, int(time.time() + ttl))


def conforms(name: str, value: Any) -> None:
    """``value`` is valid for docs/schemas/NAME.schema.json (the contract)."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(value)


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
        "rules_version",
        "segment",
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


class ApiStack:
    """Topics, one worker and one API process of a test module."""

    def __init__(self, env: dict[str, str], **overrides: str) -> None:
        """``overrides``: settings that replace API_ENV's (another CORS origin)."""
        self.metrics_port = free_port()
        self.env = {**env, **API_ENV, **overrides, "XSELL_METRICS_PORT": str(self.metrics_port)}
        self.settings: Settings = env_settings(self.env)
        create_topics(self.settings)
        self.worker = LocalWorker(self.env)
        self.worker.start()
        self.api = LocalApi(self.env)
        self.api.start(timeout=60)
        self.http = httpx.Client(base_url=self.api.url, timeout=30)

    def get(self, path: str, key: str | None = SECRET, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return self.http.get(path, headers=headers, **kwargs)

    def post(
        self, path: str, body: Any = None, key: str | None = SECRET, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if body is not None and "content" not in kwargs:
            kwargs["content"] = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        return self.http.post(path, headers=headers, **kwargs)

    def wait_latest(
        self, user: str, what: str, placement: str = "cart", timeout: float = 30.0
    ) -> dict[str, Any]:
        """The user's latest suggestion of ``placement`` once its trigger is ``what``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.get(f"/v1/users/{user}/suggestions?placement={placement}")
            if got.status_code == 200 and got.json()["trigger"]["event_id"] == what:
                return dict(got.json())
            time.sleep(0.1)
        raise AssertionError(f"no suggestion for {user} triggered by {what} in {timeout}s")

    def stop(self) -> None:
        self.http.close()
        self.api.stop()
        self.worker.stop()


@contextmanager
def sse(
    stack: ApiStack, path: str, headers: dict[str, str] | None = None
) -> Iterator[list[tuple[float, str, dict[str, str]]]]:
    """Collect the server-sent events of ``path`` in a thread: (arrival, raw block, fields)."""
    got: list[tuple[float, str, dict[str, str]]] = []
    stop = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(base_url=stack.api.url, timeout=None) as client,
            client.stream("GET", path, headers=headers or {}) as resp,
        ):
            block: list[str] = []
            for line in resp.iter_lines():
                if stop.is_set():
                    return
                if line:
                    block.append(line)
                    continue
                fields: dict[str, str] = {}
                for entry in block:
                    name, _, value = entry.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
                got.append((time.monotonic(), "\n".join(block), fields))
                block = []

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        stop.set()
