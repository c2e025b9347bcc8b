"""Co-view partners on the product page: what fills in where purchases say nothing yet.

A new item has no orders, so no co-purchase partners; the product page would pad it with the
shop's best sellers, which know nothing of the item. Shoppers who looked at it looked at other
things too (xsell/store/core/views.py counts co-view(A, B): users who viewed both close
together), and that says more about the item than the shop-wide best sellers do. The blend is
deliberately simple and ordered, never mixed by score, because the two signals are not on one
scale (a co-view costs the shopper a click, a co-purchase their money):

1. offers backed by the item's own co-purchase (and co-add) evidence, as ranked;
2. its co-view partners, most co-viewed first, labelled ``because.co_viewed`` = the count;
3. what only weaker evidence brought: the category back-off's offers and popular items, in
   their ranked order, then popular padding.

Co-view partners pass the same rules as any cross-sell of the item (available, not owned, not
excluded, the add-on price and upsell rules), so they are labelled ``cross_sell`` or
``upsell`` like one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from xsell.models.events import CatalogItem
from xsell.models.ranking import Because, Offer, RankInput, RankParams, RankRequest, rank
from xsell.models.rules import is_available, is_upsell, owned, within_addon_price

POOL = 10_000  # the ranker's cut when co-views blend in: every candidate it would offer
PRODUCT_PAGE = "product_page"  # the placement whose item's co-view partners fill in
CoViews = dict[str, list[tuple[str, float]]]  # item -> its co-view partners, most first


def product_page_items(requests: Sequence[RankRequest]) -> list[str]:
    """The items of the product-page requests (a product page's one anchor), sorted."""
    return sorted({r.anchors[0] for r in requests if r.placement == PRODUCT_PAGE and r.anchors})


def with_co_views(
    inputs: list[RankInput], requests: Sequence[RankRequest], co_views: CoViews
) -> list[RankInput]:
    """The ranking inputs, those of product-page requests with their item's co-view partners
    (the request's exclusions left out); the others (cart, checkout ...) as they are."""
    if not co_views:
        return inputs
    out = list(inputs)
    for n, req in enumerate(requests):
        item = req.anchors[0] if req.placement == PRODUCT_PAGE and req.anchors else None
        if item is not None and item in co_views:
            out[n] = replace(out[n], co_viewed=co_viewed_of(item, co_views[item], req.exclude))
    return out


def co_viewed_of(
    item: str, partners: list[tuple[str, float]], exclude: frozenset[str]
) -> dict[str, tuple[str, float]]:
    """partner -> (the item, co-view count), most co-viewed first, the request's exclusions
    left out: the ``co_viewed`` of a product page's ranking input."""
    return {p: (item, count) for p, count in partners if p not in exclude and count > 0}


def weaker(offer: Offer) -> bool:
    """An offer that co-view partners go before: popular, or brought by the category back-off
    (the item's category, not the item, explains it)."""
    return offer.kind == "popular" or (
        offer.because is not None and offer.because.category is not None
    )


def co_viewed_offers(
    co_viewed: Mapping[str, tuple[str, float]],
    catalog: Mapping[str, CatalogItem],
    params: RankParams,
    allowed: Callable[[str], bool],
    room: int,
) -> list[Offer]:
    """At most ``room`` offers from the co-view partners, most co-viewed first; ``allowed``
    is the ranker's (available, not owned, not excluded, not already offered). The score is
    the count relative to the most co-viewed partner, as popular padding's is."""
    out: list[Offer] = []
    top = max((count for _, count in co_viewed.values()), default=0.0)
    rules = params.rules
    for cand, (anchor, count) in co_viewed.items():
        if len(out) >= room:
            break
        if not allowed(cand):
            continue
        item, anchor_item = catalog.get(cand), catalog.get(anchor)
        if not within_addon_price(item, anchor_item, rules.addon_price_ratio):
            continue
        kind = "upsell" if is_upsell(item, anchor_item) else "cross_sell"
        if kind == "upsell" and rules.exclude_upsell:
            continue
        because = Because(anchor, 0.0, 0.0, co_viewed=count)
        out.append(Offer(cand, count / top if top > 0 else 0.0, kind, because))
    return out


def ranked(inp: RankInput, params: RankParams) -> list[Offer]:
    """:func:`~xsell.models.ranking.rank`, with the input's co-view partners blended in
    (module doc) when it has any; otherwise exactly ``rank``."""
    if not inp.co_viewed:
        return rank(inp, params)
    pool = rank(inp, replace(params, k=POOL))
    strong = [o for o in pool if not weaker(o)][: params.k]
    taken = {o.item_id for o in strong}

    def allowed(item_id: str) -> bool:
        return (
            item_id not in taken
            and item_id not in inp.exclude
            and is_available(inp.catalog.get(item_id))
            and not owned(item_id, inp.history, inp.catalog, inp.now, params.rules)
        )

    room = params.k - len(strong)
    viewed = co_viewed_offers(inp.co_viewed, inp.catalog, params, allowed, room)
    chosen = taken | {o.item_id for o in viewed}
    rest = [o for o in pool if weaker(o) and o.item_id not in chosen]
    return [*strong, *viewed, *rest][: params.k]
