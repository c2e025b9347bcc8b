"""On the real Online Retail II file: the streamed state equals batch counts exactly."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

import pytest

from tests.conftest import require_shared_data
from tests.helpers import run
from xsell.config.settings import Settings
from xsell.ops.loading import backfill
from xsell.ops.orders_csv import ONLINE_RETAIL_MAP, ONLINE_RETAIL_SKIP, parse_map, read_orders
from xsell.store import Store

pytestmark = [pytest.mark.integration, pytest.mark.shared_data]
ORDERS = 3000


def test_backfilled_state_equals_batch_counts(make_settings: Callable[..., Settings]) -> None:
    path = require_shared_data()
    orders = list(
        itertools.islice(
            read_orders(
                path, parse_map(ONLINE_RETAIL_MAP), frozenset(ONLINE_RETAIL_SKIP.split(","))
            ),
            ORDERS,
        )
    )
    settings = make_settings(max_neighbors=0)  # keep every pair: nothing pruned
    cap = settings.learning.max_items_per_order
    pairs: Counter[tuple[str, str]] = Counter()
    counts: Counter[str] = Counter()
    for order in orders:
        items = order.distinct_items()
        counts.update(items)
        paired = items[:cap]
        pairs.update((a, b) for a in paired for b in paired if a != b)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            summary = await backfill(store, orders)
            assert summary.applied == ORDERS
            assert await store.client.hget(store.keys.meta, "N") == str(ORDERS)
            pop = dict(await store.client.zrange(store.keys.popularity, 0, -1, withscores=True))
            assert pop == {item: float(c) for item, c in counts.items()}
            streamed: dict[tuple[str, str], float] = {}
            for item in counts:
                partners = await store.client.zrange(
                    store.keys.item(item).pairs, 0, -1, withscores=True
                )
                streamed.update(((item, other), w) for other, w in partners)
            assert streamed == {pair: float(c) for pair, c in pairs.items()}
        finally:
            await store.close()

    run(go())


def test_bulk_backfill_equals_streamed_state_with_decay(
    make_settings: Callable[..., Settings],
) -> None:
    """Real orders, the default 30-day decay, nothing pruned: the bulk path's state is the
    streamed state to the last bit (models/bulk.py)."""
    from xsell.ops.loading import load_history
    from xsell.verify.state_oracle import compare_stores

    path = require_shared_data()
    orders = list(
        itertools.islice(
            read_orders(
                path, parse_map(ONLINE_RETAIL_MAP), frozenset(ONLINE_RETAIL_SKIP.split(","))
            ),
            ORDERS,
        )
    )

    async def go() -> None:
        streamed = await Store.open(make_settings(max_neighbors=0, half_life_days=30))
        bulk = await Store.open(make_settings(max_neighbors=0, half_life_days=30))
        try:
            await backfill(streamed, orders)
            assert (await load_history(bulk, orders)).mode == "bulk"
            diff = await compare_stores(streamed, bulk)
            assert diff.total == 0, diff.examples
            assert diff.entries > 500_000
        finally:
            await streamed.close()
            await bulk.close()

    run(go())
