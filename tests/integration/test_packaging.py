"""The wheel ships the product and not the harness (docs/architecture.md), only under the
`xsell` namespace (the client's top-level folders models/, config/, streams/ become
xsell.models, xsell.config, xsell.streams: a top-level `models` would collide with other
projects in a user's site-packages), it installs and imports in a fresh virtualenv, and a
harness command in an installation without the harness says so in one line."""

from __future__ import annotations

import os
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
        symlinks=True,  # xsell/models etc. stay links, as in a clone: the build follows them
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
        "xsell/streams/app.py",
        "xsell/models/ranking.py",
        "xsell/config/settings/root.py",
        "xsell/config/default.toml",
    ):
        assert module in names, module
    assert not [n for n in names if n.startswith(HARNESS)]
    assert not [n for n in names if n.startswith("tests/")]


def test_the_wheel_has_one_top_level_package_xsell(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"xsell"}
    (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["xsell"]


def test_the_wheel_installs_and_imports_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=60,
        capture_output=True,
    )
    python = venv / "bin" / "python"
    # this environment's pip installs into the new one (--python): no pip to bootstrap there
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "-q"),
            *("--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    )
    installed = {p.name.removesuffix(".py") for p in site.iterdir()}
    assert "xsell" in installed
    assert not installed & {"models", "config", "streams"}
    # The dependencies: this environment's site-packages as a plain path entry after the
    # venv's own (a .pth line adds the folder only; the .pth files in it, among them this
    # clone's editable install, do not run).
    (site / "xsell_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = (
        "import importlib.util\n"
        "import xsell.models.events, xsell.config.settings, xsell.streams.app\n"
        "for module in (xsell.models.events, xsell.config.settings, xsell.streams.app):\n"
        f"    assert module.__file__.startswith({str(site)!r}), module.__file__\n"
        "for name in ('models', 'config', 'streams'):\n"
        "    assert importlib.util.find_spec(name) is None, name\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    result = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    command = subprocess.run(
        [str(venv / "bin" / "xsell"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert command.returncode == 0, command.stderr
    assert "worker" in command.stdout


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
