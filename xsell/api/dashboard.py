"""``GET /dashboard``: live plots for the shop's team, behind a secret key.

A browser cannot send a bearer header when it navigates, so ``/dashboard/login`` takes a secret
key in a form and sets an HttpOnly, SameSite=Strict cookie holding a random session value (256
bits). The session lives in Redis (the store's access room, a hash of the value as its name,
the id of the key it was opened with as its content) for
``XSELL_API_DASHBOARD_SESSION_SECONDS``: every API instance accepts it, ``/dashboard/logout``
revokes it at once everywhere, and removing the key from ``XSELL_API_KEYS`` ends its sessions.
A cookie of any other shape is "not signed in", never an error. Wrong keys count as failed
authentications (:mod:`xsell.api.guard`: 429 past the limit). The page loads its scripts
(uPlot, vendored) and its data (``/dashboard/data.json``, every 5 s) from the API only.
"""

from __future__ import annotations

import hmac
import re
import time
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from xsell.api.deps import client_address
from xsell.api.runtime import ApiRuntime, runtime
from xsell.config.strength import new_secret
from xsell.feedback.live import minutes, top_pairs
from xsell.feedback.report import read_days, report, summarise
from xsell.notify.views import notification_counts
from xsell.store import day_of, key_id

router = APIRouter()
COOKIE = "xsell_dashboard"
SESSION_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")  # what new_secret() makes
STATIC = resources.files("xsell.api").joinpath("static")
ASSETS = {
    "uPlot.iife.min.js": ("vendor/uplot/uPlot.iife.min.js", "application/javascript"),
    "uPlot.min.css": ("vendor/uplot/uPlot.min.css", "text/css"),
    "dashboard.js": ("dashboard.js", "application/javascript"),
    "dashboard.css": ("dashboard.css", "text/css"),
    "favicon.svg": ("favicon.svg", "image/svg+xml"),
    "rules.js": ("rules.js", "application/javascript"),
}


def session_of(cookie: str | None) -> str | None:
    """The session value of a well-formed cookie; None for anything else (missing, other
    characters, any length but the one made): parsed without a way to fail."""
    return cookie if cookie is not None and SESSION_VALUE.fullmatch(cookie) else None


async def signed_in(request: Request, rt: ApiRuntime) -> bool:
    """Whether the request carries a live dashboard session (or the API is open)."""
    if rt.auth.open:
        return True
    session = session_of(request.cookies.get(COOKIE))
    if session is None:
        return False
    owner = await rt.redis(rt.store.access.session_owner(session))
    return owner is not None and owner in {key_id(k) for k in rt.auth.secret_keys}


def page(name: str) -> str:
    return STATIC.joinpath(name).read_text()


def _login_page(message: str, status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    text = page("login.html").replace("{message}", message)
    return HTMLResponse(text, status_code=status, headers=headers)


@router.get("/dashboard", include_in_schema=False)
async def dashboard(request: Request) -> Response:
    if not await signed_in(request, runtime(request)):
        return RedirectResponse("/dashboard/login", status_code=303)
    return HTMLResponse(page("dashboard.html"), headers={"cache-control": "no-store"})


@router.get("/dashboard/login", include_in_schema=False)
async def login_page() -> HTMLResponse:
    return _login_page("", 200)


@router.post("/dashboard/login", include_in_schema=False)
async def login(request: Request) -> Response:
    rt = runtime(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0]
    address = client_address(request)
    try:
        rt.guard.check(address, key, public_key=False)
        if not any(hmac.compare_digest(key.encode(), k.encode()) for k in rt.auth.secret_keys):
            await rt.guard.failed(address, key)
            return _login_page("That is not a secret API key.", 401)
    except HTTPException as exc:
        return _login_page(
            "Too many failed sign-ins: try again later.", 429, dict(exc.headers or {})
        )
    session = new_secret()
    ttl = rt.settings.api.dashboard_session_seconds
    await rt.redis(rt.store.access.open_session(session, key_id(key), ttl))
    answer = RedirectResponse("/dashboard", status_code=303)
    secure = request.headers.get("x-forwarded-proto", request.url.scheme) == "https"
    answer.set_cookie(
        COOKIE,
        session,
        max_age=ttl,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/dashboard",
    )
    return answer


@router.post("/dashboard/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    """Revoke the session server-side (a copy of the cookie is refused from now on)."""
    session = session_of(request.cookies.get(COOKIE))
    if session is not None:
        rt = runtime(request)
        await rt.redis(rt.store.access.close_session(session))
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
    if not await signed_in(request, rt):
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
