"""One error body for every route: ``{"error": reason, "detail": reason}``
(docs/schemas/error.schema.json), whatever raised it: a handler, a dependency (keys, tokens),
the request's validation, the routing itself (404, 405) or the body limit (413).

Existing clients read ``error`` (xsell's routes) or ``detail`` (FastAPI's and Starlette's
defaults, which the unknown-route 404 and the 405 sent before); each body carries both, so
neither kind breaks. The declarations below are what each route's ``responses=`` documents.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xsell.api.metrics import REDIS_ERRORS, BodyTooLarge
from xsell.api.schemas import ErrorOut
from xsell.models.errors import StoreUnavailable

log = logging.getLogger(__name__)

Responses = dict[int | str, dict[str, Any]]


def declared(status: int, description: str) -> Responses:
    return {status: {"model": ErrorOut, "description": description}}


BAD_INPUT = declared(400, "Bad input: a parameter or the body, with the reason")
NO_KEY = declared(401, "No API key, or an unknown one")
FORBIDDEN = declared(403, "A public key where a secret one is needed, or no valid user token")
NOT_FOUND = declared(404, "Nothing there")
TOO_LARGE = declared(
    413,
    "The body is over XSELL_MAX_PAYLOAD_BYTES, or a public key sent more events than "
    "XSELL_API_PUBLIC_MAX_EVENTS",
)
TOO_MANY = declared(
    429,
    "Too many failed authentications from this address or key prefix, or a public key's "
    "events over XSELL_API_PUBLIC_EVENTS_PER_SECOND: send again after Retry-After seconds",
)
UNAVAILABLE = declared(503, "Redis or Kafka unavailable: send again")


def error_body(reason: str) -> dict[str, str]:
    return {"error": reason, "detail": reason}


def error_response(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(reason), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Route every error the app can raise to the one body."""
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(BodyTooLarge, _too_large)  # type: ignore[arg-type]
    app.add_exception_handler(StoreUnavailable, _redis_away)  # type: ignore[arg-type]


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's class, so the routing's own 404 and 405 (its Allow header kept) get the
    same body as xsell's errors."""
    return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A body or parameter of the wrong shape: 400 with the first reason, input not echoed."""
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    return error_response(400, f"{where or 'request'}: {first.get('msg', 'invalid')}")


async def _too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
    return error_response(413, str(exc))


async def _redis_away(request: Request, exc: StoreUnavailable) -> JSONResponse:
    """A Redis that stays away on a route that reads it directly (the report, the metrics'
    self-tuning gauges): 503, as :meth:`ApiRuntime.redis` answers, never a 500."""
    REDIS_ERRORS.inc()
    log.warning("Redis unavailable: %s", exc)
    return error_response(503, f"Redis unavailable: {exc}")
