"""The attribution and feedback room: offers into the users' ledgers, the days' counters of
the report, the minutes' figures of the dashboard, and what the worker writes once Kafka has
acknowledged a batch's outputs (latest suggestions, offers, figures).

Events are attributed as they are applied (:meth:`xsell.store.core.apply.EventStore.apply`,
with :class:`~xsell.store.attribution.ledger.Attribution`); this room records the offers that
were made and reads the figures back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from xsell.store.attribution.bundles import bundle_shown_call
from xsell.store.attribution.figures import batch_calls
from xsell.store.attribution.ledger import SEP, Attribution, Earned, record_offers, variant_field
from xsell.store.backend.client import Call, RedisClient, Runner
from xsell.store.core.keys import Keys
from xsell.store.core.latest import Published, latest_calls

DayCounters = tuple[dict[str, str], dict[str, str]]  # a day's counters, per-user revenue rows


@dataclass(frozen=True, slots=True)
class BatchFigures:
    """One micro-batch's figures for the dashboard's minute."""

    topic: str
    records: int
    suggestions: int
    dead_letters: int
    latencies_ms: Sequence[float]
    now: float


class AttributionStore:
    """Offers made, a day's counters and a minute's figures."""

    def __init__(
        self,
        runner: Runner,
        client: RedisClient,
        keys: Keys,
        ledger: Attribution | None,
        suggestion_ttl_seconds: int,
        minute_figures_seconds: int,
    ) -> None:
        self._runner = runner
        self._client = client
        self._keys = keys
        self._ledger = ledger
        self._ttl = suggestion_ttl_seconds
        self._minute_figures_seconds = minute_figures_seconds

    @property
    def enabled(self) -> bool:
        """Whether offers are recorded and events attributed (``XSELL_ATTRIBUTION``)."""
        return self._ledger is not None

    async def record_offers(
        self, messages: Sequence[dict[str, Any]], offered_at: Sequence[float]
    ) -> None:
        """Record published messages (the shape of a suggestion) in their users' ledgers and
        their days' counters; nothing when attribution is off."""
        if self._ledger is not None:
            await record_offers(self._runner, self._ledger, messages, offered_at)

    async def record_outputs(
        self,
        published: Sequence[Published],
        figures: BatchFigures,
        messages: Sequence[dict[str, Any]],
        offered_at: Sequence[float],
    ) -> None:
        """After delivery of a batch's outputs: each user's latest suggestions, the minute's
        figures, and the offers (ledgers, then counters): two round trips at most."""
        first: list[Call] = [
            *latest_calls(self._keys, self._ttl, published),
            *batch_calls(
                self._keys,
                figures.topic,
                figures.records,
                figures.suggestions,
                figures.dead_letters,
                figures.latencies_ms,
                figures.now,
                lifetime_seconds=self._minute_figures_seconds,
            ),
        ]
        if self._ledger is None:
            await self._runner.run(first)
            return
        await record_offers(self._runner, self._ledger, messages, offered_at, first)

    async def record_bundle(
        self, answer: dict[str, Any], user_id: str, variant: str, ts: float
    ) -> None:
        """A bundle answer shown to a user (the API answered it): kept in the user's ledger for
        the orders that carry its id, and one ``bundle_impressions`` of the variant on the
        day's counters (the user seen in the variant); nothing when attribution is off. Two
        round trips."""
        led = self._ledger
        if led is None:
            return
        shown = bundle_shown_call(
            self._keys, answer, user_id, variant, ts, led.window, led.max_entries
        )
        [pid] = await self._runner.run([shown])
        earned = Earned(str(pid))
        earned.add(variant_field(variant, "bundle_impressions"), 1.0)
        earned.revenue[f"{variant}{SEP}{pid}"] = None
        call = led.count_call(f"b:{uuid.uuid4().hex}", ts, earned, int(time.time() * 1000))
        if call is not None:
            await self._runner.run([call])

    async def report_days(self) -> list[int]:
        """The days that hold report data, in order."""
        days = set()
        async for key in self._client.scan_iter(match=f"{self._keys.ns}:{{r:*}}:c", count=1000):
            tag = key.split("{r:", 1)[1].split("}", 1)[0]
            if tag.isdigit():
                days.add(int(tag))
        return sorted(days)

    async def read_days(self, days: Iterable[int]) -> dict[int, DayCounters]:
        """Each day's counters and per-user revenue rows."""
        days = list(days)
        calls: list[Call] = []
        for day in days:
            counters, users, _ = self._keys.day(day)
            calls += [("HGETALL", counters), ("HGETALL", users)]
        answers = await self._runner.run(calls)
        return {day: (answers[2 * n] or {}, answers[2 * n + 1] or {}) for n, day in enumerate(days)}

    async def minute_figures(self, minutes: Sequence[int]) -> list[dict[str, str]]:
        """The worker figures of each minute (fields of figures.py; empty where none)."""
        answers = await self._runner.run([("HGETALL", self._keys.minute(m)) for m in minutes])
        return [a or {} for a in answers]
