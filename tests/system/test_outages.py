"""Outages: Redis hung, Redis restarted (with and without persistence), broker hung, broker
restarted, under a streaming worker; and the state-loss tools (status, rebuild). The outages
last 7 s here to keep CI short; `xsell outage all` runs them at 10 s (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, env_settings, stack_env
from tests.helpers import run
from xsell.config.settings import Settings
from xsell.devenv.servers import LocalBroker, LocalRedis, free_port
from xsell.devenv.synthetic_shop import Shop, write_orders_csv
from xsell.models.events import PurchaseEvent
from xsell.store import Store
from xsell.verify.outages import SCENARIOS, run_outage
from xsell.verify.state_oracle import BatchTruth

pytestmark = pytest.mark.integration
ORDERS = 800
OUTAGE_SECONDS = 7.0  # > the 5 s after which a hung Redis is logged, > the 3 s session timeout


@pytest.fixture(scope="module")
def orders() -> list[PurchaseEvent]:
    return Shop(seed=5).orders(ORDERS, seed=5)


@pytest.mark.parametrize("kind", SCENARIOS)
def test_worker_waits_out_the_outage_and_catches_up(kind: str, orders: list[PurchaseEvent]) -> None:
    result = run_outage(kind, orders, seconds=OUTAGE_SECONDS)
    assert result["worker_survived"], result["worker_log"]  # no crash, no crash loop
    assert result["waiting_logged"], result["worker_log"]  # said what it waited for
    assert result["worker_tracebacks"] == 0, result["worker_log"]
    assert result["missing_suggestions"] == 0  # caught up: every order has its suggestion
    assert result["suggestion_id_mismatches"] == 0 and result["dead_letters"] == 0
    assert result["state_diff"] == 0, result["state"]["examples"]  # nothing dropped/doubled
    assert result["catch_up_seconds"] < 60
    if kind == "redis-lost":
        assert result["state_lost_logged"]
        assert result["status_after_loss"] == "lost"
        assert result["status_after_rebuild"] == "present"
        assert result["rebuild"]["applied"] > 0  # the lost orders were applied again
    if kind == "broker-restart":
        assert result["orders_in_truth"] >= ORDERS // 2  # the orders sent after the restart
    assert result["ok"]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
        cwd=REPO,
    )


def test_status_reports_a_loss_until_rebuild_from_file(
    broker: LocalBroker, redis_server: LocalRedis, tmp_path: Path
) -> None:
    env = stack_env(broker, redis_server, XSELL_MAX_NEIGHBORS="0")
    settings = env_settings(env)
    orders = Shop(seed=2).orders(300, seed=2)
    path = tmp_path / "orders.csv"
    write_orders_csv(path, orders, [])
    status = _cli(["status", "--json", "--no-kafka"], env)
    assert status.returncode == 0 and json.loads(status.stdout)["state"] == "empty"
    assert _cli(["rebuild", "--file", str(path)], env).returncode == 0
    present = json.loads(_cli(["status", "--json", "--no-kafka"], env).stdout)
    assert present["state"] == "present" and present["orders"] == 300

    async def lose() -> bool:  # what a worker does when the state vanishes under it
        store = await Store.open(settings)
        try:
            store.epoch = await store.read_epoch()
            async for key in store.client.scan_iter(match=store.keys.pattern()):
                await store.client.delete(key)  # gone behind the worker's back
            return await store.check_epoch(await store.read_epoch())
        finally:
            await store.close()

    assert run(lose())
    status = _cli(["status", "--json", "--no-kafka"], env)
    assert status.returncode == 3 and json.loads(status.stdout)["state"] == "lost"
    rebuilt = _cli(["rebuild", "--file", str(path), "--json"], env)
    assert rebuilt.returncode == 0 and json.loads(rebuilt.stdout)["applied"] == 300
    assert json.loads(_cli(["status", "--json", "--no-kafka"], env).stdout)["state"] == "present"
    assert run(_diff(settings, orders)) == 0


async def _diff(settings: Settings, orders: list[PurchaseEvent]) -> int:
    store = await Store.open(settings)
    try:
        return (
            await BatchTruth(orders, settings.learning.max_items_per_order).compare(store)
        ).total
    finally:
        await store.close()


def test_store_open_waits_for_a_redis_that_is_not_up_yet(caplog: pytest.LogCaptureFixture) -> None:
    redis = LocalRedis(port=free_port())
    settings = env_settings({"XSELL_REDIS_URL": redis.url})
    starter = threading.Timer(1.5, redis.start)
    starter.start()
    try:
        with caplog.at_level(logging.WARNING):
            started = time.monotonic()

            async def go() -> Any:
                store = await Store.open(settings)  # loads the scripts: must wait, not raise
                try:
                    return await store.runner.run([("PING",)])
                finally:
                    await store.close()

            assert asyncio.run(go()) == [True]
            assert time.monotonic() - started >= 1.0
        assert "waiting for Redis" in caplog.text
    finally:
        starter.join()
        redis.stop()
