"""Limits on who keeps failing and on how much a public key sends (docs/security.md).

- **Failed authentication** (an unknown API key, a wrong dashboard key): counted per client
  address and per presented key's first :data:`PREFIX` characters, in Redis (the access room:
  every API process behind a load balancer shares the counts). Past
  ``XSELL_API_AUTH_FAILURE_LIMIT`` in a window of ``XSELL_API_AUTH_FAILURE_WINDOW_SECONDS``,
  the address (or prefix) gets 429 with ``Retry-After`` until the window ends, valid key or
  not (else a right guess would still tell itself apart), and one WARNING line says so. A
  process remembers the blocks it has seen, so a blocked request costs no Redis call; a process
  that has not seen one yet learns it at its first further failure.
  A valid public key is never blocked by its prefix: it is public, and anyone could lock a
  storefront out by sending wrong keys that begin like it.
- **Events of a public key**: at most ``XSELL_API_PUBLIC_MAX_EVENTS`` per request (413) and
  ``XSELL_API_PUBLIC_EVENTS_PER_SECOND`` per key and second over all processes (429).

When Redis is away the counts are skipped (logged): the limits protect, they do not decide.
"""

from __future__ import annotations

import logging
import math
import re
import time

from fastapi import HTTPException

from xsell.config.settings import Settings
from xsell.models.errors import StoreUnavailable
from xsell.store import Store, key_id

log = logging.getLogger(__name__)
PREFIX = 8  # characters of a presented key that name its prefix


class Guard:
    """The failure and event limits of one API process (module doc)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.limit = settings.api.auth_failure_limit
        self.window = settings.api.auth_failure_window_seconds
        self.events_per_second = settings.api.public_events_per_second
        self.max_events = settings.api.public_max_events
        # blocks remembered at most (XSELL_API_GUARD_MAX_BLOCKS; expired ones go first)
        self.max_blocks = settings.api.guard_max_blocks
        self._store = store
        self._blocked: dict[tuple[str, str], float] = {}  # (kind, subject) -> until (epoch)

    @staticmethod
    def subjects(address: str, presented: str) -> list[tuple[str, str]]:
        """What a failure counts against: the address, and the presented key's prefix (as an
        id: no part of a key is stored or logged)."""
        out = [("ip", address)]
        if presented:
            out.append(("kp", key_id(presented[:PREFIX])))
        return out

    def check(self, address: str, presented: str, public_key: bool) -> None:
        """429 when the address, or the presented key's prefix (unless ``public_key``: the
        key is a valid public one), is blocked."""
        now = time.time()
        for kind, subject in self.subjects(address, presented):
            if kind == "kp" and public_key:
                continue
            until = self._blocked.get((kind, subject))
            if until is not None and until > now:
                raise _too_many(until - now)

    async def failed(self, address: str, presented: str) -> None:
        """Count a failed authentication; 429 (instead of the 401) once over the limit."""
        now = time.time()
        subjects = self.subjects(address, presented)
        try:
            counts = await self._store.access.count_failures(subjects, self.window, now)
        except StoreUnavailable as exc:
            log.warning("failed authentication not counted (Redis unavailable: %s)", exc)
            return
        until = (now // self.window + 1) * self.window
        over = [(s, n) for s, n in zip(subjects, counts, strict=True) if n > self.limit]
        for (kind, subject), count in over:
            if (kind, subject) not in self._blocked and count == self.limit + 1:
                what = f"address {subject}" if kind == "ip" else f"key prefix #{subject}"
                log.warning(
                    "%d failed authentications from %s within %d s: 429 for %d s "
                    "(XSELL_API_AUTH_FAILURE_LIMIT)",
                    count,
                    what,
                    self.window,
                    math.ceil(until - now),
                )
            self._remember((kind, subject), until, now)
        if over:
            raise _too_many(until - now)

    def _remember(self, subject: tuple[str, str], until: float, now: float) -> None:
        if len(self._blocked) >= self.max_blocks:
            self._blocked = {k: u for k, u in self._blocked.items() if u > now}
            if len(self._blocked) >= self.max_blocks:
                self._blocked.clear()
        self._blocked[subject] = until

    def check_count(self, events: int) -> None:
        """413 when one public request carries more events than allowed."""
        if events > self.max_events:
            raise HTTPException(
                413,
                f"{events} events in one request: a public key may send at most "
                f"{self.max_events} (XSELL_API_PUBLIC_MAX_EVENTS)",
            )

    async def count_events(self, key: str, events: int) -> None:
        """429 when public key ``key`` (an id) sent more events this second than allowed."""
        now = time.time()
        try:
            total = await self._store.access.count_events(key, events, now)
        except StoreUnavailable as exc:
            log.warning("public key's events not counted (Redis unavailable: %s)", exc)
            return
        if total > self.events_per_second:
            raise _too_many(
                math.floor(now) + 1 - now,
                f"over {self.events_per_second} events a second for this public key "
                "(XSELL_API_PUBLIC_EVENTS_PER_SECOND): send again later",
            )


def _too_many(seconds: float, reason: str | None = None) -> HTTPException:
    return HTTPException(
        429,
        reason or "too many failed authentications: try again later",
        headers={"Retry-After": str(max(1, math.ceil(seconds)))},
    )


# --- tokens out of logs ------------------------------------------------------------------
SECRET_QUERY = re.compile(r"([?&](?:token|key)=)[^&\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the values of ``?token=`` and ``?key=`` replaced by ``***``."""
    return SECRET_QUERY.sub(r"\1***", text)


class RedactQuery(logging.Filter):
    """Keeps user tokens and keys of URLs out of access logs (uvicorn's, when turned on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact_access_logs() -> None:
    """Install :class:`RedactQuery` on uvicorn's loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQuery) for f in logger.filters):
            logger.addFilter(RedactQuery())
