"""Self-tuning of the followed-by weight (models/post_purchase.py): pure rules.

Why tune it: how much "what buyers of an item bought next" should count beside "what is bought
with it" depends on the shop (a camera shop's follow-ups are strong, a grocer's are rebuys), and
a constant chosen on one data set overfits it. So the stream decides, as for the cart's recency
weight (models/tuning.py, whose counters, paired test and fading are reused as they are): at a
sampled known user's purchase, each candidate weight makes its top k (the items the user does
not own), and that user's *next* purchase within the followed-by window scores the case (a hit
for a candidate when the next order holds one of its items). A purchase closes the user's open
case: only the next order counts, as in ``xsell eval --post-purchase``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from xsell.models.tuning import OpenCase, score_open_cases

FOLLOWED_WEIGHTS = (0.0, 1.0, 2.0, 4.0, 8.0)
"""The candidate weights: none (same-basket alone), then doubling, so the grid spans follow-ups
counting as much as a basket partner to dominating it; the configured weight joins them."""


def followed_candidates(configured: float) -> tuple[float, ...]:
    """The weights under test: :data:`FOLLOWED_WEIGHTS` and the configured one (the starting
    choice), ascending."""
    return tuple(sorted({*FOLLOWED_WEIGHTS, float(configured)}))


def top_unowned(ranked: Sequence[str], is_owned: Callable[[str], bool], k: int) -> tuple[str, ...]:
    """A candidate's top ``k``: its best items (``ranked``, best first) the user may be
    offered. Why without owned items: the offers never hold them, and a rebuy in the next order
    would otherwise reward the candidate that offers owned items."""
    return tuple(item for item in ranked if not is_owned(item))[:k]


def shortlist(
    scored: Mapping[str, tuple[float, str, float]], k: int, spare: int
) -> tuple[str, ...]:
    """The ``k + spare`` best of ``scored``: the items whose ownership to read, so that a top k
    without the owned ones is known after the one details read."""
    ranked = sorted(scored.items(), key=lambda it: (-it[1][0], it[0]))
    return tuple(item for item, _ in ranked[: k + spare])


def close_case(
    case: OpenCase | None, items: Iterable[str], ts: float, window: float
) -> list[int] | None:
    """The counter changes (models/tuning.counter_fields) of the user's open ``case`` scored by
    the order of ``items`` at ``ts``: a hit for each candidate whose list holds one of them,
    when the order follows within ``window`` seconds; None when there is no case or the order
    comes too late (the case stays a miss for every candidate: its case was counted when it
    opened)."""
    if case is None or not 0 <= ts - case.opened <= window:
        return None
    state: list[OpenCase] = [case]
    total: list[int] = []
    for item in dict.fromkeys(items):
        state, delta = score_open_cases(state, item)
        total = [a + b for a, b in zip(total or [0] * len(delta), delta, strict=True)]
    return total or None


def opened_case(lists: Sequence[Sequence[str]], ts: float) -> OpenCase:
    """A new case: each candidate's top k at a purchase at ``ts``, no hit yet."""
    return OpenCase(tuple(tuple(lst) for lst in lists), (False,) * len(lists), ts)
