"""Self-tuning by prequential (test-then-train) evaluation: pure rules.

A live stream is its own test set. Each add-to-cart is first a test case for the suggestions
that every candidate setting would have made at the shopper's previous add (computed then,
from the same Redis state, before this event was learnt): a hit when the item now added is
among a candidate's top k. Each candidate keeps a decayed hit rate (MOA's and River's
"prequential" error with a fading factor), and the ranking uses the best one. Switching is
damped so that it does not flap: a challenger takes over only when its rate beats the current
candidate's by ``margin`` (relative) over at least ``min_cases`` decayed cases.

The candidates differ in the recency weight r of the cart's items (models/ranking.py): where
the source has a meaningful add order, the item just added says most (r = 0.5); where it does
not (a basket exported in arbitrary order), every cart item says as much (r = 1). A source
rarely says which it is, so the stream decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from models.ranking import RankParams


@dataclass(frozen=True, slots=True)
class TuneStats:
    """Decayed counts of the prequential tests: cases, and hits per candidate."""

    cases: float
    hits: tuple[float, ...]
    choice: int

    def rate(self, candidate: int) -> float:
        return self.hits[candidate] / self.cases if self.cases > 0 else 0.0


def candidate_params(base: RankParams, recency_decays: Sequence[float]) -> list[RankParams]:
    """The settings under test: the configured ranking with each recency weight."""
    return [replace(base, recency_decay=r) for r in recency_decays]


def fading_factor(half_life_cases: float) -> float:
    """Per-case decay of the counts, so a case ``half_life_cases`` old counts half: recent
    behaviour decides, yet one batch cannot swing the choice."""
    if half_life_cases <= 0:
        return 1.0
    return float(0.5 ** (1.0 / half_life_cases))


def is_hit(suggested: Sequence[str], added: str) -> bool:
    """A test case: did the candidate's top k at the previous add hold the item now added?"""
    return added in suggested


def choose(stats: TuneStats, margin: float, min_cases: float) -> int:
    """The candidate to rank with: the current one, unless another's decayed hit rate beats
    it by more than ``margin`` (relative) over at least ``min_cases`` decayed cases (damping:
    near-ties and thin evidence keep the current choice)."""
    if stats.cases < min_cases or not stats.hits:
        return stats.choice
    best = max(range(len(stats.hits)), key=lambda c: (stats.hits[c], -c))
    if best == stats.choice:
        return stats.choice
    if stats.rate(best) > stats.rate(stats.choice) * (1.0 + margin):
        return best
    return stats.choice
