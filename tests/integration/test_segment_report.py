"""What the offers did per shopper segment, end to end: through the API, the broker, a worker
and Redis, a new shopper's offers and first order count in ``new``, the same shopper's next
ones, once they are a returning big spender, in ``returning`` and ``spend:high``; exactly once
on redelivery, in `/v1/report` and `xsell report` (table and --json)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import stack_env
from tests.integration.api_stack import ApiStack
from tests.integration.test_rule_report import CATALOG, HISTORY, T0, add, buy, send
from xsell.devenv.servers import LocalBroker, LocalRedis

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    api = ApiStack(stack_env(broker, redis_server, XSELL_AB_HOLDOUT_PERCENT="0"))
    orders = [  # nine first orders of new shoppers, 21.0 in all
        buy(f"h{n}", f"hist{n}", [(i, 1.0, 1) for i in items], T0 + n)
        for n, items in enumerate(HISTORY)
    ]
    assert api.post("/v1/events", [*CATALOG, *orders]).status_code == 202
    for n in range(len(HISTORY)):
        api.wait_latest(f"hist{n}", f"h{n}", "post_purchase")
    yield api
    api.stop()


def segments(rep: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["dimension"], r["segment"]): r for r in rep["segments"] if r["variant"] == "default"}


def offered_to(messages: list[dict[str, Any]], lifecycle: str) -> int:
    return sum(len(m["items"]) for m in messages if m["segment"]["lifecycle"] == lifecycle)


def test_offers_and_orders_count_in_the_shoppers_segment_exactly_once(stack: ApiStack) -> None:
    t = T0 + 1000
    first = send(stack, add("b1", "bob", "phone", t))
    assert first["segment"] == {"lifecycle": "new", "spend": None}
    assert "case" in [o["item_id"] for o in first["items"]], first["items"]
    messages = [first, send(stack, add("b2", "bob", "case", t + 5))]
    messages.append(
        send(stack, buy("b-o1", "bob", [("phone", 500.0, 1), ("case", 20.0, 1)], t + 10),
             "post_purchase")
    )  # fmt: skip
    # one order of 520 among ten shoppers who spent 2 or 3: bob is a returning big spender
    again = send(stack, add("b3", "bob", "phone", t + 60))
    assert again["segment"] == {"lifecycle": "returning", "spend": "high"}, again["segment"]
    assert "charger" in [o["item_id"] for o in again["items"]], again["items"]
    messages.append(again)
    second = buy("b-o2", "bob", [("charger", 30.0, 1)], t + 70)
    messages.append(send(stack, second, "post_purchase"))

    # the nine other shoppers' suggestions after their first orders: returning shoppers'
    messages += [
        stack.get(f"/v1/users/hist{n}/suggestions?placement=post_purchase").json()
        for n in range(len(HISTORY))
    ]
    assert all(m["segment"]["lifecycle"] == "returning" for m in messages[-9:])
    deadline = time.monotonic() + 30
    rep = stack.get("/v1/report").json()
    while time.monotonic() < deadline and not (
        segments(rep).get(("spend", "high"), {}).get("orders")
        and segments(rep).get(("spend", "high"), {}).get("attributed_revenue")
    ):
        time.sleep(0.2)
        rep = stack.get("/v1/report").json()
    seg = segments(rep)
    new = seg[("lifecycle", "new")]
    assert new["offered"] == offered_to(messages, "new") > 0
    assert new["accepted"] == 1 and new["attributed_revenue"] == 20.0  # the case
    assert new["orders"] == 10 and new["revenue"] == 541.0  # every first order: 21 + 520
    assert new["aov"] == 54.1
    assert new["aov_vs_control"] == {k: None for k in new["aov_vs_control"]}  # no holdout
    returning = seg[("lifecycle", "returning")]
    assert returning["offered"] == offered_to(messages, "returning") > 0
    assert returning["accepted"] == 1 and returning["attributed_revenue"] == 30.0  # the charger
    assert returning["orders"] == 1 and returning["aov"] == 30.0
    high = seg[("spend", "high")]
    assert {k: high[k] for k in ("accepted", "attributed_revenue", "orders", "revenue")} == {
        "accepted": 1.0, "attributed_revenue": 30.0, "orders": 1, "revenue": 30.0}  # fmt: skip
    for tier in ("low", "mid", "high"):  # each message's offers in its spend tier
        want = sum(len(m["items"]) for m in messages if m["segment"]["spend"] == tier)
        assert seg.get(("spend", tier), {}).get("offered", 0) == want, tier
        if tier != "high":  # first orders are a new shopper's: no tier
            assert seg.get(("spend", tier), {}).get("orders", 0) == 0
    assert ("lifecycle", "loyal") not in seg
    assert all(not r["placement"].startswith(("seg:", "spend:")) for r in rep["rows"])
    total = rep["variants"]["default"]
    assert total["orders"] == 11 and total["revenue"] == 571.0

    # redelivered events change nothing
    before = json.dumps(rep, sort_keys=True)
    assert stack.post("/v1/events", second).status_code == 202
    assert stack.post("/v1/events", add("b2", "bob", "case", t + 5)).status_code == 202
    time.sleep(1.5)
    assert json.dumps(stack.get("/v1/report").json(), sort_keys=True) == before

    env = {**os.environ, **stack.env}
    cli = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "report", "--json"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["segments"] == rep["segments"]
    table = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "report"],
        capture_output=True, text=True, timeout=60, env=env,
    ).stdout  # fmt: skip
    lines = table.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("per shopper segment"))
    assert lines[start + 1].split()[:3] == ["dimension", "segment", "variant"], table
    assert lines[start + 2].split()[:5] == ["lifecycle", "new", "default",
                                            str(int(new["offered"])), "1"], table  # fmt: skip


@pytest.fixture(scope="module")
def holdout(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    api = ApiStack(stack_env(broker, redis_server, XSELL_AB_HOLDOUT_PERCENT="50"))
    yield api
    api.stop()


def test_each_segments_aov_is_compared_with_the_holdouts_in_the_segment(
    holdout: ApiStack,
) -> None:
    """Sixteen first orders, half the shoppers held out: the ``new`` rows split them by variant
    as the variants' own totals do, and the variant's AOV is set against the control group's
    in the segment."""
    orders = [buy(f"x{n}", f"shopper{n}", [("case", 10.0 + n, 1)], T0 + n) for n in range(16)]
    assert holdout.post("/v1/events", [*CATALOG, *orders]).status_code == 202
    deadline = time.monotonic() + 30
    rep = holdout.get("/v1/report").json()
    while time.monotonic() < deadline and sum(v["orders"] for v in rep["variants"].values()) < len(
        orders
    ):
        time.sleep(0.2)
        rep = holdout.get("/v1/report").json()
    new = {r["variant"]: r for r in rep["segments"] if r["segment"] == "new"}
    assert set(new) == {"control", "default"}, rep["segments"]
    for name, row in new.items():  # every order a first one: the variant's totals
        assert row["orders"] == rep["variants"][name]["orders"] >= 2
        assert row["revenue"] == rep["variants"][name]["revenue"]
    assert new["control"]["aov_vs_control"] is None
    vs = new["default"]["aov_vs_control"]
    assert vs["ratio"] == pytest.approx(new["default"]["aov"] / new["control"]["aov"], abs=1e-5)
    assert vs["low"] < vs["ratio"] < vs["high"] and 0 < vs["p_value"] <= 1
    assert vs == rep["comparisons"][0]["aov"]  # here the segment holds every order
