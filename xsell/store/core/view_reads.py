"""Reads of what views taught (xsell/store/core/views.py): items' co-view partners, for the
product page, and users' recently viewed items, for the abandonment notifications."""

from __future__ import annotations

from collections.abc import Sequence

from xsell.store.backend.client import Runner
from xsell.store.core.keys import Keys
from xsell.store.core.reader import parse_scores


class ViewReads:
    """Co-view partners of items and users' recently viewed items: one round trip each."""

    def __init__(self, runner: Runner, keys: Keys) -> None:
        self._runner = runner
        self._keys = keys

    async def partners(self, items: Sequence[str], k: int) -> dict[str, list[tuple[str, float]]]:
        """Each item's ``k`` most co-viewed partners with their counts, most first (an item
        never co-viewed is left out)."""
        if not items or k <= 0:
            return {}
        keys = [self._keys.item(i).view_pairs for i in items]
        calls = [("ZRANGE", z, 0, k - 1, "REV", "WITHSCORES") for z in keys]
        replies = await self._runner.run(calls)
        out: dict[str, list[tuple[str, float]]] = {}
        for item, reply in zip(items, replies, strict=True):
            members, counts = parse_scores(reply)
            if members:
                out[item] = [(str(m), c) for m, c in zip(members, counts, strict=True)]
        return out

    async def recent(self, users: Sequence[str], n: int) -> list[list[str]]:
        """Each user's ``n`` most recently viewed items, newest first."""
        if not users or n <= 0:
            return [[] for _ in users]
        replies = await self._runner.run(
            [("ZRANGE", self._keys.views(u), 0, n - 1, "REV") for u in users]
        )
        return [[str(i) for i in reply] for reply in replies]
