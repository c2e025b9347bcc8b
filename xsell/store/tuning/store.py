"""Self-tuning's room in the store: the shoppers' open test cases (``{u:USER}:tune``: the lists
each candidate made at their earlier adds) and the decayed hit counts every worker shares
(``{g}:tune``, updated by :data:`~xsell.store.tuning.lua.TUNE_RECORD`). The followed-by
weight's tuning has a room of its own alike (``{u:USER}:tunef``, ``{g}:tunef``: the cases of
purchases, models/followed_tuning.py), and so has the number of buy-again places'
(``{u:USER}:tuner``, ``{g}:tuner``: the cases of carts with due rebuys,
models/rebuy_tuning.py). The rules are pure, in
models/tuning.py; the engine's collaborator that applies them is xsell/engine/self_tuning.py.

The counts are at least once (a redelivered event may count twice): a measurement, not
learned state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xsell.models.tuning import OpenCase
from xsell.store.backend.client import Call, Runner
from xsell.store.backend.scripts import number_arg
from xsell.store.core.keys import Keys
from xsell.store.tuning.lua import TUNE_RECORD


@dataclass(frozen=True, slots=True)
class SharedCounts:
    """The shared counters after an update: decayed cases, the stored choice (None: none)
    and each named counter's value."""

    cases: float
    choice: int | None
    values: list[float]


def _choice(raw: object) -> int | None:
    text = "" if raw is None else str(raw)
    return int(text) if text.isdigit() else None


class TuningStore:
    """Open test cases per shopper and the shared hit counts, of the cart's tuning, or of the
    followed-by weight's (``followed``: its own keys), or of the number of buy-again places
    (``rebuys``: its own keys)."""

    def __init__(
        self, runner: Runner, keys: Keys, *, followed: bool = False, rebuys: bool = False
    ) -> None:
        self._runner = runner
        self._hash = keys.tuning_followed if followed else keys.tuning
        self._lists: Callable[[str], str] = (
            keys.tune_followed_lists if followed else keys.tune_lists
        )
        if rebuys:
            self._hash, self._lists = keys.tuning_rebuys, keys.tune_rebuy_lists

    async def open_cases(self, users: Sequence[str], candidates: int) -> list[list[OpenCase]]:
        """Each shopper's open test cases (none for a new shopper, or after a change of the
        number of candidates)."""
        raw = await self._runner.run([("GET", self._lists(u)) for u in users])
        return [_decode(value, candidates) for value in raw]

    async def record(
        self,
        fading: float,
        default: int,
        increments: Sequence[tuple[str, int]],
        cases: Sequence[tuple[str, Sequence[OpenCase]]],
        ttl_seconds: int,
        new: int | None = None,
    ) -> SharedCounts:
        """Fade the shared counts by ``fading`` per new case (``new``, else one per shopper
        of ``cases``), add the ``increments``, store ``default`` as the choice where none is,
        and keep each shopper's open cases for ``ttl_seconds``: one round trip."""
        opened = len(cases) if new is None else new
        args = [number_arg(fading), str(opened), str(default)]
        for name, add in increments:
            args += [name, str(add)]
        calls: list[Call] = [(TUNE_RECORD, [self._hash], args)]
        calls += [
            (
                "SET",
                self._lists(user),
                json.dumps([[c.lists, c.hit, c.opened] for c in state]),
                "EX",
                ttl_seconds,
            )
            for user, state in cases
        ]
        reply, *_ = await self._runner.run(calls)
        total, choice, *values = reply
        return SharedCounts(float(total), _choice(choice), [float(v) for v in values])

    async def store_choice(self, choice: int) -> None:
        """Make ``choice`` the candidate every worker ranks with."""
        await self._runner.run([("HSET", self._hash, "choice", str(choice))])

    async def shared_choice(self) -> tuple[float, int | None]:
        """The decayed number of cases and the stored choice (None: none yet)."""
        (values,) = await self._runner.run([("HMGET", self._hash, "cases", "choice")])
        cases, choice = values
        return float(cases or 0.0), _choice(choice)

    async def counters(self, fields: Sequence[str]) -> tuple[float, int | None, list[float]]:
        """Decayed cases, the stored choice and the named counters' values (status)."""
        (values,) = await self._runner.run([("HMGET", self._hash, "cases", "choice", *fields)])
        return float(values[0] or 0.0), _choice(values[1]), [float(v or 0.0) for v in values[2:]]

    async def hit_counts(self, candidates: int) -> tuple[float, int | None, list[float]]:
        """Decayed cases, the stored choice and each candidate's decayed hits (status)."""
        fields = ["cases", "choice", *(f"h{c}" for c in range(candidates))]
        (values,) = await self._runner.run([("HMGET", self._hash, *fields)])
        return float(values[0] or 0.0), _choice(values[1]), [float(h or 0.0) for h in values[2:]]


def _decode(value: str | None, k: int) -> list[OpenCase]:
    try:
        cases = [
            OpenCase(
                tuple(tuple(map(str, lst)) for lst in lists),
                tuple(map(bool, hit)),
                float(opened[0]) if opened else 0.0,
            )
            for lists, hit, *opened in json.loads(value or "[]")
        ]
    except (ValueError, TypeError):
        return []
    return [c for c in cases if len(c.lists) == len(c.hit) == k]
