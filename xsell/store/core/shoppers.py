"""Reads of the shoppers' carts and the state's clock, for callers that rank without applying
an event (the API's batcher, the notification scheduler)."""

from __future__ import annotations

from collections.abc import Sequence

from xsell.models.segments import SegmentState
from xsell.store.backend.client import Runner
from xsell.store.core.keys import Keys
from xsell.store.core.segments import parse_segments, segment_reads


class ShopperReads:
    """The carts of users and the time of the latest event the state has seen."""

    def __init__(self, runner: Runner, keys: Keys) -> None:
        self._runner = runner
        self._keys = keys

    async def carts_and_clock(
        self, users: Sequence[str], *, with_clock: bool
    ) -> tuple[float | None, list[list[str]]]:
        """The items in each user's cart and, when ``with_clock``, the latest event's time
        (None when unread or no event yet): one round trip, none when nothing is asked."""
        calls: list[tuple[str, ...]] = [("HGET", self._keys.meta, "T")] if with_clock else []
        calls += [("HKEYS", self._keys.cart(u)) for u in users]
        replies = await self._runner.run(calls) if calls else []
        clock = None
        if with_clock:
            latest = replies.pop(0)
            clock = float(latest) if latest is not None else None
        return clock, [list(r) for r in replies]

    async def clock(self) -> float | None:
        """The time of the latest event the state has seen (None: no event yet)."""
        (latest,) = await self._runner.run([("HGET", self._keys.meta, "T")])
        return float(latest) if latest is not None else None

    async def cart_sizes(self, users: Sequence[str]) -> list[int]:
        """How many items each user's cart holds (0: empty or expired)."""
        lengths = await self._runner.run([("HLEN", self._keys.cart(u)) for u in users])
        return [int(n) for n in lengths]

    async def purchases_and_segment(
        self, user: str
    ) -> tuple[float | None, dict[str, float], SegmentState | None, dict[int, int]]:
        """What a support agent's view needs of a user, in one round trip: the state's clock
        (None: no event yet), their purchases (item -> last bought at), their stored segment
        (None: nothing stored) and the spend histogram."""
        latest, history, *seg = await self._runner.run(
            [
                ("HGET", self._keys.meta, "T"),
                ("HGETALL", self._keys.history(user)),
                *segment_reads(self._keys, [user]),
            ]
        )
        states, histogram = parse_segments([user], seg)
        clock = float(latest) if latest is not None else None
        return clock, {i: float(t) for i, t in history.items()}, states.get(user), histogram
