"""Bulk backfill against the streamed state, on a real redis-server: equal to the last bit
where nothing is pruned and no landmark moves, the true top partners where pruning cuts,
equal within rounding after landmark moves; refused on a namespace with state; redone after
an interruption; idempotent against a later stream of the same orders."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.models.events import OrderLine, PurchaseEvent
from xsell.ops.loading import backfill, load_history
from xsell.store import Store
from xsell.store.core.bulk import NamespaceNotEmpty
from xsell.verify.state_oracle import compare_stores

pytestmark = pytest.mark.integration
DAY = 86400.0


def shop_orders(n: int, seed: int = 7, step: float = 3600.0) -> list[PurchaseEvent]:
    """Skewed baskets of 1-12 items over 60 items, some users, some anonymous, one repeat."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        items = [f"sku-{int(rng.paretovariate(1.2)) % 60}" for _ in range(rng.randrange(1, 13))]
        user = f"u{rng.randrange(40)}" if rng.random() < 0.8 else None
        out.append(
            PurchaseEvent(
                f"e{i}",
                f"o{i}",
                user,
                1.7e9 + i * step + rng.random(),
                tuple(OrderLine(x) for x in items),
            )
        )
    out.append(out[17])  # the same order again: a duplicate
    return out


async def _stores(*settings: Settings) -> list[Store]:
    return [await Store.open(s) for s in settings]


async def _close(*stores: Store) -> None:
    for store in stores:
        await store.close()


async def _state(store: Store) -> dict[str, Any]:
    suffixes = sorted(await store.ops.model_key_names())
    return dict(zip(suffixes, await store.ops.values(suffixes), strict=True))


def test_bulk_equals_stream_to_the_last_bit(make_settings: Callable[..., Settings]) -> None:
    orders = shop_orders(600)

    async def go() -> None:
        streamed, bulk = await _stores(
            make_settings(half_life_days=30, max_neighbors=0),
            make_settings(half_life_days=30, max_neighbors=0),
        )
        try:
            await backfill(streamed, orders)
            summary = await load_history(bulk, orders, mode="auto")
            assert (summary.mode, summary.applied, summary.duplicates) == ("bulk", 600, 1)
            diff = await compare_stores(streamed, bulk)
            assert diff.total == 0, diff.examples
            assert diff.entries > 1000
            done = [bulk.keys.done("o", o.event_id) for o in orders]
            assert all(await bulk.client.mget(done))
            # landmarks and order total as the scripts store them
            item = bulk.keys.item("sku-1").info
            assert await bulk.client.hget(item, "L") == await streamed.client.hget(item, "L")
            # a later stream of the same orders counts nothing again
            again = await backfill(bulk, orders)
            assert again.applied == 0 and again.duplicates == len(orders)
            assert (await compare_stores(streamed, bulk)).total == 0
        finally:
            await _close(streamed, bulk)

    run(go())


def test_bulk_keeps_the_true_top_partners(make_settings: Callable[..., Settings]) -> None:
    orders = shop_orders(400, seed=3)

    async def go() -> None:
        full, pruned = await _stores(make_settings(max_neighbors=0), make_settings(max_neighbors=8))
        try:
            await load_history(full, orders, mode="bulk")
            await load_history(pruned, orders, mode="bulk")
            want, got = await _state(full), await _state(pruned)
            cut = 0
            for key, partners in want.items():
                if key.endswith((":f", ":fr")):  # followed-by: streamed, pruned while it goes
                    assert len(got[key]) <= 8 + 8 // 4 and set(got[key]) <= set(partners)
                    continue
                if not key.endswith(":p"):
                    assert got[key] == partners
                    continue
                if len(partners) <= 8 + 8 // 4:
                    assert got[key] == partners
                    continue
                cut += 1
                ranked = sorted(partners.items(), key=lambda mw: (mw[1], mw[0].encode()))
                assert got[key] == dict(ranked[-8:])
            assert cut >= 5  # the test exercised pruning
        finally:
            await _close(full, pruned)

    run(go())


def test_bulk_after_landmark_moves_equals_within_rounding(
    make_settings: Callable[..., Settings],
) -> None:
    orders = shop_orders(250, seed=5, step=DAY)  # 250 days at a 5-day half-life: moves

    async def go() -> None:
        streamed, bulk = await _stores(
            make_settings(half_life_days=5, max_neighbors=0),
            make_settings(half_life_days=5, max_neighbors=0),
        )
        try:
            await backfill(streamed, orders)
            await load_history(bulk, orders, mode="bulk")
            want, got = await _state(streamed), await _state(bulk)
            assert want.keys() == got.keys()
            compared = 0
            for key, value in want.items():
                if isinstance(value, dict):
                    assert value.keys() == got[key].keys(), key
                    for field, v in value.items():
                        compared += 1
                        assert float(got[key][field]) == pytest.approx(float(v), rel=1e-12)
            assert compared > 500
            meta = await bulk.client.hget(bulk.keys.meta, "L")
            assert float(meta) > orders[0].ts  # the global landmark did move
        finally:
            await _close(streamed, bulk)

    run(go())


def test_modes_refuse_or_stream_on_a_namespace_with_state(
    make_settings: Callable[..., Settings],
) -> None:
    orders = shop_orders(100)

    async def go() -> None:
        store, reference = await _stores(make_settings(), make_settings())
        try:
            await backfill(store, orders[:10])
            with pytest.raises(NamespaceNotEmpty, match="already holds"):
                await load_history(store, orders, mode="bulk")
            summary = await load_history(store, orders, mode="auto")
            assert summary.mode == "stream" and "already holds" in summary.mode_reason
            assert summary.duplicates >= 10
            await load_history(reference, orders, mode="bulk")
            diff = await compare_stores(reference, store)
            assert diff.total == 0, diff.examples
            n = [await x.client.hget(x.keys.meta, "N") for x in (store, reference)]
            assert n == ["100", "100"]  # formatted by Redis alike, whichever path wrote it
        finally:
            await _close(store, reference)

    run(go())


def test_interrupted_bulk_load_is_redone(make_settings: Callable[..., Settings]) -> None:
    orders = shop_orders(200)

    async def go() -> None:
        clean, redone = await _stores(make_settings(), make_settings())
        try:
            await load_history(clean, orders, mode="bulk")
            # what a load killed after step 2 leaves: zsets with other values, no 'created'
            k = redone.keys
            await redone.client.hset(k.meta, "bulk_started", "1")
            await redone.client.zadd(k.item("sku-1").pairs, {"sku-2": 99.0, "ghost": 1.0})
            summary = await load_history(redone, orders, mode="auto")
            assert summary.mode == "bulk" and "interrupted" in summary.mode_reason
            diff = await compare_stores(clean, redone)
            assert diff.total == 0, diff.examples
            assert await redone.client.hget(k.meta, "bulk_started") is None
        finally:
            await _close(clean, redone)

    run(go())
