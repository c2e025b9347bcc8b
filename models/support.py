"""The support placement (docs/personal.md): what a support agent can offer a customer who gets
in touch, from their purchase history alone (no cart, no page).

The customer's purchases are the anchors, most recent first (what they bought last is what
they are likeliest to call about), capped like a cart's; every owned item is excluded; what
buyers of the owned items bought next (followed-by, blended in as after a purchase:
models/post_purchase.py) ranks beside the same-basket complements; and only explained offers are
kept: a complement or a follow-up of an item they own, ``because`` naming it (and, for a
follow-up, ``because.followed_by``: "N% of buyers of it bought this within 30 days"). An agent
cannot say "people also buy this" about popular padding, so it is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from xsell.models.ranking import Offer, RankRequest

PLACEMENT = "support"


def support_anchors(history: Mapping[str, float], max_anchors: int) -> list[str]:
    """The owned items to rank from: the ``max_anchors`` most recently bought, newest first
    (ties by id, so every process picks the same)."""
    ranked = sorted(history.items(), key=lambda it: (-it[1], it[0]))
    return [item for item, _ in ranked[:max_anchors]]


def support_request(
    user_id: str, history: Mapping[str, float], now: float, max_anchors: int
) -> RankRequest | None:
    """The ranking request of a support view; None when the user owns nothing (no history
    to offer from)."""
    anchors = support_anchors(history, max_anchors)
    if not anchors:
        return None
    return RankRequest(anchors, frozenset(history), now, user_id, PLACEMENT)


def explained_by_owned(offers: Sequence[Offer], owned: Mapping[str, float]) -> list[Offer]:
    """The offers a support agent can explain: a complement or a follow-up of an item the
    customer owns (a merchant rule's pin, explained by its rule, is kept too)."""
    return [
        o
        for o in offers
        if o.because is not None
        and o.item_id not in owned
        and (o.because.item_id in owned or o.because.rule_id is not None)
    ]
