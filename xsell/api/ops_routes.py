"""Routes for operators and tools: liveness, readiness, Prometheus metrics, the storefront
widget, and the API description (the OpenAPI document and its viewer, served offline)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from xsell.api.deps import Runtime, SecretCaller
from xsell.api.errors import BAD_INPUT, FORBIDDEN, NO_KEY, UNAVAILABLE, error_body
from xsell.api.headers import content_security_policy
from xsell.api.metrics import set_tuning
from xsell.api.openapi import SINCE_PATTERN
from xsell.api.schemas import Health, NotReady, Ready
from xsell.engine import tuning_status
from xsell.feedback.report import report
from xsell.models.errors import InvalidEvent
from xsell.models.validate import parse_ts

router = APIRouter()
PROBE_SECONDS = 2.0
WIDGET = resources.files("xsell.api").joinpath("static/widget.js").read_bytes()


class JavaScriptResponse(Response):
    """Declares (and sends) ``application/javascript``, so the OpenAPI says what comes."""

    media_type = "application/javascript"


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": NotReady, "description": "Redis or Kafka does not answer"}},
    summary="200 when Redis and Kafka answer, else 503 with the one that does not",
)
async def readyz(rt: Runtime) -> Response:
    try:
        await asyncio.wait_for(rt.store.ops.ping(), PROBE_SECONDS)
    except Exception as exc:
        return JSONResponse({**error_body(f"Redis: {exc!r}"), "redis": "down"}, 503)
    try:
        await asyncio.wait_for(rt.producer.client.fetch_all_metadata(), PROBE_SECONDS)
    except Exception as exc:
        return JSONResponse({**error_body(f"Kafka: {exc!r}"), "kafka": "down"}, 503)
    if not rt.hub.running:
        return JSONResponse(error_body("the suggestions topic is not being read"), 503)
    return JSONResponse({"status": "ready", "redis": "ok", "kafka": "ok"})


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={**NO_KEY, **FORBIDDEN, **UNAVAILABLE},
    summary="Prometheus text (a secret key when keys are configured)",
)
async def metrics(rt: Runtime, _: SecretCaller) -> Response:
    if rt.settings.tuning.enabled:
        set_tuning(await tuning_status(rt.store, rt.settings), rt.settings.tuning.similarity)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/v1/report",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        **BAD_INPUT,
        **NO_KEY,
        **FORBIDDEN,
        **UNAVAILABLE,
    },
    summary="Acceptance, attributed revenue, AOV per placement and "
    "variant, each variant against control (a secret key)",
)
async def get_report(
    rt: Runtime,
    _: SecretCaller,
    since: Annotated[
        str | None,
        Query(description="RFC 3339 or epoch seconds (docs/contract.md).", pattern=SINCE_PATTERN),
    ] = None,
) -> Response:
    try:
        start = None if since is None else parse_ts(since)
    except InvalidEvent as exc:
        raise HTTPException(400, f"since: {exc.reason.removeprefix('ts: ')}") from None
    return JSONResponse(await report(rt.store, start))


@router.get(
    "/widget.js",
    response_class=JavaScriptResponse,
    responses={200: {"content": {"application/javascript": {"schema": {"type": "string"}}}}},
    summary="The storefront widget (docs/contract.md)",
)
async def widget() -> Response:
    return JavaScriptResponse(WIDGET, headers={"cache-control": "public, max-age=300"})


@router.get("/docs", include_in_schema=False)
async def docs(rt: Runtime) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="xsell API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon-32x32.png",
    )
    # Swagger UI starts from an inline script: allowed by its hash, no other inline script
    inline = re.findall(r"<script>(.*?)</script>", bytes(page.body).decode(), re.DOTALL)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline
    )
    page.headers["content-security-policy"] = content_security_policy(
        rt.settings.api.frame_ancestors, f"'self' {hashes}".strip()
    )
    return page
