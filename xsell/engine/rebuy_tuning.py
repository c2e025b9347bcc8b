"""Self-tuning of the number of buy-again places: the engine's collaborator that chooses in how
many of the k cart and checkout offers a user's due rebuys may stand
(``RebuyParams.max_offers``; ``XSELL_MAX_REBUYS`` is the starting choice, the candidates are
``XSELL_TUNING_MAX_REBUYS``).

The cart's sampled known users' adds (``XSELL_TUNING_SAMPLE``, the cases of
:class:`~xsell.engine.self_tuning.SelfTuning`) where a due rebuy could take a place open a
test case: each candidate's final offers with that many places, from the same inputs as the
real offers (no extra round trip). The user's later adds of the cart score it; the decayed
counts meet in the store's rebuy tuning room and the paired rule of the cart's tuning decides
(models/rebuy_tuning.py, models/tuning.py, :class:`~xsell.engine.self_tuning.TunedChoice`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from xsell.config.settings import Settings
from xsell.engine.self_tuning import TestLists, TunedChoice, TuningCase
from xsell.models.ranking import Offer, RankParams
from xsell.models.rebuy_tuning import candidate_lists, cart_cases, rebuy_candidates
from xsell.models.tuning import choice_report, counter_fields
from xsell.store import Store


def with_places(params: RankParams, places: int) -> RankParams:
    """``params`` with ``places`` buy-again places."""
    return replace(params, rebuy=replace(params.rebuy, max_offers=places))


class RebuyTuning(TunedChoice):
    """The candidate numbers of places, the current choice and the round trips of a batch."""

    def __init__(self, store: Store, settings: Settings) -> None:
        configured = settings.ranking.max_rebuys
        self.counts = rebuy_candidates(configured, settings.tuning.max_rebuys)
        labels = [str(n) for n in self.counts]
        default = self.counts.index(configured)
        super().__init__(store.rebuy_tuning, settings, labels, default, "buy-again places")

    @property
    def places(self) -> int:
        """The number of buy-again places in use: the chosen candidate."""
        return self.counts[self.stats.choice]

    @property
    def most(self) -> int:
        """The most places any candidate has (how many due rebuys the inputs need)."""
        return max(self.counts)

    def applied(self, params: RankParams) -> RankParams:
        """``params`` with the chosen number of buy-again places."""
        return with_places(params, self.places)

    def test_lists(
        self, offers_with: Callable[[RankParams], Sequence[Offer]], params: RankParams
    ) -> TestLists:
        """Each candidate's top k: one request's final offers (``offers_with``: its offers
        for a ranking) with that many buy-again places."""
        return candidate_lists(lambda n: offers_with(with_places(params, n)), self.counts)

    async def record(self, cases: Sequence[TuningCase], lists: Mapping[int, TestLists]) -> None:
        """Score each user's open cases by the item just added, open the add's case where
        its candidates' lists (``lists``, by row) differ, update the shared counts, maybe
        switch."""
        k = len(self.counts)
        previous = await self.store.open_cases([c.user for c in cases], k)
        change = [0] * len(counter_fields(k))
        states, opened = [], 0
        for open_cases, case in zip(previous, cases, strict=True):
            after, delta, opens = cart_cases(open_cases, case.item, lists.get(case.row))
            change = [a + b for a, b in zip(change, delta or [0] * len(change), strict=True)]
            opened += opens
            if after or open_cases:
                states.append((case.user, after))
        if states or any(change):
            await self.share(change, states, self.settings.learning.cart_ttl_seconds, opened)


async def rebuy_tuning_status(store: Store, settings: Settings) -> dict[str, Any]:
    """What status and ``xsell eval`` show of the number of buy-again places' tuning: each
    candidate's decayed hit rate (a later add of the cart among its offers), the choice and the
    cases behind it."""
    configured = settings.ranking.max_rebuys
    counts = rebuy_candidates(configured, settings.tuning.max_rebuys)
    counters = await store.rebuy_tuning.counters(counter_fields(len(counts)))
    return {
        "enabled": settings.tuning.enabled and settings.learning.followed_window_days > 0,
        **choice_report("max_rebuys", counts, configured, counters),
    }
