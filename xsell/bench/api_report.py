"""The table of ``xsell bench api`` (xsell/bench/api_bench.py), for people."""

from __future__ import annotations

from typing import Any


def table(report: dict[str, Any]) -> str:
    """The figures side by side, for people."""
    o = report["options"]
    rows = [
        (
            "top speed, /healthz (wrk, 32 connections)",
            f"{report['max_healthz']['rate']:,.0f} req/s",
            "the framework's limit",
        ),
        (
            "top speed, complements of 1,000 items, no cache",
            f"{report['max_complements']['rate']:,.0f} req/s",
            f"{report['max_ratio']:.0%} of /healthz (target >= 50%)",
        ),
        (
            "top speed, complements, XSELL_API_CACHE_SECONDS=1",
            f"{report['max_complements_cached']['rate']:,.0f} req/s",
            f"{report['max_ratio_cached']:.0%} of /healthz "
            f"({report['max_healthz_again']['rate']:,.0f} in this run)",
        ),
    ]
    rate = f"{o['complements_rate']:g}/s"
    for name, key, target in (
        (f"/healthz at {rate}", "healthz_fixed", ""),
        (f"complements at {rate}, no cache", "complements_fixed", "p99 < 10 ms"),
        (f"complements at {rate}, cache 1 s", "complements_fixed_cached", "p99 < 10 ms"),
        (f"latest suggestion at {o['latest_rate']:g}/s", "latest_fixed", "p99 < 5 ms"),
    ):
        r = report[key]
        done = f"{r['rate']:g}/s done, {r['errors']} errors"
        rows.append(
            (
                name,
                f"p50 {r['p50_ms']} / p95 {r['p95_ms']} / p99 {r['p99_ms']} ms",
                f"{done}; target {target}" if target else done,
            )
        )
    for name, key, target in (
        (
            f"push: POST -> stream, {o['streams']} streams, {o['events_rate']:g}/s",
            "push",
            "p99 < 150 ms",
        ),
        ("the same two broker hops through a passthrough", "passthrough_hops", ""),
    ):
        r = report[key]
        got = f"{r['arrived']} of {r['sent']} arrived"
        rows.append(
            (
                name,
                f"p50 {r['p50_ms']} / p95 {r['p95_ms']} / p99 {r['p99_ms']} ms",
                f"{got}; target {target}" if target else got,
            )
        )
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:<36}  {c}" for a, b, c in rows)
