"""Crash safety: `kill -9` workers while they stream real orders; nothing lost, nothing counted
twice (the Redis state equals the batch truth entry by entry), and a suggestion redelivered
after a crash keeps its suggestion_id. Reduced size here; full size in docs/reliability.md."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, require_shared_data
from xsell.devenv.synthetic_shop import write_orders_csv
from xsell.models.events import PurchaseEvent
from xsell.ops.orders_csv import ONLINE_RETAIL_MAP, ONLINE_RETAIL_SKIP, parse_map, read_orders
from xsell.verify.chaos import ChaosConfig, run_chaos

pytestmark = [pytest.mark.integration, pytest.mark.shared_data]


def _check(result: dict[str, Any], kills: int) -> None:
    assert result["kills"] == kills
    assert result["state_diff"] == 0, result["state"]["examples"]
    assert result["state"]["entries"] > 10_000  # the comparison did compare something
    assert result["missing_suggestions"] == 0 and result["unexpected_triggers"] == 0
    assert result["suggestion_id_mismatches"] == 0  # redelivered: same suggestion_id
    assert result["suggestions"] == result["triggers"] + result["duplicates_delivered"]
    assert result["dead_letters"] == 0
    assert result["worker_tracebacks"] == 0
    assert result["ok"]


@pytest.fixture(scope="module")
def orders() -> list[PurchaseEvent]:
    path = require_shared_data()
    return list(
        itertools.islice(
            read_orders(
                path, parse_map(ONLINE_RETAIL_MAP), frozenset(ONLINE_RETAIL_SKIP.split(","))
            ),
            2000,
        )
    )


def test_kill_9_one_worker_three_times_loses_and_doubles_nothing(
    orders: list[PurchaseEvent],
) -> None:
    attempts = []
    for seed in (7, 8, 9):  # a kill can land between batches by chance: then try again
        result = run_chaos(ChaosConfig(orders=1500, kills=3, workers=1, seed=seed), orders)
        _check(result, 3)  # every attempt counts every order once
        assert result["backfill_diff"] == 0, result["backfill"]["examples"]  # == backfill
        attempts.append(result["duplicates_delivered"])
        if attempts[-1] > 0:
            break
    assert attempts[-1] > 0, attempts  # the kills did hit uncommitted batches


def test_kill_9_mid_replay_restarted_after_a_short_horizon_counts_once(
    orders: list[PurchaseEvent],
) -> None:
    """Done keys kept 2 s only, and every killed worker stays down longer than that: the batch
    it died in is redelivered without its done keys. Positions (records below them) and the
    pending guard markers (the batch that died half-way) still give the batch truth."""
    horizon = 2
    env = {
        "XSELL_DEDUP_HORIZON_SECONDS": str(horizon),
        "XSELL_DEDUP_RETENTION_DAYS": repr(horizon / 86400),  # the name before the horizon
        "XSELL_DEDUP_WINDOW_SECONDS": "1",
    }
    attempts = []
    for seed in (11, 12, 13):  # a kill can land between batches by chance: then try again
        cfg = ChaosConfig(
            orders=800, kills=2, workers=1, seed=seed, compare_backfill=False, env=env
        )
        cfg.restart_after = horizon + 1.0
        result = run_chaos(cfg, orders)
        _check(result, 2)  # every attempt counts every order once
        attempts.append(result["duplicates_delivered"])
        if attempts[-1] > 0:
            break
    assert attempts[-1] > 0, attempts  # the kills did hit uncommitted batches


def test_xsell_chaos_kills_either_of_two_workers(
    orders: list[PurchaseEvent], tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"  # the same orders, without parsing the whole file again
    write_orders_csv(path, orders[:800], [])
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "xsell.cli",
            "chaos",
            "--file",
            str(path),
            "--orders",
            "800",
            "--kills",
            "3",
            "--workers",
            "2",
            "--seed",
            "3",
            "--no-backfill",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("XSELL_")},
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads(out.stdout)
    _check(result, 3)
    assert result["workers"] == 2
    assert {k["worker"] for k in result["kill_log"]} <= {0, 1}
