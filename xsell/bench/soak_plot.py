"""The soak's plot as a hand-written SVG (no plotting dependency): Redis memory and the
idempotency bookkeeping over the run's minutes, and the done keys held."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

WIDTH, PANEL, LEFT, RIGHT, TOP, GAP = 760, 220, 70, 20, 40, 60
COLOURS = ("#1f77b4", "#d62728", "#2ca02c")


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top``."""
    if top <= 0:
        return 1.0
    step = 10.0 ** len(str(int(top))) / 10
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * factor >= top:
            return float(step * factor)
    return float(step * 10)


def _panel(
    y0: float,
    title: str,
    unit: str,
    xs: Sequence[float],
    series: Sequence[tuple[str, Sequence[float]]],
) -> list[str]:
    x_max = _nice(max(xs) if xs else 1.0)
    y_max = _nice(max((max(v) for _, v in series if v), default=1.0))
    inner = WIDTH - LEFT - RIGHT

    def px(x: float) -> float:
        return LEFT + inner * x / x_max

    def py(y: float) -> float:
        return y0 + PANEL - PANEL * y / y_max

    out = [
        f'<text x="{LEFT}" y="{y0 - 12}" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{LEFT}" y="{y0}" width="{inner}" height="{PANEL}" fill="none" stroke="#999"/>',
    ]
    for i in range(6):
        y = y_max * i / 5
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + inner}" y1="{py(y):.1f}" y2="{py(y):.1f}" '
            'stroke="#eee"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{y:,.0f}</text>"
            if y_max >= 10
            else f"{y:g}</text>"
        )
        x = x_max * i / 5
        out.append(
            f'<text x="{px(x):.1f}" y="{y0 + PANEL + 16}" font-size="11" '
            f'text-anchor="middle">{x:g}</text>'
        )
    out.append(
        f'<text x="{LEFT - 55}" y="{y0 + PANEL / 2}" font-size="11" '
        f'transform="rotate(-90 {LEFT - 55} {y0 + PANEL / 2})" text-anchor="middle">'
        f"{escape(unit)}</text>"
    )
    for n, (name, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, values, strict=True))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.append(
            f'<text x="{LEFT + 10 + 230 * n}" y="{y0 + 16}" font-size="12" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    return out


def soak_svg(result: dict[str, Any]) -> str:
    """The SVG of a :func:`xsell.bench.soak.run_soak` result."""
    samples = result["samples"]
    xs = [float(s["minute"]) for s in samples]
    mib = 2**20
    cfg, summary = result["config"], result["summary"]
    height = TOP + 2 * PANEL + GAP + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        *_panel(
            TOP,
            f"xsell soak: Redis memory, {summary['events_per_second']:g} events/s, horizon "
            f"{cfg['horizon']} s, window {cfg['window']} s",
            "MiB",
            xs,
            [
                ("used_memory (INFO)", [s["used_memory"] / mib for s in samples]),
                (
                    "idempotency (done keys + guards)",
                    [s["idempotency_bytes"] / mib for s in samples],
                ),
            ],
        ),
        *_panel(
            TOP + PANEL + GAP,
            "idempotency keys held",
            "count",
            xs,
            [
                ("done keys", [float(s["done_keys"]) for s in samples]),
                ("guard markers", [float(s["guard_markers"]) for s in samples]),
            ],
        ),
        f'<text x="{WIDTH / 2}" y="{height - 8}" font-size="12" text-anchor="middle">'
        "minutes since start</text>",
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
