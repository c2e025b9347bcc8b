"""`xsell rules` against a real Redis: add a file, list, preview with and without, rm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run
from xsell.config.settings import load_settings
from xsell.devenv.servers import LocalRedis
from xsell.models.events import CatalogItem, OrderLine, PurchaseEvent
from xsell.store import Store

pytestmark = pytest.mark.integration


def xsell(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xsell.cli", "rules", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def seed(env: dict[str, str]) -> None:
    settings = load_settings(redis_url=env["XSELL_REDIS_URL"], key_namespace="rules-cli")
    events = [
        CatalogItem("phone", category="phone", price=500.0),
        CatalogItem("case", category="case", price=20.0),
        CatalogItem("cable", category="cable", price=9.0, tags=("overstock",)),
        *(
            PurchaseEvent(f"o{n}", f"o{n}", None, 1e9 + n, (OrderLine("phone"), OrderLine(i)))
            for n, i in enumerate(["case", "case", "cable"])
        ),
    ]

    async def go() -> None:
        store = await Store.open(settings)
        try:
            await store.apply(events)
        finally:
            await store.close()

    run(go())


def test_rules_commands(redis_server: LocalRedis, tmp_path: Path) -> None:
    env = {"XSELL_REDIS_URL": redis_server.url, "XSELL_KEY_NAMESPACE": "rules-cli"}
    seed(env)
    rule = {"name": "boost overstock", "then": {"boost": [{"tag": "overstock", "factor": 10}]}}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([rule, {**rule, "name": "hide cases", "then": {"hide": ["case"]}}]))
    added = xsell("add", str(path), env=env)
    assert added.returncode == 0, added.stderr
    assert "(version 2)" in added.stdout
    listed = json.loads(xsell("list", "--json", env=env).stdout)
    assert listed["version"] == 2 and len(listed["rules"]) == 2
    shown = json.loads(xsell("preview", "phone", "--json", env=env).stdout)
    assert [o["item_id"] for o in shown["without_rules"]][:2] == ["case", "cable"]
    assert [o["item_id"] for o in shown["with_rules"]] == ["cable"]
    hide = next(r["rule_id"] for r in listed["rules"] if r["name"] == "hide cases")
    assert xsell("rm", hide, env=env).returncode == 0
    again = json.loads(xsell("preview", "phone", "--json", env=env).stdout)
    assert [o["item_id"] for o in again["with_rules"]][:2] == ["cable", "case"]
    missing = xsell("rm", hide, env=env)
    assert missing.returncode != 0 and "no rule" in missing.stderr
    path.write_text(json.dumps({**rule, "then": {"pin": ["a", "b", "c", "d"]}}))
    bad = xsell("add", str(path), env=env)
    assert bad.returncode != 0 and "rule 0: then.pin" in bad.stderr, bad.stderr
