"""The product page's co-view partners (models/coview.py), read for the ranking inputs."""

from __future__ import annotations

from collections.abc import Sequence

from xsell.models.coview import CoViews, product_page_items
from xsell.models.inputs import POPULAR_EXTRA
from xsell.models.ranking import RankParams, RankRequest
from xsell.store import Store


async def read_co_views(
    store: Store, requests: Sequence[RankRequest], params: RankParams
) -> CoViews:
    """The co-view partners of the product-page requests' items, enough to survive
    exclusions and rules (k + 20 each); no round trip when there is no product page. The
    engine reads them beside the batch statistics (they do not depend on each other)."""
    items = product_page_items(requests)
    return await store.views.partners(items, params.k + POPULAR_EXTRA) if items else {}
