"""Self-tuning by prequential (test-then-train) evaluation: pure rules.

A live stream is its own test set. At each add-to-cart of a sampled shopper, every candidate
setting makes its top k from the same Redis state: a test case, scored later by what the
shopper goes on to add (test, then train: the items it is scored on are learnt only after the
lists were made). A case is a hit for a candidate when any later add of the cart is among the
candidate's top k, the HR@k of ``xsell eval``; a shopper's ``MAX_OPEN_CASES`` newest cases stay
open. Each candidate keeps a decayed hit rate (MOA's and River's "prequential" error with a
fading factor), and the ranking uses the best one. Switching is
damped so that it does not flap: every candidate is tested on the same cases, so a challenger
takes over only when its lead is significant in a paired (McNemar) test, the cases it hit and
the current candidate missed against the reverse, by more than ``z`` standard errors, and only
after ``min_cases`` decayed cases.

The candidates differ in the recency weight r of the cart's items (models/ranking.py): where
the source has a meaningful add order, the item just added says most (r = 0.5); where it does
not (a basket exported in arbitrary order), every cart item says as much (r = 1). A source
rarely says which it is, so the stream decides. They also differ in the category back-off
(models/categories.py): whether thin anchors lean on their category helps on some catalogues
and not on others, so the stream decides that too. And in the similarity family and the
popularity-prior strength: confidence wins on most baskets, Jaccard on some sparse catalogues,
and a small catalogue where a few items sell to everyone is served best by mostly popularity
(docs/evaluation.md, "Self-tuning"); which one a shop is, only its stream tells.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import NormalDist
from typing import Any

from xsell.models.ranking import RankParams


@dataclass(frozen=True, slots=True)
class TuneStats:
    """Decayed counts of the prequential tests: cases, hits per candidate, and for each
    ordered pair (b, c) the cases b hit and c missed (``wins[b][c]``)."""

    cases: float
    hits: tuple[float, ...]
    choice: int
    wins: tuple[tuple[float, ...], ...]

    def rate(self, candidate: int) -> float:
        return self.hits[candidate] / self.cases if self.cases > 0 else 0.0

    def win(self, b: int, c: int) -> float:
        return self.wins[b][c]


def counter_fields(k: int) -> list[str]:
    """The names of the shared counters of ``k`` candidates: hits ``h<b>``, then the paired
    wins ``w<b>_<c>`` (b != c), in the order of :func:`case_counts`."""
    return [f"h{b}" for b in range(k)] + [f"w{b}_{c}" for b in range(k) for c in range(k) if b != c]


MAX_OPEN_CASES = 10  # a shopper's newest cases that later adds can still turn into hits


def case_counts(outcomes: Sequence[Sequence[bool]], k: int) -> list[int]:
    """The values of :func:`counter_fields` for cases with these outcomes (a hit or a miss
    per candidate each)."""
    hits = [sum(o[b] for o in outcomes) for b in range(k)]
    wins = [sum(o[b] and not o[c] for o in outcomes) for b in range(k) for c in range(k) if b != c]
    return hits + wins


@dataclass(frozen=True, slots=True)
class OpenCase:
    """A test case still open: each candidate's top k at an earlier add, and its hits so far."""

    lists: tuple[tuple[str, ...], ...]
    hit: tuple[bool, ...]
    opened: float = 0.0  # the event time it was opened at (a window's start; 0 = unused)


def score_open_cases(cases: Sequence[OpenCase], added: str) -> tuple[list[OpenCase], list[int]]:
    """The cases after the shopper added ``added``, and the change of the counters
    (:func:`counter_fields`) it makes: a case's first hit for a candidate counts once, and a
    paired win turns back when the other candidate hits later too."""
    if not cases:
        return [], []
    k = len(cases[0].hit)
    after = [
        OpenCase(
            c.lists, tuple(h or is_hit(lst, added) for h, lst in zip(c.hit, c.lists, strict=True))
        )
        for c in cases
    ]
    before_counts = case_counts([c.hit for c in cases], k)
    after_counts = case_counts([c.hit for c in after], k)
    return after, [a - b for a, b in zip(after_counts, before_counts, strict=True)]


def stats_of(cases: float, values: Sequence[float], k: int, choice: int) -> TuneStats:
    """TuneStats from the counters' values, in the order of :func:`counter_fields`."""
    hits = tuple(values[:k])
    rest = iter(values[k:])
    wins = tuple(tuple(0.0 if b == c else next(rest) for c in range(k)) for b in range(k))
    return TuneStats(cases, hits, choice, wins)


def candidate_params(
    base: RankParams,
    recency_decays: Sequence[float],
    category_backoffs: Sequence[float] = (),
    similarities: Sequence[str] = (),
    priors: Sequence[float] = (),
) -> list[RankParams]:
    """The settings under test: the configured ranking with each recency weight, for the
    configured category back-off first, then for each other back-off strength of
    ``category_backoffs`` (a grid); then each other similarity of ``similarities`` and each
    other popularity-prior strength of ``priors``, one at a time, with every recency weight
    and the configured back-off (a star around the configured ranking, not a grid: the cost
    of the tests grows with the number of candidates). Why the configured ranking first and
    the new axes last: a stored choice keeps its meaning when candidates are added."""
    strengths = dict.fromkeys([base.category_backoff, *category_backoffs])
    grid = [
        replace(base, recency_decay=r, category_backoff=b)
        for b in strengths
        for r in recency_decays
    ]
    families = [
        replace(base, similarity=s) for s in dict.fromkeys(similarities) if s != base.similarity
    ] + [
        replace(base, popularity_prior=m)
        for m in dict.fromkeys(priors)
        if m != base.popularity_prior
    ]
    return grid + [replace(f, recency_decay=r) for f in families for r in recency_decays]


def candidate_label(params: RankParams, base: RankParams) -> str:
    """How status and metrics name a candidate: its recency weight, and its back-off
    strength, similarity and popularity prior where they are not the configured ones."""
    label = str(params.recency_decay)
    if params.category_backoff != base.category_backoff:
        label += f"/category_backoff={params.category_backoff}"
    if params.similarity != base.similarity:
        label += f"/similarity={params.similarity}"
    if params.popularity_prior != base.popularity_prior:
        label += f"/popularity_prior={params.popularity_prior:g}"
    return label


def fading_factor(half_life_cases: float) -> float:
    """Per-case decay of the counts, so a case ``half_life_cases`` old counts half: recent
    behaviour decides, yet one batch cannot swing the choice."""
    if half_life_cases <= 0:
        return 1.0
    return float(0.5 ** (1.0 / half_life_cases))


def is_hit(suggested: Sequence[str], added: str) -> bool:
    """A test case: did the candidate's top k at the previous add hold the item now added?"""
    return added in suggested


def paired_z(stats: TuneStats, b: int, c: int) -> float:
    """The lead of candidate ``b`` over ``c`` in standard errors on the cases where they
    differ: (wins - losses) / sqrt(wins + losses), McNemar's statistic; 0 without such
    cases."""
    wins, losses = stats.win(b, c), stats.win(c, b)
    return (wins - losses) / math.sqrt(wins + losses) if wins + losses > 0 else 0.0


def corrected_z(z: float, comparisons: int) -> float:
    """The threshold ``z`` Bonferroni-corrected for ``comparisons`` tests at once: the
    one-sided level of ``z`` divided by their number (z = 2 with 6 comparisons: 2.67). Why:
    the best of many challengers passes an uncorrected test by chance far more often than
    one challenger does."""
    if comparisons <= 1:
        return z
    level = 1.0 - NormalDist().cdf(z)
    return NormalDist().inv_cdf(1.0 - level / comparisons)


def choose(stats: TuneStats, z: float, min_cases: float, preferred: Sequence[bool] = ()) -> int:
    """The candidate to rank with: the current one, unless the one with the most hits leads
    it significantly on the same cases: (wins - losses) / sqrt(wins + losses) > ``z``
    (McNemar's test on the discordant cases). Why paired: candidates that agree on most cases
    differ by less than the noise of either rate, yet a lead on the cases where they differ is
    real evidence. Thin evidence (under ``min_cases``) and near-ties keep the current choice.

    ``preferred`` marks the configured family (the configured similarity and prior); a
    candidate outside it must also lead the best of the family, by ``z`` corrected for the
    number of outsiders (:func:`corrected_z`), else that best is the challenger. Why: the one
    with the most hits among many candidates is partly the luckiest, and where several
    near-equal candidates all beat a poor current choice, the luck of the draw would
    otherwise decide which family the shop is switched to."""
    if stats.cases < min_cases or not stats.hits:
        return stats.choice
    k = len(stats.hits)
    best = max(range(k), key=lambda c: (stats.hits[c], -c))
    family = [c for c in range(k) if c < len(preferred) and preferred[c]]
    if family and best not in family:
        home = max(family, key=lambda c: (stats.hits[c], -c))
        if paired_z(stats, best, home) <= corrected_z(z, k - len(family)):
            best = home
    if best != stats.choice and paired_z(stats, best, stats.choice) > z:
        return best
    return stats.choice


def lead(stats: TuneStats) -> tuple[int, float, float, float]:
    """The candidate with the most hits, its paired wins and losses against the choice and its
    lead in standard errors (the statistic of models/tuning.choose; 0 without discordant
    cases): how far the evidence is from a switch."""
    best = max(range(len(stats.hits)), key=lambda c: (stats.hits[c], -c))
    wins, losses = stats.win(best, stats.choice), stats.win(stats.choice, best)
    return best, wins, losses, paired_z(stats, best, stats.choice)


def choice_report(
    name: str,
    candidates: Sequence[Any],
    configured: Any,
    counters: tuple[float, int | None, Sequence[float]],
) -> dict[str, Any]:
    """What ``xsell status`` and the eval reports show of a tuner whose candidates are the
    values of one setting ``name``, from its ``counters`` (cases, stored choice, the values
    of :func:`counter_fields`): the decayed cases, the stored choice (None: every process
    keeps the ``configured`` value), each candidate's hit rate, and the best candidate's lead
    over the choice in use (:func:`lead`)."""
    cases, chosen, values = counters
    k = len(candidates)
    stored = chosen is not None and chosen < k
    current = chosen if chosen is not None and stored else candidates.index(configured)
    best, wins, losses, z = lead(stats_of(cases, values, k, current))
    return {
        "cases": round(cases, 1),
        name: candidates[current] if stored else None,
        "hit_rates": {
            str(c): round(h / cases, 4) if cases > 0 else None
            for c, h in zip(candidates, values[:k], strict=True)
        },
        "lead": {  # the best candidate against the choice, on the cases where they differ
            name: candidates[best],
            "wins": round(wins, 1),
            "losses": round(losses, 1),
            "z": round(z, 2),
        },
    }
