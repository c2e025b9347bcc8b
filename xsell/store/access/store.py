"""The API's access room: dashboard sessions, failed-authentication counters and the public
keys' event counters, shared by every API process through Redis (docs/security.md says why
not in each process: behind a load balancer the limits must hold for the whole fleet).

========================================  ======  ========================================
key                                       type    what
========================================  ======  ========================================
NS:{a:s:SESSION}                          string  a dashboard session -> its key's id (TTL)
NS:{a:f:KIND:SUBJECT}:WINDOW              string  failed authentications in a window (TTL)
NS:{a:r:KEY}:SECOND                       string  events a public key sent in a second (TTL)
========================================  ======  ========================================

SESSION is a hash of the cookie's random value (the cookie itself is never stored), KEY the
id of a key (:func:`key_id`), SUBJECT a client address or the id of a presented key's first
characters; no secret is ever written. Every key expires on its own: the room holds at most
the sessions signed in within ``XSELL_API_DASHBOARD_SESSION_SECONDS``, one counter per
failing subject per window and one per public key per second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from xsell.store.backend.client import Call, Runner
from xsell.store.core.keys import Keys, escape


def key_id(secret: str) -> str:
    """A short, non-reversible name of a key or a session value, safe to store and log."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class AccessStore:
    """Sessions, failure counters and event counters (module doc)."""

    def __init__(self, runner: Runner, keys: Keys) -> None:
        self._runner = runner
        self._ns = keys.ns

    def _session(self, session: str) -> str:
        return f"{self._ns}:{{a:s:{key_id(session)}}}"

    async def open_session(self, session: str, owner: str, ttl_seconds: int) -> None:
        """Remember ``session`` (the cookie's value) as signed in with key ``owner`` (an id)."""
        await self._runner.run([("SET", self._session(session), owner, "EX", ttl_seconds)])

    async def session_owner(self, session: str) -> str | None:
        """The key id a live session was opened with (None: unknown, expired or revoked)."""
        (owner,) = await self._runner.run([("GET", self._session(session))])
        return None if owner is None else str(owner)

    async def close_session(self, session: str) -> None:
        """Revoke ``session``: it is refused from now on, by every API process."""
        await self._runner.run([("DEL", self._session(session))])

    async def count_failures(
        self, subjects: Sequence[tuple[str, str]], window_seconds: int, now: float
    ) -> list[int]:
        """Add one failed authentication for each (kind, subject) in the current window of
        ``window_seconds``; the counts of the window so far, in order."""
        window = int(now // window_seconds)
        left = int((window + 1) * window_seconds - now) + 1
        calls: list[Call] = []
        for kind, subject in subjects:
            key = f"{self._ns}:{{a:f:{kind}:{escape(subject)}}}:{window}"
            calls += [("INCR", key), ("EXPIRE", key, left)]
        replies = await self._runner.run(calls)
        return [int(n) for n in replies[::2]]

    async def count_events(self, key: str, events: int, now: float) -> int:
        """Add ``events`` to public key ``key``'s (an id) count of second ``now``; the count."""
        name = f"{self._ns}:{{a:r:{key}}}:{int(now)}"
        total, _ = await self._runner.run([("INCRBY", name, events), ("EXPIRE", name, 2)])
        return int(total)
