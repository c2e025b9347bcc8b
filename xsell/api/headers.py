"""Security headers on every answer of the API (docs/security.md, "HTTP API").

- ``Content-Security-Policy``: scripts, styles, data and forms from the API itself only (the
  dashboard loads everything from it), no plugins, no ``<base>``; ``frame-ancestors`` from
  ``XSELL_API_FRAME_ANCESTORS`` (``'none'``: no page may frame the dashboard, against
  clickjacking; a shop that embeds it lists its own origin). A route that sets its own policy
  (/docs: Swagger UI's inline start-up script, by hash) keeps it.
- ``X-Content-Type-Options: nosniff``: a JSON answer is never run as a script or page.
- ``Referrer-Policy: no-referrer``: the API's pages send no URL to other sites.

CORS (the widget's origins, ``XSELL_API_CORS_ORIGINS``) is CORSMiddleware's and unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(frame_ancestors: str, script_src: str = "'self'") -> str:
    return (
        f"default-src 'self'; script-src {script_src}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {frame_ancestors}"
    )


class SecurityHeaders:
    """Adds the headers above to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(frame_ancestors).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.headers if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
