"""The targets of ``xsell bench`` from its summary rows (xsell.bench.report.targets)."""

from __future__ import annotations

from typing import Any

from xsell.bench.report import targets


def row(agent: str, mode: str, eps: float, p99: float, complete: bool = True) -> dict[str, Any]:
    return {
        "agent": agent,
        "mix": "cart",
        "mode": mode,
        "events_per_second": eps,
        "latency_ms": {"p50": p99 / 2, "p95": p99, "p99": p99},
        "complete": complete,
    }


def p99_target(summary: list[dict[str, Any]]) -> dict[str, Any]:
    found = [t for t in targets(summary, {"seconds": 10.0}, 1000.0) if "p99" in t["target"]]
    assert len(found) == 1
    return found[0]


def test_a_fixed_rate_run_that_only_drains_its_backlog_is_not_sustained() -> None:
    behind = p99_target([row("xsell", "1000/s", 383.0, 40.0)])  # all arrived, but late
    assert behind["sustained"] is False and behind["met"] is False
    kept_up = p99_target([row("xsell", "1000/s", 993.0, 40.0)])
    assert kept_up["sustained"] is True and kept_up["met"] is True
    slow = p99_target([row("xsell", "1000/s", 993.0, 400.0)])
    assert slow["sustained"] is True and slow["met"] is False
    lost = p99_target([row("xsell", "1000/s", 993.0, 40.0, complete=False)])
    assert lost["sustained"] is False and lost["met"] is False


def test_ratios_to_the_passthrough_and_the_naive_agent() -> None:
    summary = [
        row("xsell", "full", 400.0, 1.0),
        row("passthrough", "full", 2000.0, 1.0),
        row("naive", "full", 40.0, 1.0),
    ]
    got = {t["target"]: (t["value"], t["met"]) for t in targets(summary, {"seconds": 40.0}, 1000.0)}
    assert got["cart mix: xsell >= 70% of the passthrough's events/s"] == (0.2, False)
    assert got["cart mix: xsell >= 5x the naive agent's events/s"] == (10.0, True)
    assert got["backfill of the file in < 30 s (read + apply)"] == (40.0, False)
