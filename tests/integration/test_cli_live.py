"""Commands against a real Redis with the broker down, and the figures `xsell status` shows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xsell.devenv.servers import LocalRedis

pytestmark = pytest.mark.integration


def xsell(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xsell.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_status_with_the_broker_down_answers_at_once_and_says_so_once(
    redis_server: LocalRedis, tmp_path: Path
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,item_id,ts\n1,a,2024-01-01T00:00:00Z\n1,b,2024-01-01T00:00:00Z\n"
        "2,a,2024-01-31T00:00:00Z\n2,c,2024-01-31T00:00:00Z\n"
    )
    env = {
        "XSELL_REDIS_URL": redis_server.url,
        "XSELL_KEY_NAMESPACE": "status-cli",
        "XSELL_KAFKA_BROKERS": "127.0.0.1:1",
        "XSELL_HALF_LIFE_DAYS": "30",
    }
    assert xsell("backfill", str(orders), env=env).returncode == 0
    started = time.monotonic()
    result = xsell("status", "--json", env=env)
    assert time.monotonic() - started < 10
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["kafka"] == "Kafka unreachable at 127.0.0.1:1: [Errno 111] Connection refused"
    assert status["kafka_orders_topic_has_records"] is None
    assert result.stderr.count("Kafka unreachable") <= 1
    # two orders 30 days apart, half-life 30 days: 1 + 0.5 at the latest event, not the
    # landmark-scaled stored total
    assert status["orders"] == 1.5
    assert status["orders_unit"].startswith("orders, each weighted 2^(-age / 30 days)")
    assert status["latest_event"] == "2024-01-31T00:00:00Z"


def test_backfill_and_status_print_for_people(redis_server: LocalRedis, tmp_path: Path) -> None:
    """Backfill's first line is the wall time of the whole command (it said 8.18 s for a
    21.8 s run: the file's reading was left out); status prints no dict reprs."""
    from xsell.devenv.synthetic_shop import Shop, make_catalog, write_orders_csv

    catalog = make_catalog(seed=4)
    orders = tmp_path / "orders.csv"
    write_orders_csv(orders, Shop(catalog, seed=4).orders(3000, seed=4), catalog)
    env = {
        "XSELL_REDIS_URL": redis_server.url,
        "XSELL_KEY_NAMESPACE": "text-cli",
        "XSELL_KAFKA_BROKERS": "127.0.0.1:1",
    }
    started = time.monotonic()
    result = xsell("backfill", str(orders), env=env)
    outside = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    head = result.stdout.splitlines()[0]
    match = re.fullmatch(
        r"backfill: 3,000 orders in ([\d.]+) s \(reading the file ([\d.]+) s, loading ([\d.]+) s\)",
        head,
    )
    assert match, result.stdout
    wall, read, load = (float(g) for g in match.groups())
    assert read + load <= wall + 0.02 <= outside + 0.02  # the whole command, within the run
    assert "{" not in result.stdout and "=" not in result.stdout
    status = xsell("status", "--no-kafka", env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("state: present")
    assert "{" not in status.stdout and "'" not in status.stdout, status.stdout
    assert re.search(r"^  items: +[\d,]+$", status.stdout, re.M), status.stdout


def test_support_offers_complements_of_what_a_customer_owns(
    redis_server: LocalRedis, tmp_path: Path
) -> None:
    orders = tmp_path / "orders.csv"
    rows = ["order_id,item_id,user_id,ts,price"]
    for n in range(4):  # a and b bought together by others
        rows += [
            f"{n},a,o{n},2024-01-0{n + 1}T00:00:00Z,10",
            f"{n},b,o{n},2024-01-0{n + 1}T00:00:00Z,5",
        ]
    rows += [f"{n},c,o{n},2024-01-0{n + 1}T00:00:00Z,3" for n in range(2)]
    rows += [f"9{n},a,sam,2024-01-2{n}T00:00:00Z,10" for n in range(3)]  # sam: a, three times
    orders.write_text("\n".join(rows) + "\n")
    env = {
        "XSELL_REDIS_URL": redis_server.url,
        "XSELL_KEY_NAMESPACE": "support-cli",
        "XSELL_KAFKA_BROKERS": "127.0.0.1:1",
    }
    assert xsell("backfill", str(orders), env=env).returncode == 0
    result = xsell("support", "sam", "--json", env=env)
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["owned"] == ["a"] and view["segment"]["lifecycle"] == "loyal"
    assert [o["item_id"] for o in view["items"]] == ["b", "c"]
    assert all(o["because"]["item_id"] == "a" for o in view["items"])
    text = xsell("support", "sam", env=env).stdout
    assert "user sam: loyal" in text and "b: goes with a (owned)" in text
    nobody = xsell("support", "nobody", env=env).stdout
    assert "user nobody: new, spend -" in nobody and "no purchase history" in nobody
