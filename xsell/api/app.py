"""``xsell api``: the HTTP API, a stateless process beside the workers (docs/contract.md,
"HTTP API"). It reads the same Redis and topics as the workers; run as many as the load needs.

Every error is ``{"error": reason, "detail": reason}`` (xsell/api/errors.py) with a 4xx (or 503
when Redis or Kafka is away), never a 500 for anything a client sent; /openapi.json says so
(xsell/api/openapi.py), and tests/system/test_openapi_schemathesis.py holds it to that.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware

from xsell.api import (
    bundle_routes,
    connect_routes,
    dashboard,
    deadline,
    errors,
    event_routes,
    openapi,
    ops_routes,
    read_routes,
    rules_console,
    rules_routes,
)
from xsell.api.guard import redact_access_logs
from xsell.api.headers import SecurityHeaders
from xsell.api.metrics import ApiMiddleware
from xsell.api.runtime import ApiRuntime
from xsell.config.settings import Settings

log = logging.getLogger(__name__)
VERSION = "1"


def create_app(settings: Settings) -> FastAPI:
    """The API application; its runtime (Redis, Kafka) opens when the server starts it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await ApiRuntime.open(settings)
        # what start-up made (modules, settings, clients) lives as long as the process: out of
        # the collector's sight, a full collection no longer walks it (a pause of tens of ms
        # in the middle of a request otherwise)
        gc.collect()
        gc.freeze()
        log.info("xsell api ready on http://%s:%d", settings.api.host, settings.api.port)
        try:
            yield
        finally:
            await app.state.runtime.close()

    app = FastAPI(
        title="xsell",
        version=VERSION,
        description="Real-time cross-sell suggestions: latest, live stream, product-page "
        "complements, recommendations for a cart, and event ingestion (docs/contract.md).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(read_routes.router)
    app.include_router(bundle_routes.router)
    app.include_router(event_routes.router)
    app.include_router(connect_routes.router)
    app.include_router(rules_routes.router)
    app.include_router(ops_routes.router)
    app.include_router(dashboard.router)
    app.include_router(rules_console.router)
    app.mount("/docs-assets", StaticFiles(directory=_swagger_dir()), name="docs-assets")
    errors.install(app)
    openapi.install(app, settings)
    deadline.install(app, settings)  # inside the metrics, so its 503s are counted
    app.add_middleware(ApiMiddleware, max_body=settings.inputs.max_payload_bytes)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.api.frame_ancestors)
    redact_access_logs()
    if settings.api.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-User-Token", "Last-Event-ID"],
            max_age=600,
        )
    return app


def _swagger_dir() -> str:
    """Swagger UI's files, from the swagger-ui-bundle wheel: /docs loads nothing from the
    internet (FastAPI's default pulls them from a CDN)."""
    import swagger_ui_bundle  # type: ignore[import-untyped]

    return str(swagger_ui_bundle.swagger_ui_path)
