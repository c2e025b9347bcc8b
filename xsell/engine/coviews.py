"""The product page's co-view partners (models/coview.py), read for the ranking inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from xsell.models.coview import co_viewed_of
from xsell.models.inputs import POPULAR_EXTRA
from xsell.models.ranking import RankInput, RankParams, RankRequest
from xsell.store import Store

PRODUCT_PAGE = "product_page"


async def with_co_views(
    store: Store,
    inputs: list[RankInput],
    requests: Sequence[RankRequest],
    params: RankParams,
) -> list[RankInput]:
    """The inputs, those of product-page requests with their item's co-view partners (enough
    to survive exclusions and rules: k + 20); one round trip when there is any, none else."""
    pages = [n for n, r in enumerate(requests) if r.placement == PRODUCT_PAGE and r.anchors]
    if not pages:
        return inputs
    items = sorted({requests[n].anchors[0] for n in pages})
    partners = await store.views.partners(items, params.k + POPULAR_EXTRA)
    out = list(inputs)
    for n in pages:
        item = requests[n].anchors[0]
        if item in partners:
            co = co_viewed_of(item, partners[item], requests[n].exclude)
            out[n] = replace(out[n], co_viewed=co)
    return out
