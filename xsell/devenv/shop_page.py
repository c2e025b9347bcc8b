"""The demo shop: a storefront page served on its own origin, as a real shop would be.

It plays both halves of a shop: the page (xsell/devenv/shop/: a catalogue, a cart, and the
API's ``/widget.js`` rendering the offers live) and the shop's backend, which knows the secret
key: it mints the visitor's user token, and takes the checkout (a purchase is not a cart event,
so the public key of the page may not post it). The page talks to the API with the public key
and that token only, across origins (CORS), exactly as the contract asks of a storefront.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from xsell.models.events import CatalogItem

log = logging.getLogger(__name__)
FILES = {
    "/": ("index.html", "text/html"),
    "/shop.js": ("shop.js", "application/javascript"),
    "/shop.css": ("shop.css", "text/css"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),  # for clients that ask without a link
}


@dataclass(frozen=True)
class ShopConfig:
    api: str  # the API's base URL
    secret_key: str  # the shop backend's (checkout)
    public_key: str  # the page's
    user_id: str  # the visitor
    token: str  # the visitor's user token
    catalog: tuple[CatalogItem, ...]


class ShopPage:
    """The page server, in a thread of the demo process; stopped with the demo."""

    def __init__(self, config: ShopConfig, port: int) -> None:
        self.config = config
        self.port = port
        self.notifications: list[dict[str, Any]] = []  # the visitor's, newest first (demo.py)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(config, self.notifications))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def page_config(config: ShopConfig) -> bytes:
    """``/config.js``: what the page needs, and nothing secret."""
    catalog = [
        {
            "item_id": c.item_id,
            "name": c.name,
            "category": c.category,
            "price": c.price,
            "stock": c.stock,
            "active": c.active,
        }
        for c in config.catalog
    ]
    public = {
        "api": config.api,
        "key": config.public_key,
        "user": config.user_id,
        "token": config.token,
        "catalog": catalog,
    }
    return f"window.XSELL_DEMO = {json.dumps(public)};\n".encode()


def _line(config: ShopConfig, item: str | dict[str, Any]) -> dict[str, Any]:
    """An order line at the catalogue's price (the report's revenue); a line the page bought
    in a bundle (``{"item_id", "bundle_id", "price"}``) carries the bundle's id and its share
    of the bundle price, never above the catalogue's."""
    wanted = item if isinstance(item, dict) else {"item_id": item}
    item_id = str(wanted["item_id"])
    price = next((c.price for c in config.catalog if c.item_id == item_id), None)
    line: dict[str, Any] = {"item_id": item_id}
    if wanted.get("bundle_id"):
        line["bundle_id"] = str(wanted["bundle_id"])
        asked = wanted.get("price")
        if price is not None and isinstance(asked, int | float) and 0 <= asked <= price:
            price = float(asked)
    return {**line, **({"price": price} if price is not None else {})}


def checkout(config: ShopConfig, items: list[str | dict[str, Any]]) -> int:
    """The shop backend's checkout: the visitor's purchase, sent with the secret key."""
    order = f"web-{uuid.uuid4().hex[:12]}"
    event = {
        "event_id": order,
        "type": "purchase",
        "order_id": order,
        "user_id": config.user_id,
        "ts": time.time(),
        "items": [_line(config, i) for i in items],
    }
    request = urllib.request.Request(
        config.api + "/v1/events",
        data=json.dumps(event).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {config.secret_key}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def _handler(
    config: ShopConfig, notifications: list[dict[str, Any]]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/config.js":
                self._send(200, page_config(config), "application/javascript")
                return
            if self.path == "/notifications.json":  # the shop backend's view of its sender
                body = json.dumps(notifications[:10]).encode()
                self._send(200, body, "application/json")
                return
            name, kind = FILES.get(self.path.split("?", 1)[0], (None, None))
            if name is None or kind is None:
                self._send(404, b"not found", "text/plain")
                return
            body = resources.files("xsell.devenv").joinpath("shop", name).read_bytes()
            self._send(200, body, kind)

        def do_POST(self) -> None:
            if self.path != "/checkout":
                self._send(404, b"not found", "text/plain")
                return
            length = int(self.headers.get("content-length") or 0)
            try:
                asked = json.loads(self.rfile.read(min(length, 65536)))["items"]
                items = [i if isinstance(i, dict) else str(i) for i in asked]
                status = checkout(config, items) if items else 400
            except (ValueError, KeyError, TypeError, OSError) as exc:
                log.warning("checkout failed: %r", exc)
                status = 502
            self._send(status, json.dumps({"status": status}).encode(), "application/json")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the demo prints
            log.debug("shop page: " + format, *args)

    return Handler
