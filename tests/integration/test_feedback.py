"""Feedback, attribution and the holdout end to end: a scripted population with known prices
and choices, through the API, the broker, a worker and Redis, gives exactly the report's
counts and revenue; holdout users get empty offers; redelivered events change nothing."""

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
from tests.integration.api_stack import PUBLIC, SECRET, ApiStack
from xsell.devenv.servers import LocalBroker, LocalRedis
from xsell.models.experiments import CONTROL, variant_of

pytestmark = pytest.mark.integration
T0 = 1_700_000_000
CATALOG = [
    {"type": "item", "item_id": "phone", "category": "phone", "price": 500.0, "stock": 10},
    {"type": "item", "item_id": "case", "category": "case", "price": 20.0, "stock": 100},
    {"type": "item", "item_id": "charger", "category": "charger", "price": 30.0, "stock": 100},
]
HISTORY = [["phone", "case"], ["phone", "case", "charger"], ["phone", "charger"]] * 3


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[ApiStack]:
    api = ApiStack(stack_env(broker, redis_server, XSELL_AB_HOLDOUT_PERCENT="50"))
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


def pick(settings: Any, variant: str, prefix: str) -> str:
    """A user id that the experiment puts in ``variant``."""
    experiment = settings.running_experiment
    return next(
        f"{prefix}{n}" for n in range(1000) if variant_of(experiment, f"{prefix}{n}") == variant
    )


def add(
    stack: ApiStack, eid: str, user: str, item: str, ts: float, suggestion: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": eid,
        "type": "add_to_cart",
        "user_id": user,
        "item_id": item,
        "ts": ts,
    }
    if suggestion:
        event["suggestion_id"] = suggestion
    assert stack.post("/v1/events", event).status_code == 202
    return stack.wait_latest(user, eid)


def buy(
    stack: ApiStack, eid: str, user: str, lines: list[tuple[str, float, float]], ts: float
) -> None:
    event = {
        "event_id": eid,
        "type": "purchase",
        "order_id": eid,
        "user_id": user,
        "ts": ts,
        "items": [{"item_id": i, "price": p, "quantity": q} for i, p, q in lines],
    }
    assert stack.post("/v1/events", event).status_code == 202
    stack.wait_latest(user, eid, "post_purchase")


def feedback(
    stack: ApiStack, eid: str, kind: str, suggestion: str, user: str, item: str | None, ts: float
) -> None:
    event = {
        "event_id": eid,
        "type": kind,
        "suggestion_id": suggestion,
        "user_id": user,
        "ts": ts,
        **({"item_id": item} if item else {}),
    }
    assert stack.post("/v1/events", event).status_code == 202


def report_until(stack: ApiStack, done: Any, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        rep = stack.get("/v1/report").json()
        if done(rep) or time.monotonic() > deadline:
            return dict(rep)
        time.sleep(0.2)


def row(rep: dict[str, Any], placement: str, variant: str) -> dict[str, Any]:
    return next(r for r in rep["rows"] if (r["placement"], r["variant"]) == (placement, variant))


def test_a_scripted_population_gives_exactly_the_reports_figures(stack: ApiStack) -> None:
    settings = stack.settings
    alice = pick(settings, "default", "alice")
    bob = pick(settings, CONTROL, "bob")
    carol = pick(settings, "default", "carol")
    t = T0 + 1000

    # alice is offered a case for her phone, sees it, clicks it, adds it, buys both
    offer = add(stack, "a1", alice, "phone", t)
    assert offer["variant"] == "default"
    assert "case" in [o["item_id"] for o in offer["items"]]
    sid = offer["suggestion_id"]
    feedback(stack, "a-imp", "impression", sid, alice, None, t + 1)
    feedback(stack, "a-imp-again", "impression", sid, alice, None, t + 2)  # counts once
    feedback(stack, "a-click", "click", sid, alice, "case", t + 3)
    add(stack, "a2", alice, "case", t + 4)  # implicit: the latest offer of the case
    buy(stack, "a-order", alice, [("phone", 500.0, 1), ("case", 20.0, 2)], t + 5)

    # bob is held out: an empty offer, but his order counts for control
    held = add(stack, "b1", bob, "phone", t)
    assert held["variant"] == CONTROL and held["items"] == []
    buy(stack, "b-order", bob, [("phone", 500.0, 1)], t + 5)

    # carol adds the charger naming alice's suggestion (explicit), which did not offer it
    # to her: no credit; then her own offer's charger, explicitly
    own = add(stack, "c1", carol, "phone", t)
    offered = [o["item_id"] for o in own["items"]]
    extra = next(i for i in ("charger", "case") if i in offered)
    add(stack, "c2", carol, extra, t + 10, suggestion=sid)  # not hers: implicit credit
    buy(stack, "c-order", carol, [("phone", 500.0, 1), (extra, 10.0, 1)], t + 20)
    # a purchase outside the window credits nothing: dave's offer is two days old
    dave = pick(settings, "default", "dave")
    add(stack, "d1", dave, "phone", t)
    buy(stack, "d-order", dave, [("case", 20.0, 1)], t + 2 * 86400)

    # the history's orders count too, each in its buyer's variant (lines at 1.0 each)
    experiment = settings.running_experiment
    past = {
        name: [
            items for n, items in enumerate(HISTORY) if variant_of(experiment, f"hist{n}") == name
        ]
        for name in ("default", CONTROL)
    }

    def complete(rep: dict[str, Any]) -> bool:
        v = rep.get("variants", {})
        return v.get("default", {}).get("orders") == 3 + len(past["default"]) and v.get(
            CONTROL, {}
        ).get("orders") == 1 + len(past[CONTROL])

    rep = report_until(stack, complete)
    cart = row(rep, "cart", "default")
    assert cart["suggestions"] == 5  # a1, a2, c1, c2, d1
    assert cart["impressions"] == 1 and cart["clicks"] == 1 and cart["ctr"] == 1.0
    assert cart["accepted"] == 2  # alice's case, carol's extra item
    assert cart["attributed_revenue"] == 50.0  # 2 x 20 + 1 x 10
    control = row(rep, "cart", CONTROL)
    assert control["suggestions"] == 1 and control["offered"] == 0 and control["accepted"] == 0
    history = {name: float(sum(len(items) for items in past[name])) for name in past}
    assert rep["variants"]["default"]["revenue"] == 540 + 510 + 20 + history["default"]
    assert rep["variants"][CONTROL]["revenue"] == 500.0 + history[CONTROL]
    assert rep["variants"]["default"]["aov"] == pytest.approx(
        (1070 + history["default"]) / (3 + len(past["default"]))
    )
    (comparison,) = rep["comparisons"]
    assert comparison["variant"] == "default" and comparison["against"] == CONTROL

    # redelivery changes nothing: the same purchase and feedback again, under the same ids
    before = json.dumps(rep, sort_keys=True)
    buy(stack, "a-order", alice, [("phone", 500.0, 1), ("case", 20.0, 2)], t + 5)
    feedback(stack, "a-click", "click", sid, alice, "case", t + 3)
    add(stack, "a2", alice, "case", t + 4)
    time.sleep(1.0)
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
    assert json.loads(cli.stdout)["rows"] == again["rows"]


def test_the_dashboard_needs_a_secret_key_then_serves_its_data(stack: ApiStack) -> None:
    http = stack.http
    first = http.get("/dashboard", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/dashboard/login"
    assert http.get("/dashboard/data.json").status_code == 401
    wrong = http.post(
        "/dashboard/login",
        content=f"key={PUBLIC}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "not a secret API key" in wrong.text
    right = http.post(
        "/dashboard/login",
        content=f"key={SECRET}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    session = right.cookies["xsell_dashboard"]
    page = http.get("/dashboard", cookies={"xsell_dashboard": session})
    assert page.status_code == 200 and "/dashboard/assets/uPlot.iife.min.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
    data = http.get("/dashboard/data.json", cookies={"xsell_dashboard": session}).json()
    assert set(data) == {"at", "minutes", "report", "today", "notifications", "top_pairs"}
    assert len(data["minutes"]) == 60 and data["top_pairs"]
    assert any(m["events_per_s"] > 0 for m in data["minutes"])
    forged = session[:-4] + "AAAA"
    assert http.get("/dashboard/data.json", cookies={"xsell_dashboard": forged}).status_code == 401
    asset = http.get("/dashboard/assets/uPlot.iife.min.js")
    assert asset.status_code == 200 and len(asset.content) > 40_000
    assert stack.get("/v1/report", key=PUBLIC).status_code == 403
