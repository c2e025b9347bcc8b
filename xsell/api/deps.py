"""Who is asking and for whom, as FastAPI dependencies: a route names what it needs in its
signature (``Caller``, ``SecretCaller``, ``PathUser``) instead of repeating the checks, and
the OpenAPI document gets the ``securitySchemes`` (a bearer key, and ``?key=`` for
EventSource) from the same declarations. The rules themselves are in :mod:`xsell.api.auth`.

Order of the answers, as before: 401 (no or unknown key), then 400 (a malformed id), then 403
(a public key without the user's token, or on a secret-only route).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Path, Query, Request, Security
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from xsell.api.auth import Access
from xsell.api.runtime import ApiRuntime, runtime
from xsell.models.errors import InvalidEvent
from xsell.models.validate import parse_id

BEARER = HTTPBearer(
    scheme_name="apiKey",
    description="A secret key (XSELL_API_KEYS: full access) or a public key "
    "(XSELL_API_PUBLIC_KEYS: read, and post cart and feedback events, with a user token).",
    auto_error=False,
)
QUERY_KEY = APIKeyQuery(
    name="key",
    scheme_name="publicKeyQuery",
    description="A public key in the URL, for EventSource (which cannot set headers); "
    "a secret key here is refused.",
    auto_error=False,
)
TOKEN_HELP = (
    "The user token (xsell api token USER_ID) that a public key needs for user-scoped "
    "requests; secret keys need none."
)

Runtime = Annotated[ApiRuntime, Depends(runtime)]


def client_address(request: Request) -> str:
    """The client's address (uvicorn takes it from X-Forwarded-For behind a trusted proxy:
    FORWARDED_ALLOW_IPS, docs/security.md)."""
    return request.client.host if request.client else "unknown"


async def authenticate(
    request: Request, rt: ApiRuntime, key: str | None, query_key: str | None, token: str | None
) -> Access:
    """The caller's access, with failed authentications limited (:mod:`xsell.api.guard`):
    429 for a blocked address or key prefix, the 401 counted."""
    if rt.auth.open:
        return rt.auth.resolve(key, query_key, token)
    presented = key or query_key or ""
    address = client_address(request)
    rt.guard.check(address, presented, rt.auth.is_public(presented))
    try:
        return rt.auth.resolve(key, query_key, token)
    except HTTPException as exc:
        if exc.status_code == 401 and presented:
            await rt.guard.failed(address, presented)
        raise


async def caller(
    request: Request,
    rt: Runtime,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    user_token: Annotated[str | None, Header(alias="X-User-Token", description=TOKEN_HELP)] = None,
) -> Access:
    """The caller's access. ``?key=`` is read on every route (declared on the stream route,
    where EventSource needs it); a user token only from the header (``?token=`` is the
    stream route's alone: a URL carries it into logs and referrers)."""
    key = None if bearer is None else bearer.credentials.strip()
    return await authenticate(request, rt, key, request.query_params.get("key"), user_token)


Caller = Annotated[Access, Depends(caller)]


async def stream_caller(
    request: Request,
    rt: Runtime,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    query_key: Annotated[str | None, Security(QUERY_KEY)],
    user_token: Annotated[str | None, Header(alias="X-User-Token", description=TOKEN_HELP)] = None,
    token: Annotated[
        str | None, Query(description="The user token, for EventSource (this route only).")
    ] = None,
) -> Access:
    """:func:`caller`, with ``?key=`` declared as an alternative to the bearer key and the
    user token also taken from ``?token=``."""
    key = None if bearer is None else bearer.credentials.strip()
    return await authenticate(request, rt, key, query_key, user_token or token)


StreamCaller = Annotated[Access, Depends(stream_caller)]


def secret_caller(access: Caller, rt: Runtime) -> Access:
    """A caller with a secret key (or any caller when no keys are configured); 403 else."""
    rt.auth.require_secret(access)
    return access


SecretCaller = Annotated[Access, Depends(secret_caller)]


def checked_id(value: Any, name: str, rt: ApiRuntime) -> str:
    """An id of a path, query or body, by the rules of the input contract; 400 if not."""
    try:
        return parse_id(value, name, rt.settings.limits)
    except InvalidEvent as exc:
        raise HTTPException(400, exc.reason) from None


def checked_k(k: int | None, rt: ApiRuntime) -> int:
    limit = rt.settings.ranking.max_suggestions
    if k is None:
        return limit
    if not 1 <= k <= limit:
        raise HTTPException(400, f"k: must be between 1 and {limit} (XSELL_MAX_SUGGESTIONS)")
    return k


def acting_user(value: Any, access: Access, rt: ApiRuntime) -> str:
    """A user id of the request, checked (400), whom the caller may act for (403)."""
    user = checked_id(value, "user_id", rt)
    rt.auth.require_user(access, user)
    return user


def path_user(
    user_id: Annotated[str, Path(description="An id (1..128 printable characters).")],
    access: Caller,
    rt: Runtime,
) -> str:
    """The checked ``{user_id}`` of a user-scoped route, which the caller may act for."""
    return acting_user(user_id, access, rt)


def stream_user(
    user_id: Annotated[str, Path(description="An id (1..128 printable characters).")],
    access: StreamCaller,
    rt: Runtime,
) -> str:
    """:func:`path_user` of the stream route (whose key may come as ``?key=``)."""
    return acting_user(user_id, access, rt)


def query_user(
    access: Caller,
    rt: Runtime,
    user_id: Annotated[
        str | None, Query(description="Whose stored cart and purchases are excluded.")
    ] = None,
) -> str | None:
    """An optional ``?user_id=``: checked, and the caller may act for that user."""
    return None if user_id is None else acting_user(user_id, access, rt)


PathUser = Annotated[str, Depends(path_user)]
StreamUser = Annotated[str, Depends(stream_user)]
QueryUser = Annotated[str | None, Depends(query_user)]
