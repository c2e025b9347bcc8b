"""Every dependency in pyproject.toml has a lower and an upper bound, and requirements-dev.lock
(what CI installs, `make lock` writes it) pins each of the runtime and dev dependencies to a
version within those bounds: a bound changed without relocking fails here, not in CI's install.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
LOCKED = ("dependencies", "dev")  # what .ci/setup installs from the lock


def requirements(group: str) -> list[Requirement]:
    texts = PROJECT[group] if group == "dependencies" else PROJECT["optional-dependencies"][group]
    return [Requirement(text) for text in texts]


def lock_pins() -> dict[str, list[str]]:
    """Name -> the versions the lock pins (one per platform fork, usually one)."""
    pins: dict[str, list[str]] = {}
    text = (REPO / "requirements-dev.lock").read_text()
    for name, version in re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, re.MULTILINE):
        pins.setdefault(canonicalize_name(name), []).append(version)
    return pins


GROUPS = ["dependencies", *PROJECT["optional-dependencies"]]


@pytest.mark.parametrize("group", GROUPS)
def test_every_dependency_has_a_lower_and_an_upper_bound(group: str) -> None:
    for req in requirements(group):
        operators = {spec.operator for spec in req.specifier}
        assert operators & {">=", ">", "~=", "=="}, f"{req}: no lower bound"
        assert operators & {"<", "<=", "~=", "=="}, f"{req}: no upper bound"


@pytest.mark.parametrize("group", LOCKED)
def test_the_lock_pins_each_dependency_within_its_bounds(group: str) -> None:
    pins = lock_pins()
    for req in requirements(group):
        versions = pins.get(canonicalize_name(req.name))
        assert versions, f"{req.name} is not in requirements-dev.lock: run `make lock`"
        for version in versions:
            assert req.specifier.contains(version, prereleases=True), (
                f"requirements-dev.lock pins {req.name}=={version}, outside {req.specifier}: "
                "run `make lock`"
            )


def test_the_lock_is_installed_with_hashes() -> None:
    text = (REPO / "requirements-dev.lock").read_text()
    pinned = re.findall(r"^[A-Za-z0-9._-]+==", text, re.MULTILINE)
    assert pinned and text.count("--hash=sha256:") >= len(pinned)
    assert (
        "pip install -q --disable-pip-version-check -r requirements-dev.lock"
        in (REPO / ".ci" / "setup").read_text()
    )
