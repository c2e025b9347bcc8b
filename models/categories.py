"""Category back-off: what an order teaches about its categories, and how much an anchor's
own co-purchases count against them. Pure functions; the store learns and reads the counts
(xsell/store/core/categories.py), the scorer blends them (models/scoring.py).

For each category A the store keeps, incrementally, how many orders held A (n(A)) and how
often each item b was bought with A (C(A, b): orders holding b and an item of A other than b,
the heaviest ``XSELL_MAX_NEIGHBORS`` kept). C(A, b) / n(A) estimates P(b | an item of A is in
the basket): the back-off for an anchor of A whose own statistics are thin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def order_categories(
    items: Sequence[str], category_of: Mapping[str, str | None]
) -> dict[str, list[str]]:
    """Category -> the order's items bought *with* it, for the categories of an order's
    ``items`` (distinct, in order). An item b is bought with A when the order holds an item
    of A other than b. Why not every item: an item would otherwise count as bought with its
    own category in every order it is in, and P(b | A) would favour the category's
    best-sellers over what actually goes with it. Items without a category teach nothing
    (no back-off for them)."""
    own: dict[str, list[str]] = {}
    for item in items:
        cat = category_of.get(item)
        if cat:
            own.setdefault(cat, []).append(item)
    out: dict[str, list[str]] = {}
    for cat, members in own.items():
        sole = members[0] if len(members) == 1 else None
        out[cat] = [i for i in items if i != sole]
    return out


def own_weight(n_anchor: float, strength: float) -> float:
    """How much an anchor's own co-purchases count against its category's: n / (n + m_c),
    the Beta-prior shrinkage of P(b | anchor) toward P(b | anchor's category) with the
    strength of m_c = ``strength`` orders (the popularity prior's form, models/ranking.py
    evidence()). Why: 2 orders of an item are noise next to thousands of its category's,
    200 speak for themselves; a new item (n = 0) is ranked by its category alone. Returns 1
    (no back-off) when ``strength`` is 0."""
    if strength <= 0:
        return 1.0
    return n_anchor / (n_anchor + strength)


def prior_weight(own: float, e_item: float, e_category: float) -> float:
    """The weight of popularity in an anchor's bracket once the category joins it:
    own x (1 - e_item) + (1 - own) x (1 - e_category), i.e. 1 - own e_item - (1 - own)
    e_category. Why: the item estimate shrinks toward its category's, and the category's
    toward popularity, each by its own evidence (e = n / (n + m)); the weights sum to 1, so
    a score stays a probability-like mix and anchors stay comparable."""
    return 1.0 - own * e_item - (1.0 - own) * e_category
