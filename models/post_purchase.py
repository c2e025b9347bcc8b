"""Post-purchase ranking: the same-basket inputs of a purchase with what buyers of its items
bought *next* blended in (the signal: models/followed.py); the support placement, ranked from
the items a customer owns, blends them in alike.

Why both: right after an order, the items bought in the same basket as its items are the ones
the customer just had the chance to buy and did not; what other buyers went on to buy within
the following weeks is the need that comes next (a memory card after a camera). The followed-by
share is a rate like the same-basket confidence, so the two add on one scale, the followed-by
part weighted by ``RankParams.followed_weight`` (0 = the same-basket ranking alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from xsell.models.decay import decayed_value
from xsell.models.followed import FollowedBy, blend, followed_scores
from xsell.models.ranking import RankInput, RankParams, RankRequest
from xsell.models.support import PLACEMENT as SUPPORT

ORDER_RECENCY = 1.0
"""The recency weight among a purchase's items: an order's lines have no order of interest (the
last line is not the latest wish, as the last add to a cart is), so every item counts alike, for
the same-basket and the followed-by parts (Online Retail II, docs/evaluation.md#post-purchase:
the decaying weights of a cart, over its newest 10 items, lost to an unweighted sum)."""

# an anchor's follow-ups as stored: (landmark, [(partner, weight), ...])
Stored = Mapping[str, tuple[float, Sequence[tuple[str, float]]]]


FOLLOWED_PLACEMENTS = frozenset({"post_purchase", SUPPORT})
"""The placements whose anchors are bought items, so that what buyers of them bought next
applies: right after an order (post_purchase), and when a customer calls support about what
they own (models/support.py: the follow-up is the need that comes next for what they have)."""


def wants_followed(req: RankRequest, params: RankParams) -> bool:
    """True for a request whose offers blend in followed-by partners: a post-purchase or
    support one (unless the weight is 0), or one that asks for them alone ("customers then
    bought")."""
    if params.followed_days <= 0:
        return False
    return req.followed_only or (
        req.placement in FOLLOWED_PLACEMENTS and params.followed_weight > 0
    )


def order_params(params: RankParams) -> RankParams:
    """The ranking of a post-purchase request: every item of the order weighs alike."""
    return replace(params, recency_decay=ORDER_RECENCY)


def followed_partners(
    stored: Stored, anchors: Sequence[str], now: float, half_life: float
) -> dict[str, dict[str, float]]:
    """The anchors' follow-up weights decayed to ``now`` (as their order counts are)."""
    out: dict[str, dict[str, float]] = {}
    for a in anchors:
        if a in stored:
            landmark, pairs = stored[a]
            out[a] = {b: decayed_value(w, landmark, now, half_life) for b, w in pairs}
    return out


def with_followed(
    inp: RankInput, stored: Stored, params: RankParams, half_life: float, *, alone: bool = False
) -> RankInput:
    """``inp`` with the followed-by partners of its anchors (the bought items) added to its
    scored candidates, and the candidates they explain best. ``alone``: the followed-by
    partners replace the same-basket candidates (popular padding stays as the params say)."""
    partners = followed_partners(stored, inp.anchors, inp.now, half_life)
    base = {} if alone else (inp.scored or {})
    if not partners:
        return replace(inp, scored=base) if alone else inp
    follow = followed_scores(inp.anchors, partners, inp.counts, inp.exclude, params.recency_decay)
    weight = max(params.followed_weight, 1.0) if alone else params.followed_weight
    scored, explained = blend(base, follow, weight)
    why = {
        cand: FollowedBy(
            anchor, follow[cand][2], params.followed_days, partners[anchor].get(cand, 0.0)
        )
        for cand, anchor in explained.items()
    }
    return replace(inp, scored=scored, followed=why)
