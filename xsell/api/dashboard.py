"""``GET /dashboard``: live plots for the shop's team, behind a secret key.

A browser cannot send a bearer header when it navigates, so ``/dashboard/login`` takes a secret
key in a form and sets an HttpOnly, SameSite=Strict cookie: ``<expiry>.<HMAC-SHA256 of the
expiry under that key>``. Any API instance with the same keys accepts it (no session store);
removing the key from ``XSELL_API_KEYS`` ends its sessions. The page loads its scripts (uPlot,
vendored) and its data (``/dashboard/data.json``, every 5 s) from the API only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from xsell.api.runtime import ApiRuntime, runtime
from xsell.feedback.live import minutes, top_pairs
from xsell.feedback.report import read_days, report, summarise
from xsell.notify.views import notification_counts
from xsell.store import day_of

router = APIRouter()
COOKIE = "xsell_dashboard"
SESSION_SECONDS = 12 * 3600
STATIC = resources.files("xsell.api").joinpath("static")
ASSETS = {
    "uPlot.iife.min.js": ("vendor/uplot/uPlot.iife.min.js", "application/javascript"),
    "uPlot.min.css": ("vendor/uplot/uPlot.min.css", "text/css"),
    "dashboard.js": ("dashboard.js", "application/javascript"),
    "dashboard.css": ("dashboard.css", "text/css"),
    "favicon.svg": ("favicon.svg", "image/svg+xml"),
}


def _mac(key: str, expires: int) -> str:
    digest = hmac.new(key.encode(), f"xsell-dashboard\x00{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def session_cookie(key: str, now: float) -> str:
    expires = int(now) + SESSION_SECONDS
    return f"{expires}.{_mac(key, expires)}"


def valid_session(cookie: str | None, keys: frozenset[str], now: float) -> bool:
    """Whether ``cookie`` was made from one of ``keys`` and has not expired."""
    if not cookie or "." not in cookie:
        return False
    text, mac = cookie.split(".", 1)
    if not text.isdigit() or int(text) < now:
        return False
    return any(hmac.compare_digest(mac, _mac(key, int(text))) for key in keys)


def _signed_in(request: Request, rt: ApiRuntime) -> bool:
    return rt.auth.open or valid_session(
        request.cookies.get(COOKIE), rt.auth.secret_keys, time.time()
    )


def _page(name: str) -> str:
    return STATIC.joinpath(name).read_text()


@router.get("/dashboard", include_in_schema=False)
async def dashboard(request: Request) -> Response:
    if not _signed_in(request, runtime(request)):
        return RedirectResponse("/dashboard/login", status_code=303)
    return HTMLResponse(_page("dashboard.html"), headers={"cache-control": "no-store"})


@router.get("/dashboard/login", include_in_schema=False)
async def login_page() -> HTMLResponse:
    return HTMLResponse(_page("login.html").replace("{message}", ""))


@router.post("/dashboard/login", include_in_schema=False)
async def login(request: Request) -> Response:
    rt = runtime(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0]
    if not any(hmac.compare_digest(key.encode(), k.encode()) for k in rt.auth.secret_keys):
        page = _page("login.html").replace("{message}", "That is not a secret API key.")
        return HTMLResponse(page, status_code=401)
    answer = RedirectResponse("/dashboard", status_code=303)
    secure = request.headers.get("x-forwarded-proto", request.url.scheme) == "https"
    answer.set_cookie(
        COOKIE,
        session_cookie(key, time.time()),
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/dashboard",
    )
    return answer


@router.post("/dashboard/logout", include_in_schema=False)
async def logout() -> Response:
    answer = RedirectResponse("/dashboard/login", status_code=303)
    answer.delete_cookie(COOKIE, path="/dashboard")
    return answer


@router.get("/dashboard/assets/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    path, kind = ASSETS.get(name, (None, None))
    if path is None or kind is None:
        raise HTTPException(404, "no such asset")
    return Response(
        STATIC.joinpath(path).read_bytes(),
        media_type=kind,
        headers={"cache-control": "public, max-age=300"},
    )


@router.get("/dashboard/data.json", include_in_schema=False)
async def data(request: Request) -> Response:
    rt = runtime(request)
    if not _signed_in(request, rt):
        raise HTTPException(401, "sign in at /dashboard/login")
    return JSONResponse(await dashboard_data(rt))


async def dashboard_data(rt: ApiRuntime) -> dict[str, Any]:
    """Everything the page plots, in one read."""
    now = time.time()
    store = rt.store
    clock = await store.shoppers.clock()
    today = day_of(clock) if clock is not None else day_of(now)
    return {
        "at": now,
        "minutes": await minutes(store, now),
        "report": await report(store),
        "today": summarise(await read_days(store, [today]))["rows"],
        "notifications": await notification_counts(store),
        "top_pairs": await top_pairs(store),
    }
