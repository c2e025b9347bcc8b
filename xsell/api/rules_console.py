"""``GET /dashboard/rules``: the merchant rules' console (docs/rules.md), behind the dashboard's
session (:mod:`xsell.api.dashboard`), never a key in the page.

The page's script calls the routes below with the session cookie (HttpOnly, SameSite=Strict,
path /dashboard: another site's page cannot send it). They run the very code of the
``/v1/rules`` routes (:mod:`xsell.api.rules_routes`): the same validation, the same 400 and
404 bodies (``{"error", "detail"}``), the same store calls and version bumps. They are not part
of the public API (not in the OpenAPI document): a program uses ``/v1/rules`` with a secret key.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from xsell.api import rules_routes
from xsell.api.dashboard import page, signed_in
from xsell.api.runtime import ApiRuntime, runtime
from xsell.models.messages.merchant import Preview, PreviewAnswer, Rule, RuleCreated, RuleList

router = APIRouter()


async def _session(request: Request) -> ApiRuntime:
    """The runtime of a signed-in request; 401 otherwise (the page sends the merchant to the
    sign-in page)."""
    rt = runtime(request)
    if not await signed_in(request, rt):
        raise HTTPException(401, "sign in at /dashboard/login")
    return rt


@router.get("/dashboard/rules", include_in_schema=False)
async def console(request: Request) -> Response:
    if not await signed_in(request, runtime(request)):
        return RedirectResponse("/dashboard/login", status_code=303)
    return HTMLResponse(page("rules.html"), headers={"cache-control": "no-store"})


@router.get("/dashboard/rules/list.json", include_in_schema=False)
async def list_rules(request: Request) -> RuleList:
    return await rules_routes.listing(await _session(request))


@router.post("/dashboard/rules/list.json", status_code=201, include_in_schema=False)
async def create_rule(request: Request, rule: Rule) -> RuleCreated:
    return await rules_routes.create(await _session(request), rule)


@router.delete("/dashboard/rules/list.json/{rule_id}", include_in_schema=False)
async def delete_rule(request: Request, rule_id: rules_routes.RuleId) -> RuleCreated:
    return await rules_routes.remove(await _session(request), rule_id)


@router.post("/dashboard/rules/preview.json", include_in_schema=False)
async def preview(request: Request, body: Preview) -> PreviewAnswer:
    return await rules_routes.preview_offers(await _session(request), body)
