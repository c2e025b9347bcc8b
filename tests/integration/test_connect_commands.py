"""The connectors' commands against real servers: `xsell catalog load` sends each feed format to
the catalog topic of a real broker; `xsell connect check` signs a sample and gets a running
API's answer (a real `xsell api` process, worker and Redis)."""

from __future__ import annotations

import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import stack_env
from tests.helpers import Bus
from tests.integration.api_stack import ApiStack
from xsell.config.strength import new_secret
from xsell.devenv.servers import LocalBroker, LocalRedis

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "connect"
ANY_PRICE = "price: expected a number, got 'cheap'"


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    env = stack_env(broker, redis_server, XSELL_SHOPIFY_WEBHOOK_SECRET=new_secret())
    api = ApiStack(env)  # WooCommerce off
    yield api
    api.stop()
    assert "Traceback" not in api.api.log_text(), api.api.log_text()[-3000:]


@pytest.fixture(scope="module")
def bus(stack: ApiStack) -> Iterator[Bus]:
    reader = Bus(stack.settings)
    yield reader
    reader.close()


def xsell(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "items"),
    [
        ("feed.xml", ["TSHIRT-S", "MUG-1"]),
        ("shopify_products.csv", ["TS-S", "TS-M", "plain-mug"]),
    ],
)
def test_catalog_load_sends_the_feed_to_the_catalog_topic(
    stack: ApiStack, bus: Bus, name: str, items: list[str]
) -> None:
    done = xsell("catalog", "load", str(FIXTURES / name), env=stack.env)
    assert done.returncode == 0, done.stderr
    assert f"{len(items)} item(s) sent to {stack.settings.topic('catalog')}" in done.stdout
    # keyed by item id: partitions, so no order between items
    assert sorted(r["item_id"] for r in bus.collect("catalog", len(items))) == sorted(items)


def test_catalog_load_reports_refused_rows_and_unknown_formats(stack: ApiStack) -> None:
    done = xsell("catalog", "load", str(FIXTURES / "catalog.csv"), "--json", env=stack.env)
    summary = json.loads(done.stdout)
    assert (summary["format"], summary["sent"]) == ("csv", 3)
    assert summary["refused"] == [["line 5", "item_id: missing"], ["line 6", ANY_PRICE]]
    unknown = xsell("catalog", "load", str(FIXTURES / "README.md"), env=stack.env)
    assert unknown.returncode == 1 and "give --format" in unknown.stderr


def next_item(bus: Bus, item_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """The next catalog record of ``item_id`` (other items' records are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        (record,) = bus.collect("catalog", 1, timeout=max(0.1, deadline - time.monotonic()))
        if record["item_id"] == item_id:
            return record


def test_catalog_load_watch_sends_the_file_again_when_it_changes(
    stack: ApiStack, bus: Bus, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"item_id": "W-1", "price": 10.0}) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "xsell.cli", "catalog", "load", str(feed), "--watch", "--json"],
        env={**os.environ, **stack.env, "XSELL_CONNECT_FEED_POLL_SECONDS": "0.2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert next_item(bus, "W-1")["price"] == 10.0
        changed = [{"item_id": "W-1", "price": 12.5}, {"item_id": "W-2", "category": "mug"}]
        feed.write_text("".join(json.dumps(r) + "\n" for r in changed))
        assert next_item(bus, "W-1")["price"] == 12.5  # the new version, sent again
        assert next_item(bus, "W-2")["category"] == "mug"
        assert proc.poll() is None  # still watching
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    loads = [json.loads(line) for line in out.splitlines()]
    assert [load["sent"] for load in loads] == [1, 2]  # at start, then once for the change
    refused = xsell("catalog", "load", str(feed), "--every", "5", env=stack.env)
    assert refused.returncode != 0 and "--every needs --watch" in refused.stderr


def test_connect_check_sends_a_signed_sample(stack: ApiStack) -> None:
    done = xsell("connect", "check", "shopify", "--url", stack.api.url, env=stack.env)
    assert done.returncode == 0, done.stderr
    assert "(customers/data_request, signed): 200" in done.stdout
    assert json.loads(done.stdout.splitlines()[1])["export"]["user_id"] == "xsell-connect-check"
    off = xsell("connect", "check", "woocommerce", "--url", stack.api.url, env=stack.env)
    assert off.returncode == 1
    assert "XSELL_WOOCOMMERCE_WEBHOOK_SECRET is not set" in off.stderr
    wrong = {**stack.env, "XSELL_SHOPIFY_WEBHOOK_SECRET": new_secret()}
    refused = xsell("connect", "check", "shopify", "--url", stack.api.url, env=wrong)
    assert refused.returncode == 1 and ": 401" in refused.stdout


@pytest.fixture
def feed_server(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server of tmp_path (the shop's own feed URL)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_catalog_load_reads_a_feed_url(
    stack: ApiStack, bus: Bus, feed_server: str, tmp_path: Path
) -> None:
    """The format from the URL's path, the records to the catalog topic; a URL that answers
    404, or a body over XSELL_CONNECT_FEED_MAX_BYTES, is an error and sends nothing."""
    lines = [{"item_id": f"url-{k}", "price": 2.5, "category": "mugs"} for k in range(3)]
    (tmp_path / "feed.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    done = xsell("catalog", "load", f"{feed_server}/feed.jsonl?v=2", "--json", env=stack.env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sent"] == 3
    assert sorted(r["item_id"] for r in bus.collect("catalog", 3)) == ["url-0", "url-1", "url-2"]
    missing = xsell("catalog", "load", f"{feed_server}/gone.jsonl", env=stack.env)
    assert missing.returncode != 0 and "answered 404" in missing.stderr
    small = {**stack.env, "XSELL_CONNECT_FEED_MAX_BYTES": "1024"}
    (tmp_path / "big.jsonl").write_text(json.dumps(lines[0]) + "\n" + " " * 2000 + "\n")
    big = xsell("catalog", "load", f"{feed_server}/big.jsonl", env=small)
    assert big.returncode != 0 and "XSELL_CONNECT_FEED_MAX_BYTES" in big.stderr
    (tmp_path / "last.jsonl").write_text(json.dumps({"item_id": "url-last", "price": 1}) + "\n")
    assert xsell("catalog", "load", f"{feed_server}/last.jsonl", env=stack.env).returncode == 0
    # the next record on the topic is the last load's: the refused loads sent nothing
    assert [r["item_id"] for r in bus.collect("catalog", 1)] == ["url-last"]
