"""`xsell bench` in a tiny size reports every figure (docs/benchmarks.md).

No timing assertions: speed is measured by the benchmark itself, never by timed tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import require_shared_data

pytestmark = [pytest.mark.integration, pytest.mark.shared_data]

FIGURES = (
    "events_per_second",
    "lines_per_second",
    "worker_cpu_ms_per_event",
    "redis_cpu_ms_per_event",
    "round_trips_per_event",
    "redis_commands_per_event",
)


def test_bench_reports_every_figure() -> None:
    orders = require_shared_data()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "xsell.cli",
            "bench",
            "--orders",
            str(orders),
            "--events",
            "200",
            "--history",
            "300",
            "--repeat",
            "1",
            "--max-seconds",
            "4",
            "--drain-seconds",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=550,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)

    assert report["machine"]["cpus"] >= 1 and report["machine"]["cpu_model"]
    assert report["command"].startswith("xsell bench")
    backfill = report["backfill"]
    assert backfill["orders"] == 300 and backfill["lines"] > 0
    for key in (
        "seconds",
        "read_seconds",
        "apply_seconds",
        "lines_per_second",
        "redis_cpu_seconds",
    ):
        assert isinstance(backfill[key], int | float), key
    memory = backfill["memory"]
    assert memory["items"] > 0 and memory["copurchase_entries"] > 0
    assert memory["bytes_per_item"] > 0 and memory["bytes_per_pair_entry"] > 0

    rows = {(r["agent"], r["mix"], r["mode"]): r for r in report["summary"]}
    assert set(rows) == {
        (a, m, mode)
        for a in ("xsell", "passthrough", "naive")
        for m in ("cart", "purchase")
        for mode in ("full", "1000/s")
    }
    for key, row in rows.items():
        for name in FIGURES:
            assert name in row, (key, name)
        assert set(row["latency_ms"]) == {"p50", "p95", "p99"}, key
        assert row["runs"] == 1 and 0.0 <= row["received_share"] <= 1.0
    # what the figures mean, not how fast: the passthrough never calls Redis, xsell does
    assert rows[("passthrough", "cart", "full")]["round_trips_per_event"] == 0
    assert rows[("xsell", "cart", "full")]["round_trips_per_event"] > 0

    targets = report["targets"]
    assert len(targets) == 7  # 2 mixes x (passthrough, naive, p99) + backfill
    assert all(isinstance(t["met"], bool) and "value" in t for t in targets)
