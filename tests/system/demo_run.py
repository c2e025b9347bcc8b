"""`xsell demo` as a subprocess for the browser tests: the addresses, key and `export` lines
it prints, and its stop (by PID) at the end."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"


@contextmanager
def running_demo(seconds: int = 240) -> Iterator[dict[str, Any]]:
    """``page``, ``api``, ``dashboard``, ``key`` and ``env`` (the settings of its `export`
    lines) of a demo playing five events a second."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XSELL_")}
    env.update(XSELL_KAFKA_SESSION_TIMEOUT="3", XSELL_KAFKA_HEARTBEAT_INTERVAL="0.5")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xsell.cli", "demo", "--seconds", str(seconds), "--rate", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True
    ).start()
    seen: list[str] = []
    found: dict[str, Any] = {"env": {}}
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert proc.poll() is None, "".join(seen)[-3000:]
                continue
            seen.append(line)
            match = re.match(r"\s+export (XSELL_[A-Z_]+)=(\S+)$", line)
            if match:
                found["env"][match.group(1)] = match.group(2)
            match = re.match(r"demo shop: (\S+)/ .*API (\S+),", line)
            if match:
                found.update(page=match.group(1), api=match.group(2))
            match = re.match(r"dashboard: (\S+) .*secret key (\S+);", line)
            if match:
                found.update(dashboard=match.group(1), key=match.group(2))
            if len(found) == 5:
                yield found
                break
        else:
            pytest.fail("the demo printed no shop address:\n" + "".join(seen)[-3000:])
    finally:
        proc.terminate()
        proc.wait(60)


def page_config(page: str) -> dict[str, Any]:
    text = httpx.get(page + "/config.js", timeout=10).text
    return dict(json.loads(text.split("=", 1)[1].strip().rstrip(";")))


def phone_offered_a_case(config: dict[str, Any]) -> str:
    """A phone of the catalogue whose top offers hold a case (asked from the API, as a page
    may, with the public key)."""
    categories = {i["item_id"]: i["category"] for i in config["catalog"]}
    for item_id, category in categories.items():
        if category != "phone":
            continue
        answer = httpx.get(
            f"{config['api']}/v1/items/{item_id}/complements",
            headers={"Authorization": f"Bearer {config['key']}"},
            timeout=10,
        )
        offered = [categories.get(o["item_id"]) for o in answer.json()["items"]]
        if "phone-case" in offered:
            return item_id
    raise AssertionError("no phone is offered a case")


def hosts(browser: Any) -> set[str]:
    """The origins of every resource the page loaded."""
    urls = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return {re.match(r"https?://[^/]+", url).group(0) for url in urls}  # type: ignore[union-attr]
