"""Buy-again offers among a request's k (the policy: models/rebuy.py).

The ranker never offers an owned item (models/rules.py ``owned``); this last step lets the
user's due repeatable items back in, labelled ``rebuy``, in at most ``max_offers`` of the k
places, taking the places of the weakest offers: the cross-sell evidence still fills the
rest, so a shop whose items are not bought again (no due rebuys) sees no change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from xsell.models.events import CatalogItem
from xsell.models.ranking import Because, Offer, RankInput, RankRequest
from xsell.models.rebuy import Rebuy, RebuyParams, RebuyStats, due_rebuys, newest_owned
from xsell.models.rules import is_available

# where a known user's cart is the context: the worker's cart suggestions and
# POST /v1/recommendations for a cart or checkout. Not after a purchase (what was just bought is
# not due), not the support console (complements of what they own), not a product page (that
# item's complements), not an abandonment notification (the replenishment notification is its
# own, with its own rules: replenish_offers below)
REBUY_PLACEMENTS = frozenset({"cart", "checkout"})


def offers_rebuys(req: RankRequest) -> bool:
    """True when the request may carry buy-again offers: a known user's cart or checkout
    (not "customers then bought", which ranks by followed-by alone)."""
    return req.user_id is not None and req.placement in REBUY_PLACEMENTS and not req.followed_only


def owners(
    requests: Sequence[RankRequest], offered: bool, tuned: frozenset[int], tested: bool
) -> list[str]:
    """The users whose history and buy-again counters to read: those of requests that may
    carry rebuys, when rebuys are ``offered``; else, when the number of places is ``tested``,
    those of the ``tuned`` rows only (a test case needs them, the offers do not)."""
    return sorted(
        {
            r.user_id
            for n, r in enumerate(requests)
            if r.user_id and offers_rebuys(r) and (offered or (tested and n in tuned))
        }
    )


def request_rebuys(
    req: RankRequest,
    histories: Mapping[str, Mapping[str, float]],
    stats: Mapping[str, RebuyStats],
    params: RebuyParams,
) -> dict[str, Rebuy]:
    """The request's due rebuys (its user's owned items that are repeatable and due), none
    where the request may carry none."""
    if not offers_rebuys(req) or req.user_id is None:
        return {}
    history = histories.get(req.user_id, {})
    return due_rebuys(history, stats, req.now, params)


def with_due_rebuys(
    inputs: Sequence[RankInput],
    requests: Sequence[RankRequest],
    histories: Mapping[str, Mapping[str, float]],
    stats: Mapping[str, RebuyStats],
    params: RebuyParams,
) -> list[RankInput]:
    """The inputs with their requests' due rebuys (:func:`request_rebuys`)."""
    return [
        replace(inp, rebuys=request_rebuys(req, histories, stats, params))
        for inp, req in zip(inputs, requests, strict=True)
    ]


def replenish_offers(
    history: Mapping[str, float],
    stats: Mapping[str, RebuyStats],
    catalog: Mapping[str, CatalogItem],
    exclude: frozenset[str],
    now: float,
    params: RebuyParams,
) -> list[Offer]:
    """A replenishment notification's offers: the user's due rebuys, nearest their cycle
    first, in stock, not in ``exclude`` (notified within the repeat window), at most
    ``params.max_offers``. No cross-sell filler: the notification is about buying again, so
    none due means no notification."""
    picks: list[Offer] = []
    for item, why in due_rebuys(newest_owned(history), stats, now, params).items():
        if len(picks) >= params.max_offers:
            break
        if item in exclude or not is_available(catalog.get(item)):
            continue
        picks.append(Offer(item, 0.0, "rebuy", Because(item, 0.0, 0.0, rebuy=why)))
    return picks


def with_rebuys(
    offers: Sequence[Offer], inp: RankInput, k: int, params: RebuyParams
) -> list[Offer]:
    """The offers with up to ``params.max_offers`` of the input's due rebuys (nearest their
    cycle first; in stock, not in the cart) in the last places: each takes the place of the
    weakest offer that is not a gap filler (the cart's free-shipping reason stays)."""
    picks: list[Offer] = []
    for item, why in inp.rebuys.items():
        if len(picks) >= min(params.max_offers, k):
            break
        if item in inp.exclude or not is_available(inp.catalog.get(item)):
            continue
        picks.append(Offer(item, 0.0, "rebuy", Because(item, 0.0, 0.0, rebuy=why)))
    if not picks:
        return list(offers)
    picked = {o.item_id for o in picks}
    rest = [o for o in offers if o.item_id not in picked]
    while rest and len(rest) + len(picks) > k:
        weakest = max(
            (n for n, o in enumerate(rest) if o.kind != "gap_filler"), default=len(rest) - 1
        )
        del rest[weakest]
    floor = min((o.score for o in rest), default=0.0)
    return [*rest, *(replace(o, score=floor) for o in picks)]
