"""Where the real data of the development machines is: ``../shared/data`` beside a clone
(never committed; tests skip without it, CI has it)."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ONLINE_RETAIL_FILE = SHARED_DATA / "online_retail_ii_2009_2010.csv.gz"
