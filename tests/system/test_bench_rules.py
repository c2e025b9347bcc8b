"""`xsell bench --rules` in a tiny size reports every figure (docs/benchmarks.md).

No timing assertions: speed is measured by the benchmark itself, never by timed tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_bench_rules_reports_both_books_side_by_side() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    result = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "bench", "--rules", "--rules-requests", "40", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["requests"] == 40 and report["rules_loaded"] == 1000
    assert report["rules_matching_per_request"] > 1
    for key in ("rules_ms_without_rules", "rules_ms_with_rules", "suggestion_ms_with_rules"):
        q = report[key]
        assert 0 < q["p50"] <= q["p95"] <= q["p99"] <= q["max"], key
    assert isinstance(report["target_met"], bool)
    assert report["command"] == "xsell bench --rules --rules-requests 40 --json"
