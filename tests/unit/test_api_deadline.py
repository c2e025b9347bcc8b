"""The request deadline (xsell/api/deadline.py) on plain ASGI apps: a request that has not
started its answer in time gets 503 + Retry-After; a started answer (a stream) is never cut;
the app's own TimeoutError is not mistaken for the deadline; every 503 gets Retry-After."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from xsell.api.deadline import DeadlineMiddleware


async def hangs(scope: Scope, receive: Receive, send: Send) -> None:
    await asyncio.Event().wait()


async def streams(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for _ in range(3):
        await asyncio.sleep(0.05)  # longer than the deadline in all
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def own_timeout(scope: Scope, receive: Receive, send: Send) -> None:
    raise TimeoutError("the app's own")


async def unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 503, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def call(app: Any, method: str = "GET") -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/x", "headers": []}
    asyncio.run(DeadlineMiddleware(app, read_seconds=0.05, write_seconds=0.1)(scope, receive, send))
    return sent


def test_a_request_without_an_answer_in_time_gets_503_with_retry_after() -> None:
    for method in ("GET", "POST"):
        start, body = call(hangs, method)
        assert start["status"] == 503 and (b"retry-after", b"1") in start["headers"]
        assert set(json.loads(body["body"])) == {"error", "detail"}


def test_a_started_answer_is_never_cut() -> None:
    sent = call(streams)
    assert sent[0]["status"] == 200 and b"".join(m.get("body", b"") for m in sent[1:]) == b"xxx"


def test_the_apps_own_timeout_is_not_the_deadline() -> None:
    with pytest.raises(TimeoutError, match="own"):
        call(own_timeout)


def test_every_503_gets_retry_after() -> None:
    start, _ = call(unavailable)
    assert (b"retry-after", b"1") in start["headers"]


def test_an_answer_begun_as_the_deadline_fires_is_not_an_error() -> None:
    """sse-starlette answers from a task of its own. When the deadline fires in the turn of the
    event loop just before that task begins the answer, the answer still goes out without an
    error (asyncio.timeout raised RuntimeError in the answering task here: a stream failed),
    and the request ends cancelled: too late for a 503."""
    sent: list[Message] = []
    errors: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def answer() -> None:
            try:
                await send({"type": "http.response.start", "status": 200, "headers": []})
            except RuntimeError as exc:
                errors.append(exc)

        time.sleep(0.1)  # the deadline (0.05 s) passes while the loop is blocked
        await asyncio.sleep(0)  # its timer is due now, and runs before the answering task
        await asyncio.shield(asyncio.ensure_future(answer()))

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    middleware = DeadlineMiddleware(app, read_seconds=0.05, write_seconds=0.1)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(middleware(scope, receive, send))
    assert errors == [] and [m["status"] for m in sent] == [200]
