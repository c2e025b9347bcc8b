"""The wheel ships the product and not the harness (docs/architecture.md), and a harness
command in an installation without the harness says so in one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HARNESS = ("xsell/devenv/", "xsell/verify/", "xsell/bench/", "xsell/evaluation/")

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a clean copy of the tree (pip builds in the source folder, and a
    stale build/ there would leak into the wheel)."""
    source = tmp_path_factory.mktemp("source") / "xsell"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (path,) = out.glob("xsell-*.whl")
    return path


def test_the_wheel_holds_the_product_and_no_harness(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for module in (
        "xsell/engine/engine.py",
        "xsell/store/core/apply.py",
        "xsell/ops/loading.py",
        "xsell/cli/main.py",
        "streams/app.py",
        "models/ranking.py",
        "config/settings/root.py",
        "config/default.toml",
    ):
        assert module in names, module
    assert not [n for n in names if n.startswith(HARNESS)]
    assert not [n for n in names if n.startswith("tests/")]


def test_a_harness_command_without_the_harness_is_one_line(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # the unpacked wheel first on the path; -I: no cwd, no PYTHONPATH; -S: no site module,
    # so no .pth file runs and the clone's editable install cannot supply the harness; the
    # dependencies come from this environment's site-packages as a plain path entry
    deps = sysconfig.get_paths()["purelib"]
    code = (
        f"import sys; sys.path[:0] = [{str(site)!r}, {deps!r}]; sys.argv = ['xsell', 'demo']; "
        "from xsell.cli.main import main; sys.exit(main())"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().startswith(
        "xsell: `xsell demo` is part of the development harness (xsell.devenv"
    )
    assert "Traceback" not in result.stderr
