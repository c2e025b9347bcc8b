"""Figures and tables for people (the CLI's ``report``, ``status`` and summaries).

Why: a person reads ``384,512.25`` at a glance and ``3.845e+05`` not at all; a table whose
columns drift under long headers cannot be read either; a nested dict printed as its Python
repr is noise. These functions never produce an exponent, align every column to its widest
cell, and flatten nested mappings into indented ``key: value`` lines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

MISSING = "-"


def number(value: Any, decimals: int = 4) -> str:
    """A figure as text: integers with thousands separators (``12,000``), other numbers with
    at most ``decimals`` decimals and no exponent (``0.1523``, ``384,512.25``), ``-`` for
    None, NaN and infinities; anything else as ``str``."""
    if value is None:
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return MISSING
    if float(value).is_integer():
        return f"{int(value):,}"
    places = 2 if abs(value) >= 100 else decimals
    text = f"{value:,.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def aligned(heads: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "") -> list[str]:
    """A table as lines: each column as wide as its widest cell, the first left-aligned (a
    name), the others right-aligned (figures), two spaces between columns."""
    cells = [[str(h) for h in heads]] + [[number(v) for v in row] for row in rows]
    widths = [max(len(line[n]) for line in cells) for n in range(len(heads))]
    out = []
    for line in cells:
        parts = [
            line[n].ljust(widths[n]) if n == 0 else line[n].rjust(widths[n])
            for n in range(len(heads))
        ]
        out.append((indent + "  ".join(parts)).rstrip())
    return out


def fields(values: Mapping[str, Any], indent: str = "  ") -> list[str]:
    """``key: value`` lines, keys padded to one width; a nested mapping becomes its own
    indented lines under its key, a list its items joined by commas (an empty one ``-``)."""
    width = max((len(str(k)) for k in values), default=0) + 1
    out = []
    for key, value in values.items():
        label = f"{key}:".ljust(width)
        if isinstance(value, Mapping):
            out.append(f"{indent}{key}:" if value else f"{indent}{label} {MISSING}")
            out.extend(fields(value, indent + "  "))
        elif isinstance(value, list | tuple):
            out.append(f"{indent}{label} {', '.join(number(v) for v in value) or MISSING}")
        else:
            out.append(f"{indent}{label} {number(value)}")
    return out
