"""Self-tuning's Redis side: the shoppers' last top-k lists per candidate, and the decayed
hit counts every worker shares (the rules are pure, in models/tuning.py).

Per micro-batch of sampled shoppers' add-to-cart events: one round trip reads each shopper's
open test cases (``{u:USER}:tune``: the lists each candidate made at earlier adds); after the
ranking, which also scores every candidate from the same reads, one round trip records what
the added items hit (:data:`TUNE_RECORD`) and stores the cases with the new one. The counts
are at least once (a redelivered event may count twice): a measurement, not learned state.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from config.settings import Settings
from models.ranking import RankParams
from models.tuning import (
    MAX_OPEN_CASES,
    OpenCase,
    candidate_params,
    choose,
    counter_fields,
    fading_factor,
    score_open_cases,
    stats_of,
)
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import number_arg
from xsell.store.core.apply import EventStore
from xsell.store.tuning.lua import TUNE_RECORD

log = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0  # how stale a process that only ranks (the API) may see the choice


def sampled(user_id: str, share: float) -> bool:
    """Whether a shopper's adds are test cases: a fixed share of shoppers, by a hash of the
    id, so a shopper is in or out for all of their adds."""
    if share >= 1.0:
        return True
    digest = hashlib.blake2b(user_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") < share * 2**32


class SelfTuner:
    """Keeps the candidate settings, the current choice and the round trips of a batch."""

    def __init__(self, store: EventStore, settings: Settings, base: RankParams) -> None:
        s = self.settings = settings
        self.store = store
        self.candidates = candidate_params(base, s.tuning_recency_decays)
        default = min(
            range(len(self.candidates)),
            key=lambda c: abs(self.candidates[c].recency_decay - base.recency_decay),
        )
        self.default = default
        self.stats = stats_of(
            0.0, [0.0] * len(counter_fields(len(self.candidates))), len(self.candidates), default
        )
        self.fading = fading_factor(s.tuning_half_life_cases)
        self.refreshed = 0.0

    @property
    def params(self) -> RankParams:
        return self.candidates[self.stats.choice]

    async def read_cases(self, users: Sequence[str]) -> list[list[OpenCase]]:
        """Each shopper's open test cases (none for a new shopper, or after a change of the
        candidates)."""
        keys = self.store.keys
        raw = await self.store.runner.run([("GET", keys.tune_lists(u)) for u in users])
        return [self._decode(value) for value in raw]

    def _decode(self, value: str | None) -> list[OpenCase]:
        k = len(self.candidates)
        try:
            cases = [
                OpenCase(tuple(tuple(map(str, lst)) for lst in lists), tuple(map(bool, hit)))
                for lists, hit in json.loads(value or "[]")
            ]
        except (ValueError, TypeError):
            return []
        return [c for c in cases if len(c.lists) == len(c.hit) == k]

    async def record(
        self,
        previous: Sequence[list[OpenCase]],
        added: Sequence[str],
        users: Sequence[str],
        new_lists: Sequence[list[list[str]]],
    ) -> None:
        """Score the open cases by the items just added, open one case per shopper with the
        candidates' new lists, update the shared counts, store the cases, maybe switch."""
        k = len(self.candidates)
        fields = counter_fields(k)
        change = [0] * len(fields)
        states = []
        for cases, item, lists in zip(previous, added, new_lists, strict=True):
            after, delta = score_open_cases(cases, item)
            change = [a + b for a, b in zip(change, delta or [0] * len(fields), strict=True)]
            opened = OpenCase(tuple(tuple(lst) for lst in lists), (False,) * k)
            states.append([*after, opened][-MAX_OPEN_CASES:])
        keys = self.store.keys
        args = [number_arg(self.fading), str(len(users)), str(self.default)]
        for name, add in zip(fields, change, strict=True):
            args += [name, str(add)]
        calls: list[Call] = [(TUNE_RECORD, [keys.tuning], args)]
        ttl = self.settings.cart_ttl_seconds
        calls += [
            (
                "SET",
                keys.tune_lists(u),
                json.dumps([[c.lists, c.hit] for c in state]),
                "EX",
                ttl,
            )
            for u, state in zip(users, states, strict=True)
        ]
        reply, *_ = await self.store.runner.run(calls)
        if self._update(reply):
            await self.store.runner.run([("HSET", keys.tuning, "choice", str(self.stats.choice))])

    def _update(self, reply: list[Any]) -> bool:
        """Take the shared counts; True when the rules switch the choice."""
        cases, choice, *values = reply
        k = len(self.candidates)
        current = int(choice) if choice not in ("", None) else self.default
        current = current if 0 <= current < k else self.default
        self.stats = stats_of(float(cases), [float(v) for v in values], k, current)
        s = self.settings
        best = choose(self.stats, s.tuning_z, s.tuning_min_cases)
        if best != current:
            log.info(
                "self-tuning: recency_decay %s -> %s (hit rate %.4f -> %.4f over %.0f cases)",
                self.candidates[current].recency_decay,
                self.candidates[best].recency_decay,
                self.stats.rate(current),
                self.stats.rate(best),
                self.stats.cases,
            )
            self.stats = replace(self.stats, choice=best)
        self.refreshed = time.monotonic()
        return best != current

    async def refresh(self) -> None:
        """Reread the shared choice when it is older than ``REFRESH_SECONDS`` (for processes
        that rank without recording, such as the API)."""
        if time.monotonic() - self.refreshed < REFRESH_SECONDS:
            return
        (values,) = await self.store.runner.run(
            [("HMGET", self.store.keys.tuning, "cases", "choice")]
        )
        self.refreshed = time.monotonic()
        cases, choice = values
        if choice is not None and choice.isdigit() and int(choice) < len(self.candidates):
            self.stats = replace(self.stats, cases=float(cases or 0), choice=int(choice))


async def tuning_status(store: EventStore, settings: Settings) -> dict[str, Any]:
    """What ``xsell status`` and the API's metrics show of self-tuning: the candidates with
    their decayed hit rate (next add among the top k), the choice and the cases behind it."""
    weights = settings.tuning_recency_decays
    fields = ["cases", "choice", *(f"h{c}" for c in range(len(weights)))]
    (values,) = await store.runner.run([("HMGET", store.keys.tuning, *fields)])
    cases = float(values[0] or 0.0)
    choice = values[1]
    chosen = int(choice) if choice is not None and choice.isdigit() else None
    hits = [float(h or 0.0) for h in values[2:]]
    return {
        "enabled": settings.self_tuning,
        "cases": round(cases, 1),
        "recency_decay": weights[chosen] if chosen is not None and chosen < len(weights) else None,
        "hit_rates": {
            str(w): round(h / cases, 4) if cases > 0 else None
            for w, h in zip(weights, hits, strict=True)
        },
    }
