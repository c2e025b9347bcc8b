"""`xsell demo` starts everything, shows suggestions and stops everything it started."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_demo_runs_shows_suggestions_and_stops_clean() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    env["XSELL_KAFKA_SESSION_TIMEOUT"] = "3"
    env["XSELL_KAFKA_HEARTBEAT_INTERVAL"] = "0.5"
    result = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "demo", "--seconds", "15", "--rate", "20"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-3000:]
    started = re.search(r"started: (.*)", out)
    assert started, out[-2000:]
    pids = [int(p) for p in re.findall(r"pid (\d+)", started.group(1))]
    assert len(pids) == 4  # worker, broker, redis, api
    shown = [line for line in out.splitlines() if " -> " in line]
    assert len(shown) >= 10, out[-2000:]
    assert any("% of buyers of" in line for line in shown)
    assert re.search(r"(\d+) suggestions shown", out)
    assert "stopped:" in out
    assert not [pid for pid in pids if _alive(pid)]
