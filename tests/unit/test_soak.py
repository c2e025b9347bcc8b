"""The soak's summary and plot (xsell/bench/soak.py, soak_plot.py) from made-up samples."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict

from xsell.bench.soak import Sample, SoakConfig, summarise, table_text
from xsell.bench.soak_plot import soak_svg


def _samples() -> list[Sample]:
    out = []
    for minute in range(12):
        done = min(minute, 5) * 60_000  # rises until the horizon (5 min), then flat
        out.append(
            Sample(
                float(minute),
                minute * 60_000,
                minute * 60_000,
                1000.0,
                100 << 20,
                done,
                done * 80,
                20_000,
                2_000_000,
                4,
                200_000,
            )
        )
    return out


def test_the_summary_finds_the_plateau_and_extrapolates() -> None:
    cfg = SoakConfig(horizon=300, window=60)
    summary = summarise(_samples(), cfg)
    assert summary["plateau_from_minute"] == 7.0  # horizon + window + a minute
    assert summary["plateau_done_keys"] == [300_000, 300_000]
    assert summary["bytes_per_done_key"] == 80.0
    # 3 days x 1M events x 80 B + an hour's 41,667 guard markers x 100 B
    assert summary["at_1m_per_day_default_mib"] == round((3e6 * 80 + 1e6 / 24 * 100) / 2**20, 1)


def test_the_plot_is_an_svg_with_a_line_per_series() -> None:
    samples = _samples()
    cfg = SoakConfig(horizon=300, window=60)
    result = {
        "config": {"horizon": "300", "window": "60"},
        "samples": [{**asdict(s), "idempotency_bytes": s.idempotency_bytes} for s in samples],
        "summary": summarise(samples, cfg),
    }
    root = ET.fromstring(soak_svg(result))
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 4
    assert all(len(line.get("points", "").split()) == len(samples) for line in lines)
    assert table_text(result).count("\n") >= len(samples)
