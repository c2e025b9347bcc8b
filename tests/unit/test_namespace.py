"""xsell's code is imported under the `xsell` namespace only: ``from xsell.models.events
import ...``, never ``from models.events import ...``. The wheel holds xsell.models,
xsell.config and xsell.streams, not top-level packages of those names (they would collide
with other projects in a user's site-packages), so a bare import would work in a clone, where
the repository's root is on the path, and fail once installed; and a module imported under
both names exists twice, with two copies of every class and setting."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BARE = ("models", "config", "streams")
LINKS = {"xsell/models": "../models", "xsell/config": "../config", "xsell/streams": "../streams"}


def bare_imports(path: Path) -> list[str]:
    """Each import of a top-level ``models``, ``config`` or ``streams`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [f"{path}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in BARE]
    return found


def python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:  # not a git checkout (an unpacked source archive)
        return sorted(p for p in REPO.rglob("*.py") if ".venv" not in p.parts)
    return [REPO / name for name in listed.stdout.decode().split("\0") if name]


def test_nothing_imports_models_config_or_streams_without_xsell() -> None:
    files = python_files()
    assert len(files) > 100
    assert [found for path in files for found in bare_imports(path)] == []


@pytest.mark.parametrize(
    "text",
    ["import models.events\n", "from config import Settings\n", "def f():\n    import streams\n"],
)
def test_a_bare_import_is_reported(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(text)
    assert len(bare_imports(path)) == 1


def test_xsell_models_config_streams_are_links_to_the_top_level_folders() -> None:
    for link, target in LINKS.items():
        path = REPO / link
        assert path.is_symlink(), f"{link} must be a symbolic link to {target}"
        assert str(path.readlink()) == target
        assert (path / "__init__.py").is_file()
