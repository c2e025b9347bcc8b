"""Who is asking: a secret key (full access), a public key (read, and post cart events, for
users it holds a token of), or, with no keys configured on a loopback host, anyone.

- ``Authorization: Bearer KEY``: missing or unknown -> 401; a public key on a secret-only
  route -> 403.
- User-scoped requests (``/v1/users/{id}/...``, any request naming a ``user_id``, cart
  events) with a public key also need that user's token (:mod:`xsell.api.tokens`), sent as
  ``X-User-Token`` (or ``?token=`` on the stream route only, since EventSource cannot set
  headers; elsewhere a URL would carry it into logs and referrers): missing, expired or
  another user's -> 403. Secret keys need no token.
- ``?key=`` takes a public key (for EventSource); a secret key there is refused.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from enum import Enum

from fastapi import HTTPException, Request

from xsell.api.tokens import TokenError, check_token
from xsell.config.settings import Settings
from xsell.store import key_id


class Level(Enum):
    OPEN = "open"  # no keys configured (loopback only): everything allowed
    SECRET = "secret"
    PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class Access:
    level: Level
    token: str | None  # the user token sent with the request, if any
    key_id: str | None = None  # a public key's id (xsell.store.key_id), for its event limit


def _matches(key: str, keys: frozenset[str]) -> bool:
    """Constant-time membership: no timing tells how much of a key was right."""
    return any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


class Authenticator:
    """Checks requests against the settings' keys and token secret."""

    def __init__(self, settings: Settings) -> None:
        self.secret_keys = settings.api.key_set
        self.public_keys = settings.api.public_keys
        secret = settings.api.user_token_secret
        self.token_secret = None if secret is None else secret.get_secret_value().encode()

    @property
    def open(self) -> bool:
        return not (self.secret_keys or self.public_keys)

    def access(self, request: Request) -> Access:
        """The caller's access from a raw request (401 without a known key); the user token
        from the header only."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return self.resolve(
            key.strip() if scheme.lower() == "bearer" else None,
            request.query_params.get("key"),
            request.headers.get("x-user-token"),
        )

    def is_public(self, key: str) -> bool:
        return bool(key) and _matches(key, self.public_keys)

    def resolve(self, bearer: str | None, query_key: str | None, token: str | None) -> Access:
        """The caller's access from the bearer key, the ``?key=`` and the user token
        (:mod:`xsell.api.deps` hands them over); 401 without a known key when keys are
        configured."""
        if self.open:
            return Access(Level.OPEN, token)
        if bearer:
            if _matches(bearer, self.secret_keys):
                return Access(Level.SECRET, token)
            if _matches(bearer, self.public_keys):
                return Access(Level.PUBLIC, token, key_id(bearer))
            raise HTTPException(401, "unknown API key")
        # EventSource cannot send headers: a public key may come as ?key= (never a secret
        # one: URLs end up in logs and browser histories)
        if query_key and _matches(query_key, self.public_keys):
            return Access(Level.PUBLIC, token, key_id(query_key))
        if query_key:
            raise HTTPException(401, "unknown API key (?key= takes public keys only)")
        raise HTTPException(401, "missing API key (Authorization: Bearer KEY)")

    def require_secret(self, access: Access) -> None:
        """403 for a public key on a secret-only route."""
        if access.level is Level.PUBLIC:
            raise HTTPException(403, "this route needs a secret API key")

    def require_user(self, access: Access, user_id: str) -> None:
        """403 unless the caller may act for ``user_id`` (a public key needs its token)."""
        if access.level is not Level.PUBLIC:
            return
        if self.token_secret is None:  # refused at start by the settings; kept safe anyway
            raise HTTPException(403, "user tokens are not configured")
        try:
            check_token(self.token_secret, access.token, user_id, time.time())
        except TokenError as exc:
            raise HTTPException(403, str(exc)) from None
