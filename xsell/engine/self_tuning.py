"""Self-tuning: the engine's one collaborator that chooses the recency weight on the shop's own
stream (test, then train), so that the ranking code does not know it exists.

Every sampled shopper's add-to-cart (``XSELL_TUNING_SAMPLE``) opens a test case: each
candidate recency weight makes its top k from the same reads as the real ranking
(:meth:`SelfTuning.test_lists`). The shopper's later adds score the cases, which is the HR@k
of ``xsell eval``; the decayed counts of every worker meet in one Redis hash (the store's
tuning room) and a paired test decides when to switch (the pure rules: models/tuning.py).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from xsell.config.settings import Settings
from xsell.models.ranking import RankParams, RankRequest
from xsell.models.scoring import BatchStats, Scored, score_batch
from xsell.models.tuning import (
    MAX_OPEN_CASES,
    OpenCase,
    candidate_label,
    candidate_params,
    choose,
    counter_fields,
    fading_factor,
    score_open_cases,
    stats_of,
)
from xsell.store import Store, TuningStore

log = logging.getLogger(__name__)

REFRESH_SECONDS = 10.0  # how stale a process that only ranks (the API) may see the choice
TestLists = tuple[tuple[str, ...], ...]  # one top-k list per candidate


def sampled(user_id: str, share: float) -> bool:
    """Whether a shopper's adds are test cases: a fixed share of shoppers, by a hash of the
    id, so a shopper is in or out for all of their adds."""
    if share >= 1.0:
        return True
    digest = hashlib.blake2b(user_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") < share * 2**32


@dataclass(frozen=True, slots=True)
class TuningCase:
    """An add-to-cart that is a test case: its row in the batch, its shopper and the item."""

    row: int
    user: str
    item: str


class TunedChoice:
    """A tuned choice among candidates: its shared counts in a tuning room of the store, the
    paired decision rule (models/tuning.choose) and the rereading of the shared choice. The
    cart's tuning (:class:`SelfTuning`) and the followed-by weight's
    (xsell/engine/followed_tuning.py) are both one."""

    def __init__(
        self,
        store: TuningStore,
        settings: Settings,
        labels: Sequence[str],
        default: int,
        what: str = "recency weight",
        preferred: Sequence[bool] = (),
    ) -> None:
        self.settings = settings
        self.what = what  # what the log names
        self.store = store
        self.labels = list(labels)
        self.default = default
        self.preferred = tuple(preferred)  # the configured family (models/tuning.choose)
        k = len(labels)
        self.stats = stats_of(0.0, [0.0] * len(counter_fields(k)), k, default)
        self.fading = fading_factor(settings.tuning.half_life_cases)
        self.refreshed = 0.0

    def label(self, candidate: int) -> str:
        """A candidate as logs, status and metrics name it."""
        return self.labels[candidate]

    async def share(
        self,
        change: list[int],
        cases: Sequence[tuple[str, Sequence[OpenCase]]],
        ttl: int,
        new: int | None = None,
    ) -> None:
        """Add a batch's counter ``change`` to the shared counts (``new`` new cases, else one
        per user of ``cases``, whose open cases are stored for ``ttl`` seconds), then maybe
        switch."""
        fields = counter_fields(len(self.labels))
        counts = await self.store.record(
            self.fading, self.default, list(zip(fields, change, strict=True)), cases, ttl, new
        )
        if self._update(counts.cases, counts.choice, counts.values):
            await self.store.store_choice(self.stats.choice)

    def _update(self, cases: float, choice: int | None, values: list[float]) -> bool:
        """Take the shared counts; True when the rules switch the choice."""
        k = len(self.labels)
        current = choice if choice is not None and 0 <= choice < k else self.default
        self.stats = stats_of(cases, values, k, current)
        s = self.settings
        best = choose(self.stats, s.tuning.z, s.tuning.min_cases, self.preferred)
        if best != current:
            log.info(
                "self-tuning: %s %s -> %s (hit rate %.4f -> %.4f over %.0f cases)",
                self.what,
                self.label(current),
                self.label(best),
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
        cases, choice = await self.store.shared_choice()
        self.refreshed = time.monotonic()
        if choice is not None and choice < len(self.labels):
            self.stats = replace(self.stats, cases=cases, choice=choice)


def tuning_candidates(settings: Settings, base: RankParams) -> list[RankParams]:
    """The cart ranking's candidates of the settings (models/tuning.candidate_params)."""
    t = settings.tuning
    return candidate_params(base, t.recency, t.category_backoff, t.similarity, t.popularity_prior)


class SelfTuning(TunedChoice):
    """The candidate settings, the current choice and the round trips of a batch."""

    def __init__(self, store: Store, settings: Settings, base: RankParams) -> None:
        s = settings
        self.candidates = tuning_candidates(settings, base)
        default = min(  # among the first: the configured back-off's
            range(len(s.tuning.recency)),
            key=lambda c: abs(self.candidates[c].recency_decay - base.recency_decay),
        )
        labels = [candidate_label(c, self.candidates[default]) for c in self.candidates]
        family = [
            c.similarity == base.similarity and c.popularity_prior == base.popularity_prior
            for c in self.candidates
        ]
        super().__init__(store.tuning, settings, labels, default, preferred=family)

    @property
    def params(self) -> RankParams:
        """The ranking in use: the chosen candidate."""
        return self.candidates[self.stats.choice]

    @property
    def reads_categories(self) -> bool:
        """Whether any candidate backs off to categories (then the ranking reads them)."""
        return any(c.category_backoff > 0 for c in self.candidates)

    @property
    def reads_popular(self) -> bool:
        """Whether any candidate has a popularity prior (then the ranking reads the most
        popular items)."""
        return any(c.popularity_prior > 0 for c in self.candidates)

    def cases(
        self, triggers: Sequence[tuple[str, str | None, str]], variants: Sequence[str], holdout: str
    ) -> list[TuningCase]:
        """The test cases among a batch's (placement, user, first item) triggers: sampled
        shoppers' add-to-carts outside the ``holdout`` (it is not ranked), one per shopper
        and batch (the lists of a shopper's earlier add in the same batch are not stored
        yet)."""
        share, seen = self.settings.tuning.sample, set()
        out = []
        for row, ((placement, user, item), variant) in enumerate(
            zip(triggers, variants, strict=True)
        ):
            if placement != "cart" or variant == holdout or user is None or user in seen:
                continue
            if sampled(user, share):
                seen.add(user)
                out.append(TuningCase(row, user, item))
        return out

    def test_lists(
        self,
        stats: BatchStats,
        requests: Sequence[RankRequest],
        scored: Sequence[Scored],
        params: RankParams,
        rows: frozenset[int],
    ) -> dict[int, TestLists]:
        """The top k of each candidate for the requests at ``rows``, scored from the batch's
        reads: no extra round trip. Each candidate is ``params`` with its tuned fields, so the
        candidate in use needs no second scoring: its top k leads the ranking's full list."""
        order = sorted(rows)
        computed: dict[RankParams, list[Scored]] = {
            params: [dict(list(scored[r].items())[: params.k]) for r in order]
        }
        per_candidate = []
        for c in self.candidates:
            p = replace(
                params,
                recency_decay=c.recency_decay,
                category_backoff=c.category_backoff,
                similarity=c.similarity,
                popularity_prior=c.popularity_prior,
            )
            if not stats.categories:  # no category read: the back-off cannot change a list
                p = replace(p, category_backoff=params.category_backoff)
            if p not in computed:
                computed[p] = score_batch(stats, [requests[r] for r in order], p, params.k)
            per_candidate.append(computed[p])
        return {r: tuple(tuple(lists[n]) for lists in per_candidate) for n, r in enumerate(order)}

    async def record(self, cases: Sequence[TuningCase], lists: Sequence[TestLists]) -> None:
        """Score the shoppers' open cases by the items just added, open one case per shopper
        with the candidates' new lists, update the shared counts, store the cases, maybe
        switch."""
        k = len(self.candidates)
        previous = await self.store.open_cases([c.user for c in cases], k)
        fields = counter_fields(k)
        change = [0] * len(fields)
        states = []
        for open_cases, case, new in zip(previous, cases, lists, strict=True):
            after, delta = score_open_cases(open_cases, case.item)
            change = [a + b for a, b in zip(change, delta or [0] * len(fields), strict=True)]
            opened = OpenCase(tuple(tuple(lst) for lst in new), (False,) * k)
            states.append([*after, opened][-MAX_OPEN_CASES:])
        await self.share(
            change,
            [(c.user, state) for c, state in zip(cases, states, strict=True)],
            self.settings.learning.cart_ttl_seconds,
        )


async def tuning_status(store: Store, settings: Settings) -> dict[str, Any]:
    """What ``xsell status`` and the API's metrics show of self-tuning: the candidates with
    their decayed hit rate (next add among the top k), the choice and the cases behind it.
    A candidate is named by its recency weight, with its category back-off, similarity and
    popularity prior where they are not the configured ones (models/tuning.candidate_label)."""
    r = settings.ranking
    base = RankParams(
        category_backoff=r.category_backoff,
        similarity=r.similarity,
        popularity_prior=r.popularity_prior,
    )
    candidates = tuning_candidates(settings, base)
    cases, chosen, hits = await store.tuning.hit_counts(len(candidates))
    choice = candidates[chosen] if chosen is not None and chosen < len(candidates) else None
    return {
        "enabled": settings.tuning.enabled,
        "cases": round(cases, 1),
        "recency_decay": choice.recency_decay if choice is not None else None,
        "category_backoff": choice.category_backoff if choice is not None else None,
        "similarity": choice.similarity if choice is not None else None,
        "popularity_prior": choice.popularity_prior if choice is not None else None,
        "hit_rates": {
            candidate_label(c, base): round(h / cases, 4) if cases > 0 else None
            for c, h in zip(candidates, hits, strict=True)
        },
    }
