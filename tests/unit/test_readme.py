"""The README stays true: every setting is documented, every command exists."""

from __future__ import annotations

from pathlib import Path

from xsell.cli.main import parser
from xsell.config.settings import FLAT

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_in_the_configuration_table() -> None:
    for name in FLAT:
        assert f"`XSELL_{name.upper()}`" in README, name


def test_every_documented_command_exists() -> None:
    sub = next(a for a in parser()._actions if a.dest == "command")
    commands = set(sub.choices)  # type: ignore[arg-type]
    for line in README.splitlines():
        if line.startswith("| `xsell "):
            assert line.split("`")[1].split()[1] in commands, line
