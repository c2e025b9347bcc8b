"""User tokens: what lets a storefront page act for one user with a public key.

A public key is embedded in pages, so anyone has it; alone it would let anyone read or write
any user's data by changing the id. The shop's backend therefore mints, for the signed-in
user, ``xut1.<expiry>.<user id, base64url>.<HMAC-SHA256, base64url>`` over the user id and
the expiry, with ``XSELL_API_USER_TOKEN_SECRET`` (``xsell api token USER_ID`` prints one). The
API recomputes the MAC: a token for another user, an expired one or a forged one is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

PREFIX = "xut1"


class TokenError(ValueError):
    """Why a user token is refused (the message goes into the 403's ``error``)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict base64url: characters outside its alphabet are an error, not skipped."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _mac(secret: bytes, user_id: str, expires: int) -> bytes:
    message = f"{PREFIX}\x00{expires}\x00{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def mint(secret: bytes, user_id: str, expires: int) -> str:
    """A token for ``user_id`` valid until ``expires`` (epoch seconds)."""
    mac = _mac(secret, user_id, expires)
    return f"{PREFIX}.{expires}.{_b64(user_id.encode())}.{_b64(mac)}"


def token_user(secret: bytes, token: str, now: float) -> str:
    """The user a valid token is for; TokenError (with the reason) otherwise."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise TokenError("malformed user token")
    try:
        expires = int(parts[1])
        user_id = _unb64(parts[2]).decode()
        mac = _unb64(parts[3])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenError("malformed user token") from None
    if not hmac.compare_digest(mac, _mac(secret, user_id, expires)):
        raise TokenError("invalid user token")
    if expires < now:
        raise TokenError("expired user token")
    return user_id


def check_token(secret: bytes, token: str | None, user_id: str, now: float) -> None:
    """Raise TokenError unless ``token`` is a valid token of ``user_id``."""
    if not token:
        raise TokenError("this request needs a user token (X-User-Token) with a public key")
    if token_user(secret, token, now) != user_id:
        raise TokenError("the user token is for another user")
