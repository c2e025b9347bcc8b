"""Self-tuning of the followed-by weight: the engine's collaborator that chooses how much the
post-purchase and support rankings weigh what buyers of an item bought next
(``RankParams.followed_weight``; ``XSELL_FOLLOWED_WEIGHT`` is the starting choice).

Every sampled known user's purchase (``XSELL_TUNING_SAMPLE``) that gets a post-purchase
suggestion opens a test case: each candidate weight's top k among the items the user does not
own, from the same reads as the real ranking (the blend: xsell/engine/followed.py; the
ownership of a few more items rides on the one details read). That user's next purchase within
the followed-by window scores it; the decayed counts meet in the store's followed-by tuning
room and the paired rule of the cart's tuning decides (models/followed_tuning.py,
models/tuning.py, :class:`~xsell.engine.self_tuning.TunedChoice`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from xsell.config.settings import Settings
from xsell.engine.self_tuning import TunedChoice, sampled
from xsell.models.followed_tuning import (
    close_case,
    followed_candidates,
    opened_case,
    shortlist,
    top_unowned,
)
from xsell.models.post_purchase import Stored, with_followed
from xsell.models.ranking import RankInput, RankParams, RankRequest
from xsell.models.rules import owned
from xsell.models.tuning import choice_report, counter_fields
from xsell.store import Store

SPARE = 10  # items beyond the top k whose ownership is read, for a top k of unowned items
Shortlists = tuple[tuple[str, ...], ...]  # per candidate weight: its best items, best first


@dataclass(frozen=True, slots=True)
class PurchaseCase:
    """A purchase that is a test case: its row in the batch, its user, items and time."""

    row: int
    user: str
    items: tuple[str, ...]
    ts: float


class FollowedTuning(TunedChoice):
    """The candidate weights, the current choice and the round trips of a batch."""

    def __init__(self, store: Store, settings: Settings) -> None:
        configured = float(settings.ranking.followed_weight)
        self.weights = followed_candidates(configured)
        labels = [str(w) for w in self.weights]
        default = self.weights.index(configured)
        super().__init__(store.followed_tuning, settings, labels, default, "followed-by weight")
        self.window = settings.learning.followed_window_days * 86400

    @property
    def weight(self) -> float:
        """The followed-by weight in use: the chosen candidate."""
        return self.weights[self.stats.choice]

    def applied(self, params: RankParams) -> RankParams:
        """``params`` with the chosen followed-by weight."""
        return replace(params, followed_weight=self.weight)

    def cases(
        self, requests: Sequence[RankRequest], variants: Sequence[str], holdout: str
    ) -> list[PurchaseCase]:
        """The test cases of a batch: sampled known users' post-purchase requests outside the
        ``holdout``, one per user and batch."""
        share, seen = self.settings.tuning.sample, set()
        out = []
        for row, (req, variant) in enumerate(zip(requests, variants, strict=True)):
            user = req.user_id
            if req.placement != "post_purchase" or req.followed_only or variant == holdout:
                continue
            if user is None or user in seen or not sampled(user, share):
                continue
            seen.add(user)
            out.append(PurchaseCase(row, user, tuple(req.anchors), req.now))
        return out

    def shortlists(
        self, inp: RankInput, stored: Stored, params: RankParams, half_life: float
    ) -> Shortlists:
        """Each candidate weight's best items for a purchase's same-basket input ``inp``."""
        return tuple(
            shortlist(
                with_followed(inp, stored, replace(params, followed_weight=w), half_life).scored
                or {},
                params.k,
                SPARE,
            )
            for w in self.weights
        )

    def test_lists(
        self, inputs: Sequence[RankInput], shortlists: Mapping[int, Shortlists], params: RankParams
    ) -> dict[int, tuple[tuple[str, ...], ...]]:
        """Each candidate's top k of unowned items, for the rows of ``shortlists``, from the
        inputs with their details (the user's purchases of the shortlisted items)."""
        out = {}
        for n, lists in shortlists.items():
            inp = inputs[n]

            def is_owned(item: str, inp: RankInput = inp) -> bool:
                return owned(item, inp.history, inp.catalog, inp.now, params.rules)

            out[n] = tuple(top_unowned(lst, is_owned, params.k) for lst in lists)
        return out

    async def record(
        self, cases: Sequence[PurchaseCase], lists: Sequence[tuple[tuple[str, ...], ...]]
    ) -> None:
        """Score each user's open case by the order just placed (when within the window),
        open the new one, update the shared counts, maybe switch."""
        k = len(self.weights)
        previous = await self.store.open_cases([c.user for c in cases], k)
        change = [0] * len(counter_fields(k))
        for open_cases, case in zip(previous, cases, strict=True):
            delta = close_case(
                open_cases[-1] if open_cases else None, case.items, case.ts, self.window
            )
            change = [a + b for a, b in zip(change, delta or [0] * len(change), strict=True)]
        states = [(c.user, [opened_case(new, c.ts)]) for c, new in zip(cases, lists, strict=True)]
        await self.share(change, states, max(int(self.window), 1))


async def followed_tuning_status(store: Store, settings: Settings) -> dict[str, Any]:
    """What status and ``xsell eval --post-purchase`` show of the followed-by weight's tuning:
    each candidate weight's decayed hit rate (the next order holds one of its items), the
    choice and the cases behind it."""
    configured = float(settings.ranking.followed_weight)
    weights = followed_candidates(configured)
    counters = await store.followed_tuning.counters(counter_fields(len(weights)))
    return {
        "enabled": settings.tuning.enabled,
        **choice_report("followed_weight", weights, configured, counters),
    }
