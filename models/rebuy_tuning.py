"""Self-tuning of the number of buy-again places (models/rebuy_offers.py): pure rules.

Why tune it: how many of the k offers should be the user's due rebuys depends on the shop (a
grocer's carts are mostly rebuys, a gadget shop's never), and a constant chosen on one data set
overfits it. So the stream decides, as for the cart's recency weight (models/tuning.py, whose
counters, paired test and fading are reused as they are): at a sampled known user's add to
cart where a due rebuy could be offered, each candidate number of places makes its final offers
from the same inputs, and the later adds of the same cart score the case (a hit for a
candidate when one of them is among its offers, the HR@k of ``xsell eval``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xsell.models.ranking import Offer
from xsell.models.tuning import MAX_OPEN_CASES, OpenCase, score_open_cases


def rebuy_candidates(configured: int, grid: Sequence[int]) -> tuple[int, ...]:
    """The numbers of places under test: the ``grid`` and the configured one (the starting
    choice), ascending."""
    return tuple(sorted({*grid, int(configured)}))


def candidate_lists(
    offers_with: Callable[[int], Sequence[Offer]], counts: Sequence[int]
) -> tuple[tuple[str, ...], ...]:
    """Each candidate's top k: the items of the final offers made with that many buy-again
    places (``offers_with``: the offers of one request's inputs for a number of places)."""
    return tuple(tuple(o.item_id for o in offers_with(n)) for n in counts)


def is_case(lists: Sequence[Sequence[str]]) -> bool:
    """Whether a cart add is a test case: some candidates' offers differ, which is when a due
    rebuy could take a place. Why not every add: where no rebuy is due every candidate makes the
    same offers, which says nothing about the number of places and would only dilute the hit
    rates (the paired test ignores them anyway)."""
    return len({tuple(lst) for lst in lists}) > 1


def cart_cases(
    open_cases: Sequence[OpenCase], added: str, new: Sequence[Sequence[str]] | None
) -> tuple[list[OpenCase], list[int], bool]:
    """A user's open cases after the add of ``added``, the counter changes it makes
    (models/tuning.counter_fields; empty: none), and whether the add opened a case of its own:
    when ``new`` holds candidate lists that make one (:func:`is_case`). The
    ``MAX_OPEN_CASES`` newest stay open."""
    after, delta = score_open_cases(open_cases, added)
    opens = new is not None and is_case(new)
    if new is not None and opens:
        after = [*after, OpenCase(tuple(tuple(lst) for lst in new), (False,) * len(new))]
    return after[-MAX_OPEN_CASES:], delta, opens
