"""The Redis tuning xsell recommends: its private servers use it, and a worker on a Redis
without it says so (xsell.store.ops.redis_config.check_listpack_setting)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import redis

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.devenv.servers import ZSET_LISTPACK_ENTRIES, LocalRedis
from xsell.store import Store
from xsell.store.ops.redis_config import check_listpack_setting

pytestmark = pytest.mark.integration


def test_private_redis_is_tuned_and_an_untuned_one_is_reported(
    redis_server: LocalRedis,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    assert client.config_get("zset-max-listpack-entries") == {
        "zset-max-listpack-entries": str(ZSET_LISTPACK_ENTRIES)
    }

    async def check() -> int | None:
        store = await Store.open(make_settings())
        try:
            return await check_listpack_setting(store)
        finally:
            await store.close()

    caplog.set_level(logging.WARNING, logger="xsell.store.ops.redis_config")
    assert run(check()) == ZSET_LISTPACK_ENTRIES
    assert "zset-max-listpack-entries" not in caplog.text
    try:
        client.config_set("zset-max-listpack-entries", 128)
        assert run(check()) == 128
        assert "zset-max-listpack-entries 128" in caplog.text
    finally:
        client.config_set("zset-max-listpack-entries", ZSET_LISTPACK_ENTRIES)
        client.close()


def test_the_check_never_stops_a_worker_on_a_cluster(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """CONFIG GET cannot be routed on a Redis Cluster: the advisory check is skipped, loudly."""

    async def check() -> int | None:
        store = await Store.open(make_settings())
        store.settings = store.settings.model_copy(update={"redis_cluster": True})
        try:
            return await check_listpack_setting(store)
        finally:
            await store.close()

    caplog.set_level(logging.INFO, logger="xsell.store.ops.redis_config")
    assert run(check()) is None
    assert "not checked" in caplog.text
