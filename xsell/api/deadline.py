"""A deadline on every request: one that has not started its answer within
XSELL_API_READ_DEADLINE_SECONDS (GET, HEAD) or XSELL_API_WRITE_DEADLINE_SECONDS (the other
methods) is cancelled and answered ``503`` with ``Retry-After`` and the one error body.

Why: a Redis that hangs (paused, overloaded, a network that drops packets without a reset)
answers nothing and closes nothing, so a read would wait for the client's own retries and
timeouts (about 40 s) before its 503; a shop page cannot wait that long for a widget. The
worker keeps waiting for Redis (it must lose nothing): this is the API's policy only.

The clock stops when the answer starts (``http.response.start``): a live stream lasts as long
as it lasts. Cancelling a request mid-round-trip is safe: redis-py drops a connection whose
replies were not all read, and every write of the API is idempotent (event ids). Every 503
that passes through here (also "Redis unavailable" from a route) gets ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xsell.config.settings import Settings

log = logging.getLogger(__name__)
READS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_AFTER_SECONDS = 1  # what a 503 asks a client to wait before it sends again
DEADLINES = Counter(
    "xsell_api_deadline_exceeded",
    "Requests answered 503 because they passed their deadline (Redis or Kafka too slow).",
    ["method"],
)


def redis_patience(settings: Settings) -> float:
    """How long the API's store retries an unavailable Redis before a 503: the longer request
    deadline. Longer would help no request (its deadline answers first); shorter would turn a
    blip that the deadline tolerates into a 503. Work shared by requests (a ranking batch)
    stops within the same bound."""
    return max(settings.api.read_deadline_seconds, settings.api.write_deadline_seconds)


class DeadlineMiddleware:
    """The ASGI middleware of the module doc."""

    def __init__(self, app: ASGIApp, read_seconds: float, write_seconds: float) -> None:
        self.app = app
        self.read_seconds = read_seconds
        self.write_seconds = write_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "GET"))
        budget = self.read_seconds if method in READS else self.write_seconds
        task = asyncio.current_task()
        started = fired = False

        def expire() -> None:
            """The deadline: cancel the request unless its answer has begun. Both this and
            ``answering`` run on the event loop, so an answer that has begun is never
            cancelled (asyncio.timeout could not be stopped once it was expiring: a stream
            that began its answer in that instant failed with a RuntimeError)."""
            nonlocal fired
            if not started and task is not None:
                fired = True
                task.cancel()

        clock = asyncio.get_running_loop().call_later(budget, expire)

        async def answering(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                clock.cancel()  # the answer has begun: no deadline for a stream
                if message["status"] == 503:
                    message = {**message, "headers": with_retry_after(message.get("headers"))}
            await send(message)

        try:
            await self.app(scope, receive, answering)
        except asyncio.CancelledError:
            if not fired or started or task is None:
                raise  # not ours (the client left, the server stops), or too late for a 503
            task.uncancel()
            DEADLINES.labels(method).inc()
            log.warning("%s %s passed its deadline of %gs: 503", method, scope["path"], budget)
            reason = f"no answer within {budget:g}s (Redis or Kafka slow or away): send again"
            await _unavailable(send, reason)
        finally:
            clock.cancel()


def with_retry_after(headers: Any) -> list[tuple[bytes, bytes]]:
    """The headers of a 503 with ``Retry-After`` (kept when the route set its own)."""
    out = [(bytes(k), bytes(v)) for k, v in headers or ()]
    if not any(k.lower() == b"retry-after" for k, _ in out):
        out.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    return out


async def _unavailable(send: Send, reason: str) -> None:
    body = json.dumps({"error": reason, "detail": reason}).encode()
    headers = with_retry_after(
        [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    )
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


RESPONSE_503: dict[str, Any] = {
    "description": "No answer within the request's deadline (XSELL_API_READ_DEADLINE_SECONDS, "
    "XSELL_API_WRITE_DEADLINE_SECONDS), or Redis or Kafka unavailable: send again after "
    "Retry-After seconds",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before sending again.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorAnswer"}}},
}


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middleware, and declare its 503 on every operation of the OpenAPI document
    (after the document's own corrections: xsell/api/openapi.py)."""
    app.add_middleware(
        DeadlineMiddleware,
        read_seconds=settings.api.read_deadline_seconds,
        write_seconds=settings.api.write_deadline_seconds,
    )
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        for methods in document.get("paths", {}).values():
            for operation in methods.values():
                declared = operation.setdefault("responses", {})
                answer = declared.setdefault("503", {})
                answer.setdefault("description", RESPONSE_503["description"])
                answer.setdefault("content", RESPONSE_503["content"])
                answer["headers"] = RESPONSE_503["headers"]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
