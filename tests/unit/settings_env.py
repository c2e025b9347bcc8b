"""What the settings tests share: no XSELL_* variable from the caller's environment, a working
directory of their own (no stray xsell.toml), and a TOML file written there. A module uses the
fixture with ``pytestmark = pytest.mark.usefixtures("clean_env")`` after importing it (the
import alone makes it visible to pytest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("XSELL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "xsell.toml"
    path.write_text(text, encoding="utf-8")
    return path
