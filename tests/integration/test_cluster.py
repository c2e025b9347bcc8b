"""The store on a real Redis Cluster (three masters on loopback, started here): the same state
as on a single Redis, no CROSSSLOT, scripts on every primary, scans over every node."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import key_slot

from tests.helpers import pair_guard_markers, run, without_pair_guards, without_spend_moves
from tests.integration.workload import apply_all, apply_workload, make_workload
from xsell.config.settings import Settings, load_settings
from xsell.devenv.redis_cluster import LocalRedisCluster
from xsell.devenv.synthetic_shop import write_orders_csv
from xsell.models.errors import StoreUnavailable
from xsell.models.events import CartEvent
from xsell.store import Store
from xsell.store.backend.scripts import LuaScript, registered_scripts
from xsell.store.core.keys import is_output
from xsell.verify.hostile_cases import ITEMS, generate
from xsell.verify.hostile_check import dump, valid_events

pytestmark = pytest.mark.integration
_ids = itertools.count()


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRedisCluster]:
    with LocalRedisCluster() as started:
        yield started


def on_cluster(cluster: LocalRedisCluster, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": cluster.url,
        "redis_cluster": True,
        "key_namespace": f"cl{next(_ids)}",
        "half_life_days": 0,
    }
    values.update(overrides)
    return load_settings(**values)


def apply_and_dump(settings: Settings, fn: Callable[[Store], Any]) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        store = await Store.open(settings)
        try:
            await fn(store)
            return await dump(store)
        finally:
            await store.close()

    return run(go())


@pytest.mark.parametrize("half_life_days", [0, 30])
def test_workload_on_the_cluster_equals_single_redis(
    cluster: LocalRedisCluster, make_settings: Callable[..., Settings], half_life_days: float
) -> None:
    work = make_workload(orders=1200, sessions=300)
    awkward = [
        e
        for _, e in valid_events(
            list(generate(600, seed=3, big=False, valid_every=1)), make_settings()
        )
    ]

    async def load(store: Store) -> None:
        await apply_workload(store, work)
        await apply_all(store, awkward)  # ids with { } : * %, look-alikes of layout keys

    single = apply_and_dump(make_settings(half_life_days=half_life_days), load)
    before = cluster.key_counts()
    clustered = apply_and_dump(on_cluster(cluster, half_life_days=half_life_days), load)
    assert len(single) > 1000
    assert without_pair_guards(without_spend_moves(clustered)) == without_pair_guards(single)
    assert pair_guard_markers(clustered) == pair_guard_markers(single)
    grown = [after - b for after, b in zip(cluster.key_counts(), before, strict=True)]
    assert all(g > len(single) // 10 for g in grown), grown  # every master holds a share


def test_every_call_of_the_store_keeps_its_keys_in_one_slot(cluster: LocalRedisCluster) -> None:
    settings = on_cluster(cluster)
    store = Store(None, settings)  # type: ignore[arg-type]  # only builds calls here
    cases = list(generate(300, seed=11, big=False, valid_every=1))
    calls = [
        call
        for _, event in valid_events(cases, settings)
        for call in store.calls.event_calls(event, 0)
    ]
    items = [str(i) for i in ITEMS]
    calls += store.calls.pair_calls("e", 1.0, "c", 0.25, "star", items, items, 0, signal="c")
    assert store.ledger is not None
    offers = [
        {"suggestion_id": f"s{n}", "user_id": user, "placement": "cart", "variant": "a"}
        | {"items": [{"item_id": i} for i in items[:3]]}
        for n, user in enumerate(["{u}:*", "a}b{", "%s", "{u}:*", "plain"])
    ]
    calls += store.ledger.offer_calls(offers, [1.0] * len(offers)).values()
    assert len(calls) > 300
    for call in calls:
        keys = (
            call[1]
            if isinstance(call[0], LuaScript)
            else call[1:]
            if call[0] == "DEL"
            else [call[1]]
        )
        assert len({key_slot(k.encode()) for k in keys}) == 1, call


def test_scripts_are_on_every_primary_and_reloaded_after_a_flush(
    cluster: LocalRedisCluster,
) -> None:
    settings = on_cluster(cluster)
    work = make_workload(orders=200, sessions=20)

    async def go(store: Store) -> None:
        for port in cluster.ports:
            with redis.Redis(port=port) as node:
                assert node.script_exists(*(s.sha for s in registered_scripts())) == [True] * len(
                    registered_scripts()
                )
                node.script_flush()  # as after a restart of that node
        await apply_workload(store, work)  # NOSCRIPT -> loaded on every primary again
        assert await store.client.hget(store.keys.meta, "N") == "200"

    apply_and_dump(settings, go)
    for port in cluster.ports:
        with redis.Redis(port=port) as node:
            assert all(node.script_exists(*(s.sha for s in registered_scripts())))


def test_flush_scans_every_node(cluster: LocalRedisCluster) -> None:
    settings = on_cluster(cluster)
    work = make_workload(orders=150, sessions=10)
    state = apply_and_dump(settings, lambda store: apply_workload(store, work))
    assert len(state) > 100

    async def flush(store: Store) -> None:
        outputs = [
            k async for k in store.client.scan_iter(match=store.keys.pattern()) if is_output(k)
        ]  # the report's and the ledgers' keys, which dump() skips
        assert outputs
        assert await store.flush_namespace() == len(state) + len(outputs)

    assert apply_and_dump(settings, flush) == {}


def _cli(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_cli_backfill_on_the_cluster_equals_single_redis(
    cluster: LocalRedisCluster, redis_server: Any, tmp_path: Path
) -> None:
    work = make_workload(orders=400, sessions=0, seed=9)
    path = tmp_path / "orders.csv"
    write_orders_csv(path, work.orders, work.catalog)
    n = next(_ids)
    base = {"XSELL_HALF_LIFE_DAYS": "0", "XSELL_KEY_NAMESPACE": f"bf{n}"}
    on_single = {**base, "XSELL_REDIS_URL": redis_server.url}
    on_nodes = {**base, "XSELL_REDIS_URL": cluster.url, "XSELL_REDIS_CLUSTER": "true"}
    for env in (on_single, on_nodes):  # through the scripts (bulk: the test below)
        assert '"applied": 400' in _cli(["backfill", str(path), "--mode", "stream", "--json"], env)
    single = apply_and_dump(
        load_settings(redis_url=redis_server.url, key_namespace=f"bf{n}"), lambda store: _noop()
    )
    clustered = apply_and_dump(on_cluster(cluster, key_namespace=f"bf{n}"), lambda store: _noop())
    assert len(single) > 300
    assert without_pair_guards(without_spend_moves(clustered)) == without_pair_guards(single)
    assert pair_guard_markers(clustered) == pair_guard_markers(single)
    top = _cli(["neighbors", work.orders[0].items[0].item_id, "--json"], on_nodes)
    assert top == _cli(["neighbors", work.orders[0].items[0].item_id, "--json"], on_single)


async def _noop() -> None:
    return None


def test_a_master_down_is_waited_for_never_dead_lettered() -> None:
    """CLUSTERDOWN / a dead master are waited for like a lost connection (StoreUnavailable
    once XSELL_REDIS_RETRY_SECONDS is spent, which the worker turns into an exit without
    acknowledging), never raised as an error that would dead-letter the events."""
    work = make_workload(orders=60, sessions=0, seed=4)
    with LocalRedisCluster() as own:
        patient = on_cluster(own)
        impatient = on_cluster(
            own, key_namespace=patient.redis.key_namespace, redis_retry_seconds=1
        )

        async def go() -> None:
            store, hurried = await Store.open(patient), await Store.open(impatient)
            try:
                await store.apply(work.orders[:30])
                own.nodes[1].kill()
                await asyncio.sleep(6)  # > cluster-node-timeout: the others say CLUSTERDOWN
                with pytest.raises(StoreUnavailable):
                    await hurried.apply(work.orders[30:])
                pending = asyncio.ensure_future(store.apply(work.orders[30:]))
                await asyncio.sleep(2)
                assert not pending.done()
                own.nodes[1].start()  # same port and nodes.conf: it takes its slots back
                await asyncio.wait_for(pending, 60)
                assert await store.client.hget(store.keys.meta, "N") in ("60", "30")
            finally:
                await store.close()
                await hurried.close()

        run(go())


def test_bulk_backfill_on_the_cluster_equals_single_redis(
    cluster: LocalRedisCluster, make_settings: Callable[..., Settings]
) -> None:
    """The bulk path's writes (no scripts but per-key SETs of the done markers on a cluster)
    leave the same keys and values on three masters as on a single Redis."""
    from xsell.ops.loading import load_history

    work = make_workload(orders=800, sessions=0)

    async def load(store: Store) -> None:
        summary = await load_history(store, work.orders, mode="bulk")
        assert summary.applied == len(work.orders)

    single = apply_and_dump(make_settings(half_life_days=30), load)
    clustered = apply_and_dump(on_cluster(cluster, half_life_days=30), load)
    assert len(single) > 800  # item zsets and hashes, histories, done markers
    # no pair scripts ran: no item markers (the segment scripts' user markers are on both)
    assert not any(k.startswith(":{i:") and k.endswith(":m") for k in clustered)
    assert sum(1 for k in single if ":{e:o:" in k) == len(work.orders)
    assert without_spend_moves(clustered) == single


def test_views_on_the_cluster_equal_single_redis(
    cluster: LocalRedisCluster, make_settings: Callable[..., Settings]
) -> None:
    """Recent views and co-view counts: the same state, every script call in one slot."""
    views = [
        CartEvent(f"v{n}", "view", f"u{{{n % 7}}}", f"i{{{n % 11}}}:*", 1000.0 + 60 * n)
        for n in range(300)
    ]

    async def load(store: Store) -> None:
        await apply_all(store, views, batch=50)

    single = apply_and_dump(make_settings(), load)
    clustered = apply_and_dump(on_cluster(cluster), load)
    assert without_pair_guards(clustered) == without_pair_guards(single)
    assert sum(1 for key in single if key.endswith(":v")) == 11
    assert sum(1 for key in single if key.endswith(":view")) == 7
