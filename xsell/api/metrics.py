"""The API's Prometheus metrics and the ASGI middleware that keeps them and caps bodies.

Names and labels are part of the contract (docs/contract.md, "Metrics"):
``xsell_api_requests_total{route, method, status}``, ``xsell_api_request_seconds{route}``
(streams excluded: they last as long as the page), ``xsell_api_open_streams``,
``xsell_api_kafka_errors_total``, ``xsell_api_redis_errors_total``, and self-tuning's
``xsell_tuning_cases``, ``xsell_tuning_recency_decay``, ``xsell_tuning_hit_rate{recency_decay}``,
``xsell_tuning_popularity_prior`` and ``xsell_tuning_similarity{similarity}`` (read from Redis
at each scrape). ``route`` is the route's
template (``/v1/users/{user_id}/suggestions``), never the raw path, so ids cannot blow up the
number of series.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "xsell_api_requests", "HTTP requests by route and status.", ["route", "method", "status"]
)
LATENCY = Histogram(
    "xsell_api_request_seconds",
    "Seconds from request to the end of the response.",
    ["route"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
OPEN_STREAMS = Gauge("xsell_api_open_streams", "Server-sent event streams open.")
KAFKA_ERRORS = Counter("xsell_api_kafka_errors", "Kafka sends or reads that failed.")
REDIS_ERRORS = Counter("xsell_api_redis_errors", "Redis calls that failed.")
TUNING_CASES = Gauge("xsell_tuning_cases", "Self-tuning: decayed test cases behind the choice.")
TUNING_CHOICE = Gauge("xsell_tuning_recency_decay", "Self-tuning: the recency weight in use.")
TUNING_HIT_RATE = Gauge(
    "xsell_tuning_hit_rate",
    "Self-tuning: a candidate's decayed rate of cases the cart went on to hit.",
    ["recency_decay"],
)
TUNING_PRIOR = Gauge(
    "xsell_tuning_popularity_prior", "Self-tuning: the popularity-prior strength in use."
)
TUNING_SIMILARITY = Gauge(
    "xsell_tuning_similarity",
    "Self-tuning: 1 for the pair similarity in use, 0 for the other candidates.",
    ["similarity"],
)


def set_tuning(status: dict[str, Any], similarities: Sequence[str] = ()) -> None:
    """The self-tuning gauges from :func:`xsell.engine.tuning_status`; ``similarities``: the
    candidate similarities (each gets a 0 or 1 series)."""
    TUNING_CASES.set(status["cases"])
    if status["recency_decay"] is not None:
        TUNING_CHOICE.set(status["recency_decay"])
    if status.get("popularity_prior") is not None:
        TUNING_PRIOR.set(status["popularity_prior"])
    if status.get("similarity") is not None:
        for name in dict.fromkeys([*similarities, status["similarity"]]):
            TUNING_SIMILARITY.labels(name).set(1.0 if name == status["similarity"] else 0.0)
    for weight, rate in status["hit_rates"].items():
        if rate is not None:
            TUNING_HIT_RATE.labels(weight).set(rate)


class BodyTooLarge(Exception):
    """A request body over the payload limit (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes (XSELL_MAX_PAYLOAD_BYTES)")
        self.limit = limit


class ApiMiddleware:
    """Counts every request by route template and status, times it, and refuses a body over
    ``max_body`` bytes: at once from Content-Length, else while it is read."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]
        length = dict(scope.get("headers") or ()).get(b"content-length")
        try:
            if length is not None and length.isdigit() and int(length) > self.max_body:
                status[0] = 413
                reason = str(BodyTooLarge(self.max_body))
                await _json(send, 413, {"error": reason, "detail": reason})
                return
            await self.app(scope, self._limited(receive), self._watched(send, status))
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(template, scope.get("method", ""), str(status[0])).inc()
            if not template.endswith("/stream"):
                LATENCY.labels(template).observe(time.perf_counter() - started)

    def _limited(self, receive: Receive) -> Receive:
        seen = [0]

        async def limited() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        return limited

    @staticmethod
    def _watched(send: Send, status: list[int]) -> Send:
        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        return watched


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
