"""Notification triggers end to end: a real broker, Redis and a worker with durations of
seconds. Each test has its own users; they share one worker (starting one takes seconds)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from tests.conftest import require_shared_data, stack_env
from tests.helpers import catalogue_size, run, wait_until
from tests.integration.notify_stack import NotifyStack
from xsell.devenv.servers import LocalBroker, LocalRedis
from xsell.models.notify_policy import CART_ABANDONED, notification_id
from xsell.notify.views import notification_counts
from xsell.ops.orders_csv import ONLINE_RETAIL_MAP, ONLINE_RETAIL_SKIP, load_orders
from xsell.store import Store

pytestmark = pytest.mark.integration
SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/schemas/notification.schema.json").read_text()
)
CATALOG = [
    {"type": "item", "item_id": i, "category": i, "price": 10.0, "stock": 50}
    for i in ("phone", "case", "screen", "cable", "bag", "laptop")
]
HISTORY = [["phone", "case"], ["phone", "case", "screen"], ["phone", "screen"], ["laptop", "bag"]]
# a quiet window that is now on the wall clock of UTC+12 (Etc/GMT-12) and not in UTC
FAR = "Etc/GMT-12"
LOCAL_HOUR = (datetime.now(UTC).hour + 12) % 24
QUIET = f"{LOCAL_HOUR:02d}:00-{(LOCAL_HOUR + 2) % 24:02d}:00"
FAR_ZONE = ZoneInfo(FAR)
REPLAY_ARGS = ("--map", ONLINE_RETAIL_MAP, "--skip-items", ONLINE_RETAIL_SKIP)


@pytest.fixture(scope="module")
def stack(broker: LocalBroker, redis_server: LocalRedis) -> Iterator[NotifyStack]:
    env = stack_env(
        broker,
        redis_server,
        XSELL_NOTIFY_CHANNELS="push,email",
        XSELL_NOTIFY_CAPS="push=1/8,email=1/86400",
        XSELL_NOTIFY_QUIET_HOURS=QUIET,
        XSELL_NOTIFY_TTL_SECONDS="10800",
    )
    s = NotifyStack(env)
    for item in CATALOG:
        s.bus.send("catalog", item["item_id"], item)
    wait_until(lambda: catalogue_size(s.settings) == len(CATALOG), 60, "the catalogue applied")
    for n, items in enumerate(HISTORY):  # long ago: learned from, nothing scheduled
        s.buy(f"h{n}", f"buyer{n}", items, ts=1_700_000_000 + n)
    s.profile("probe", consent={"push": True})
    s.add("probe-1", "probe", "laptop")
    s.wait_for(lambda: s.of("probe"), 60, "the worker to be up")
    yield s
    s.stop()
    for worker in s.workers:
        assert "Traceback" not in worker.log_text(), worker.log_text()[-4000:]


def test_abandoned_cart_notifies_once_with_the_carts_complements(stack: NotifyStack) -> None:
    stack.profile("u1", consent={"push": True}, timezone="Asia/Ho_Chi_Minh")
    stack.add("u1-1", "u1", "cable")
    stack.add("u1-2", "u1", "phone")  # moves it: due 2 s after this one
    (message,) = stack.wait_for(lambda: stack.of("u1"), 30, "u1's notification")
    jsonschema.Draft202012Validator(SCHEMA).validate(message)
    assert message["notification_id"] == notification_id(CART_ABANDONED, "c", "u1-2")
    assert message["reason"] == CART_ABANDONED and message["channel"] == "push"
    assert message["trigger"] == {"type": "add_to_cart", "event_id": "u1-2", "item_ids": ["phone"]}
    offered = [o["item_id"] for o in message["items"]]
    assert offered[0] == "case" and not {"phone", "cable"} & set(offered)
    stack.poll(3)
    assert len(stack.of("u1")) == 1
    assert stack.decisions("u1") == [("sent", None)]
    # a redelivered trigger makes no second notification
    stack.add("u1-2", "u1", "phone")
    stack.poll(4)
    assert len(stack.of("u1")) == 1


def test_an_abandoned_cart_lists_the_recently_viewed_items_and_views_move_nothing(
    stack: NotifyStack,
) -> None:
    stack.profile("viewer", consent={"push": True})
    for n, item in enumerate(("phone", "bag", "laptop")):
        stack.view(f"viewer-v{n}", "viewer", item)
    stack.add("viewer-1", "viewer", "phone")
    stack.view(
        "viewer-v3", "viewer", "case"
    )  # a view is no cart activity: the add stays the trigger
    (message,) = stack.wait_for(lambda: stack.of("viewer"), 30, "viewer's notification")
    jsonschema.Draft202012Validator(SCHEMA).validate(message)
    assert message["trigger"] == {
        "type": "add_to_cart",
        "event_id": "viewer-1",
        "item_ids": ["phone"],
    }
    assert message["recently_viewed"] == ["case", "laptop", "bag"]  # newest first, not the cart


def test_a_purchase_cancels_the_abandoned_cart(stack: NotifyStack) -> None:
    stack.profile("u2", consent={"email": True})
    stack.add("u2-1", "u2", "phone")
    stack.buy("u2-o1", "u2", ["phone"])
    (message,) = stack.wait_for(lambda: stack.of("u2"), 30, "u2's post-purchase notification")
    assert message["reason"] == "post_purchase" and message["channel"] == "email"
    assert "phone" not in [o["item_id"] for o in message["items"]]
    assert sorted(stack.decisions("u2")) == [("sent", None), ("suppressed", "purchased")]
    assert stack.notifications("u2")["decisions"][0]["channel"] in ("email", None)


def test_no_consent_no_message_and_an_emptied_cart_cancels(stack: NotifyStack) -> None:
    stack.add("u3-1", "u3", "phone")  # no profile: no consent
    stack.profile("u4", consent={"push": True, "email": False})
    stack.profile("u4", timezone="Europe/Berlin")  # absent fields keep their value
    stack.add("u4-1", "u4", "phone")
    # in-process: the 2 s abandonment delay is shorter than a CLI process takes on a busy
    # machine, and the removal must come after the notification is pending
    stack.wait_for(lambda: stack.pending("u4"), 30, "u4's pending")
    stack.remove("u4-2", "u4", "phone")
    stack.wait_for(lambda: stack.decisions("u3"), 30, "u3's decision")
    assert stack.decisions("u3") == [("suppressed", "consent")]
    assert stack.decisions("u4") == [("suppressed", "empty")]
    stack.poll(1)
    assert not stack.of("u3") and not stack.of("u4")


def test_a_cap_defers_while_fresh_and_drops_past_expiry(stack: NotifyStack) -> None:
    stack.profile("u5", consent={"push": True})  # push: 1 per 8 s
    stack.profile("u6", consent={"email": True})  # email: 1 per day, longer than the TTL
    for user in ("u5", "u6"):
        stack.add(f"{user}-1", user, "phone")
    stack.wait_for(lambda: stack.of("u5") and stack.of("u6"), 30, "the first notifications")
    for user in ("u5", "u6"):
        stack.buy(f"{user}-o1", user, ["screen"])
    second = stack.wait_for(lambda: stack.of("u5")[1:], 40, "u5's deferred notification")
    first = stack.of("u5")[0]
    assert second[0]["reason"] == "post_purchase"
    assert datetime.fromisoformat(second[0]["send_at"]) >= datetime.fromisoformat(
        first["created_at"]
    )
    assert stack.decisions("u5") == [("sent", None), ("deferred", "cap"), ("sent", None)]
    assert stack.decisions("u6") == [("sent", None), ("suppressed", "cap")]
    assert len(stack.of("u6")) == 1


def test_quiet_hours_defer_to_the_users_morning(stack: NotifyStack) -> None:
    stack.profile("u7", consent={"push": True}, timezone=FAR)
    stack.add("u7-1", "u7", "phone")
    stack.wait_for(lambda: stack.decisions("u7"), 30, "u7's decision")
    seen = stack.notifications("u7")
    assert [(d["decision"], d["why"]) for d in seen["decisions"]] == [("deferred", "quiet_hours")]
    (pending,) = seen["pending"]
    assert pending["notification_id"] == notification_id(CART_ABANDONED, "c", "u7-1")
    assert pending["channel"] == "push"
    end = datetime.fromisoformat(pending["send_at"]).astimezone(FAR_ZONE)
    assert (end.hour, end.minute) == ((LOCAL_HOUR + 2) % 24, 0)
    assert not stack.of("u7")


def test_forget_user_cancels_pending_and_erases_the_policy_state(stack: NotifyStack) -> None:
    stack.profile("u8", consent={"push": True}, timezone=FAR)
    stack.add("u8-1", "u8", "phone")  # held by the quiet hours
    stack.wait_for(lambda: stack.notifications("u8")["pending"], 30, "u8's pending")
    forget = {"event_id": "f-u8", "type": "forget_user", "user_id": "u8", "ts": time.time()}
    stack.bus.send("orders", "u8", forget)
    stack.wait_for(lambda: not stack.notifications("u8")["pending"], 30, "u8 forgotten")
    assert stack.decisions("u8") == [("suppressed", "forgotten")]

    async def profile() -> dict[str, str]:
        store = await Store.open(stack.settings)
        try:
            (fields,) = await store.runner.run([("HGETALL", f"{store.keys.ns}:{{u:u8}}:np")])
            return dict(fields)
        finally:
            await store.close()

    assert run(profile()) == {}


def test_orders_while_one_is_pending_join_it_one_notification_for_all(
    stack: NotifyStack,
) -> None:
    """20 purchases by one user -> one pending post-purchase notification, whose content (the
    trigger's items, the offers) reflects all 20 orders. Dated 15 s ahead, so the pending one
    can be looked at before it is due."""
    stack.profile("u9", consent={"push": True})
    bought = ["phone", "case", *(f"u9-x{n}" for n in range(2, 20))]
    start = time.time() + 15
    before = run(counts(stack)).get("merged:post_purchase", 0)
    for n, item in enumerate(bought):
        stack.buy(f"u9-o{n}", "u9", [item], ts=start + n / 100)
    stack.wait_for(
        lambda: run(counts(stack)).get("merged:post_purchase", 0) - before == 19,
        30,
        "19 orders to join the first one's notification",
    )
    (pending,) = stack.notifications("u9")["pending"]
    assert pending["reason"] == "post_purchase"
    assert pending["trigger"]["event_id"] == "u9-o0"
    (message,) = stack.wait_for(lambda: stack.of("u9"), 60, "u9's post-purchase notification")
    jsonschema.Draft202012Validator(SCHEMA).validate(message)
    assert message["trigger"]["item_ids"] == bought  # every order, oldest first
    offered = {o["item_id"] for o in message["items"]}
    assert offered and not offered & set(bought)  # ranked from all of them, none offered back
    assert "screen" in offered  # the phone's complement the user has not bought
    stack.buy("u9-o5", "u9", ["u9-x5"], ts=start + 0.05)  # a redelivered order: nothing new
    stack.poll(3)
    assert len(stack.of("u9")) == 1
    assert stack.decisions("u9") == [("sent", None)]
    assert stack.notifications("u9")["pending"] == []


def test_replayed_history_sends_nothing(stack: NotifyStack, tmp_path: Path) -> None:
    source = require_shared_data()
    head = tmp_path / "head.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8") as src, gzip.open(head, "wt") as out:
        for n, line in enumerate(src):
            if n > 3000:
                break
            out.write(line)
    orders, _ = load_orders(str(head), ONLINE_RETAIL_MAP, ONLINE_RETAIL_SKIP, stack.settings.limits)
    of_users = sum(1 for o in orders if o.user_id is not None)
    before = run(counts(stack))
    done = subprocess.run(
        [sys.executable, "-m", "xsell.cli", "replay", str(head), "--json", *REPLAY_ARGS],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **stack.env},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["orders"] == len(orders) and of_users > 50
    stack.wait_for(
        lambda: (
            run(counts(stack)).get("stale:post_purchase", 0) - before.get("stale:post_purchase", 0)
            == of_users
        ),
        120,
        "the replay to be processed",
    )
    after = run(counts(stack))
    assert after.get("scheduled:post_purchase", 0) == before.get("scheduled:post_purchase", 0)
    users = {k for k, _ in stack.seen}
    # the replayed history notifies nobody: only the users the other tests played are seen
    assert users <= {"probe", "viewer", *(f"u{n}" for n in range(1, 10))}


async def counts(stack: NotifyStack) -> dict[str, Any]:
    store = await Store.open(stack.settings)
    try:
        return await notification_counts(store)
    finally:
        await store.close()
