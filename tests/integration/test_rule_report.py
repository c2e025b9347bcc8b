"""What a merchant rule's offers did, end to end: a rule pins an item nobody bought with a
phone; through the API, the broker, a worker and Redis, the report credits the pinned item's
acceptance and revenue to the rule (and the other offers to "no rule"), exactly once on
redelivery, in `/v1/report`, `xsell report` (table and --json) and the dashboard's data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import stack_env
from tests.integration.api_stack import SECRET, ApiStack
from xsell.devenv.servers import LocalBroker, LocalRedis

pytestmark = pytest.mark.integration
T0 = 1_700_000_000
CATALOG = [
    {"type": "item", "item_id": "phone", "category": "phone", "price": 500.0, "stock": 10},
    {"type": "item", "item_id": "case", "category": "case", "price": 20.0, "stock": 100},
    {"type": "item", "item_id": "charger", "category": "charger", "price": 30.0, "stock": 100},
    {"type": "item", "item_id": "cable", "category": "cable", "price": 15.0, "stock": 100},
]
HISTORY = [["phone", "case"], ["phone", "case", "charger"], ["phone", "charger"]] * 3


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    api = ApiStack(stack_env(broker, redis_server, XSELL_AB_HOLDOUT_PERCENT="0"))
    orders = [
        {
            "event_id": f"h{n}",
            "type": "purchase",
            "order_id": f"h{n}",
            "user_id": f"hist{n}",
            "ts": T0 + n,
            "items": [{"item_id": i, "price": 1.0} for i in items],
        }
        for n, items in enumerate(HISTORY)
    ]
    assert api.post("/v1/events", [*CATALOG, *orders]).status_code == 202
    for n in range(len(HISTORY)):
        api.wait_latest(f"hist{n}", f"h{n}", "post_purchase")
    yield api
    api.stop()


def send(stack: ApiStack, event: dict[str, Any], placement: str = "cart") -> dict[str, Any]:
    assert stack.post("/v1/events", event).status_code == 202
    return stack.wait_latest(event["user_id"], event["event_id"], placement)


def add(eid: str, user: str, item: str, ts: float) -> dict[str, Any]:
    return {"event_id": eid, "type": "add_to_cart", "user_id": user, "item_id": item, "ts": ts}


def buy(eid: str, user: str, lines: list[tuple[str, float, int]], ts: float) -> dict[str, Any]:
    items = [{"item_id": i, "price": p, "quantity": q} for i, p, q in lines]
    return {"event_id": eid, "type": "purchase", "order_id": eid, "user_id": user, "ts": ts,
            "items": items}  # fmt: skip


def by_rule(offers: list[dict[str, Any]], rule_id: str) -> list[str]:
    return [o["item_id"] for o in offers if (o["because"] or {}).get("rule_id") == rule_id]


def test_a_rules_offers_are_credited_to_the_rule_exactly_once(stack: ApiStack) -> None:
    made = stack.post(
        "/v1/rules",
        {"name": "cable with phones", "priority": 5,
         "when": {"placements": ["cart"], "items": ["phone"]}, "then": {"pin": ["cable"]}},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    rule_id = made.json()["rule_id"]
    time.sleep(1.5)  # every process sees the new version within XSELL_RULES_REFRESH_SECONDS
    t = T0 + 1000
    # alice adds a phone: the cable is pinned (the rule's), a case offered (xsell's)
    first = send(stack, add("a1", "alice", "phone", t))
    assert by_rule(first["items"], rule_id) == ["cable"], first["items"]
    assert "case" in [o["item_id"] for o in first["items"]]
    messages = [first, send(stack, add("a2", "alice", "cable", t + 5))]
    messages.append(send(stack, add("a3", "alice", "case", t + 6)))
    order = buy("a-order", "alice", [("phone", 500.0, 1), ("cable", 15.0, 2), ("case", 20.0, 1)],
                t + 10)  # fmt: skip
    messages.append(send(stack, order, "post_purchase"))
    offered = sum(len(by_rule(m["items"], rule_id)) for m in messages)
    assert offered >= 1

    def ruled(rep: dict[str, Any]) -> dict[Any, dict[str, Any]]:
        return {(r["rule_id"], r["variant"]): r for r in rep["rules"]}

    deadline = time.monotonic() + 30
    rep = stack.get("/v1/report").json()
    while time.monotonic() < deadline and not (
        ruled(rep).get((rule_id, "default"), {}).get("attributed_revenue")
        and rep["variants"].get("default", {}).get("orders", 0) >= 1
        and ruled(rep).get((None, "default"), {}).get("attributed_revenue")
    ):
        time.sleep(0.2)
        rep = stack.get("/v1/report").json()
    mine = ruled(rep)[(rule_id, "default")]
    assert mine["name"] == "cable with phones"
    assert mine["offered"] == offered
    assert mine["accepted"] == 1  # the cable, once (added, then bought)
    assert mine["attributed_revenue"] == 30.0  # 2 x 15
    assert mine["acceptance_rate"] == round(1 / offered, 6)
    rest = ruled(rep)[(None, "default")]
    rows = [r for r in rep["rows"] if r["variant"] == "default"]
    assert rest["offered"] == sum(r["offered"] for r in rows) - offered
    assert rest["accepted"] == sum(r["accepted"] for r in rows) - 1
    assert rest["attributed_revenue"] == 20.0  # the case, xsell's own offer
    assert rest["name"] is None
    assert all(not r["placement"].startswith("rule:") for r in rep["rows"])

    # redelivered events and messages change nothing
    before = json.dumps(rep, sort_keys=True)
    assert stack.post("/v1/events", order).status_code == 202
    assert stack.post("/v1/events", add("a2", "alice", "cable", t + 5)).status_code == 202
    time.sleep(1.5)
    again = stack.get("/v1/report").json()
    assert json.dumps(again, sort_keys=True) == before

    cli = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "report", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **stack.env},
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["rules"] == again["rules"]
    table = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "report"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **stack.env},
    ).stdout
    lines = table.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("offers per merchant rule"))
    block = [line.strip() for line in lines[start + 1 :] if line and not line.startswith("test:")]
    assert block[0].split()[:3] == ["rule", "name", "variant"], table
    assert any(line.startswith(rule_id) and "cable with phones" in line for line in block), table
    assert any(line.startswith("(no rule)") for line in block), table

    # the rule deleted: its figures stay, without a name
    assert (
        stack.http.delete(
            f"/v1/rules/{rule_id}", headers={"Authorization": f"Bearer {SECRET}"}
        ).status_code
        == 200
    )
    gone = ruled(stack.get("/v1/report").json())[(rule_id, "default")]
    assert gone["name"] is None and gone["accepted"] == 1


def signed_in(stack: ApiStack) -> dict[str, str]:
    answer = stack.http.post(
        "/dashboard/login",
        content=f"key={SECRET}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    stack.http.cookies.clear()  # sent only where a test passes it
    return {"xsell_dashboard": answer.cookies["xsell_dashboard"]}


def test_the_console_routes_run_the_rules_api_behind_the_dashboards_session(
    stack: ApiStack,
) -> None:
    http = stack.http
    signed = httpx.Client(base_url=stack.api.url, cookies=signed_in(stack), timeout=30)
    assert http.get("/dashboard/rules", follow_redirects=False).status_code == 303
    assert http.get("/dashboard/rules/list.json").status_code == 401
    rule = {"name": "cases", "then": {"promote": {"tag": "promoted", "slots": 1}}}
    assert http.post("/dashboard/rules/list.json", json=rule).status_code == 401
    assert stack.post("/dashboard/rules/list.json", rule).status_code == 401  # a key is no session
    page = signed.get("/dashboard/rules")
    assert page.status_code == 200 and "/dashboard/assets/rules.js" in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script
    assert http.get("/dashboard/assets/rules.js").status_code == 200
    # the API's reasons, as /v1/rules gives them
    bad = signed.post("/dashboard/rules/list.json", json={**rule, "then": {"pin": list("abcd")}})
    assert bad.status_code == 400 and "pin" in bad.json()["error"], bad.text
    made = signed.post("/dashboard/rules/list.json", json=rule)
    assert made.status_code == 201, made.text
    rule_id = made.json()["rule_id"]
    listed = signed.get("/dashboard/rules/list.json").json()
    assert listed == stack.get("/v1/rules").json()
    assert [r["rule_id"] for r in listed["rules"]] == [rule_id]
    preview = signed.post(
        "/dashboard/rules/preview.json",
        json={"item_ids": ["phone"], "rule": {"name": "u", "then": {"pin": ["cable"]}}},
    )
    assert preview.status_code == 200, preview.text
    first = preview.json()["with_rules"][0]
    assert first["item_id"] == "cable" and first["because"]["rule_id"] == "preview"
    without = preview.json()["without_rules"]
    assert without[0]["item_id"] != "cable"  # the learned ranking: a case or a charger first
    assert not [o for o in without if (o["because"] or {}).get("rule_id")]
    gone = signed.delete(f"/dashboard/rules/list.json/{rule_id}")
    assert gone.status_code == 200 and gone.json()["version"] > made.json()["version"]
    again = signed.delete(f"/dashboard/rules/list.json/{rule_id}")
    assert again.status_code == 404 and rule_id in again.json()["error"]
    # the dashboard's data holds the per-rule rows of the report
    data = signed.get("/dashboard/data.json").json()
    assert any(r["rule_id"] is None for r in data["report"]["rules"]), data["report"]["rules"]
    signed.close()
