"""The command line: choices it keeps itself (so that its parser needs no harness) equal the
modules' own, and every failure a user can cause ends as one line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_cli_scenarios_match_the_outage_module() -> None:
    from xsell.cli.harness import OUTAGE_SCENARIOS as CLI
    from xsell.verify.outages import SCENARIOS

    assert CLI == SCENARIOS


def test_cli_bench_choices_match_the_bench_module() -> None:
    from xsell.bench.agents import MODES
    from xsell.bench.workload import AGENTS, EXTRA_AGENTS, MIXES
    from xsell.cli import bench_args

    assert bench_args.AGENTS == AGENTS
    assert (*bench_args.AGENTS, *bench_args.EXTRA_AGENTS) == (*AGENTS, *EXTRA_AGENTS) == MODES
    assert bench_args.MIXES == MIXES


def test_cli_backfill_modes_match_the_loader() -> None:
    from xsell.cli.operate import BACKFILL_MODES as CLI
    from xsell.ops.loading import BACKFILL_MODES

    assert CLI == BACKFILL_MODES


def xsell(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("command", [["backfill"], ["replay"], ["eval", "--orders"]])
def test_a_missing_orders_file_is_one_line_not_a_traceback(
    command: list[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.csv")
    result = xsell(*command, missing, env={"XSELL_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"xsell: {missing}: No such file or directory"
    )


def test_a_directory_given_as_the_file_is_one_line(tmp_path: Path) -> None:
    result = xsell("backfill", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"xsell: {tmp_path}: Is a directory"


def test_an_unreachable_redis_is_said_at_once_in_one_line(tmp_path: Path) -> None:
    result = xsell("neighbors", "x", env={"XSELL_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("xsell: Redis unreachable at redis://127.0.0.1:1/0: ")
    assert last.endswith("(XSELL_REDIS_URL)")


def test_an_unreachable_broker_is_said_at_once_in_one_line(tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,item_id\n1,a\n1,b\n")
    result = xsell("replay", str(orders), env={"XSELL_KAFKA_BROKERS": "127.0.0.1:1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("xsell: Kafka unreachable at 127.0.0.1:1: ")
    )


def test_help_is_plain_text() -> None:
    result = xsell("--help")
    assert result.returncode == 0
    assert "``" not in result.stdout and ":mod:" not in result.stdout
    assert result.stdout.startswith("usage: xsell")
