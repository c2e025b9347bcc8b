"""The replenishment notification on a real Redis (xsell/notify/replenish.py): an order of a
known user schedules one replenish, a later order moves it; once due, the sender publishes the
user's due rebuys (kind rebuy, with the explanation); with none due yet it moves to when one
is (``not_due_yet``) and drops it when none will be (``not_due``); with the setting off nothing
is scheduled."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.helpers import run
from xsell.config.settings import Settings
from xsell.engine import Engine
from xsell.models.events import OrderLine, PurchaseEvent
from xsell.notify.scheduler import Scheduler
from xsell.notify.sender import Sender
from xsell.notify.views import notification_counts, user_notifications
from xsell.store import Store

pytestmark = pytest.mark.integration

DAY = 86400.0
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "notification.schema.json"


def _order(oid: str, user: str | None, ts: float, *items: str) -> PurchaseEvent:
    return PurchaseEvent(oid, oid, user, ts, tuple(OrderLine(i) for i in items))


def _shop(t0: float) -> list[PurchaseEvent]:
    """20 shoppers buy coffee every 10 days (with a camera the first time): coffee is
    repeatable (60 rebuys of 80 purchases), the camera a durable."""
    return [
        _order(
            f"s{u}-{v}", f"s{u}", t0 + v * 10 * DAY + u, *(["coffee", "camera"][: 2 - min(v, 1)])
        )
        for u in range(20)
        for v in range(4)
    ]


def _settings(make_settings: Callable[..., Settings], **extra: Any) -> Settings:
    return make_settings(
        followed_window_days=30,
        self_tuning=False,
        notify_quiet_hours="",
        notify_caps="",
        notify_default_consent="push",
        notify_ttl_seconds=5 * DAY,
        **extra,
    )


def test_due_rebuys_are_notified_and_nothing_due_is_dropped(
    make_settings: Callable[..., Settings],
) -> None:
    settings = _settings(make_settings, notify_replenish=True, notify_replenish_seconds=11 * DAY)
    sent: list[tuple[str, bytes]] = []

    async def publish(messages: Sequence[tuple[str, bytes]]) -> None:
        sent.extend(messages)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            now = time.time()
            engine = Engine(store, settings)
            await engine.process(_shop(now - 80 * DAY))
            mine = [
                _order("me-1", "me", now - 12 * DAY, "coffee"),  # coffee's cycle: 10 days
                _order("nd-1", "notdue", now - 12 * DAY, "camera"),  # a durable: never due
                _order("mv-1", "mover", now - 20 * DAY, "coffee"),
                _order("mv-2", "mover", now - 12 * DAY, "camera"),  # moves mover's replenish
            ]
            late = [_order("g-1", None, now - 60, "camera")]  # the state's clock: now
            await engine.process([*mine, *late])
            scheduler = Scheduler(store, settings)
            await scheduler.schedule([*mine, *late], now)
            for user, trigger in (("me", "me-1"), ("notdue", "nd-1"), ("mover", "mv-2")):
                pending = (await user_notifications(store, settings, user))["pending"]
                # post_purchase: already expired (stale); one replenish, the latest order's
                assert [(p["reason"], p["trigger"]["event_id"]) for p in pending] == [
                    ("replenish", trigger)
                ]
            await scheduler.schedule([mine[2]], now)  # a redelivered order moves nothing
            pending = (await user_notifications(store, settings, "mover"))["pending"]
            assert [p["trigger"]["event_id"] for p in pending] == ["mv-2"]

            sender = Sender(engine, publish)
            assert await sender.tick(now) == 3
            by_user = {k.decode() if isinstance(k, bytes) else k: json.loads(v) for k, v in sent}
            assert sorted(by_user) == ["me", "mover"]
            validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
            for message in by_user.values():
                validator.validate(message)
                assert message["reason"] == "replenish"
                assert [(o["item_id"], o["kind"]) for o in message["items"]] == [
                    ("coffee", "rebuy")
                ]
            assert by_user["me"]["items"][0]["because"]["rebuy"] == {
                "every_days": 10,
                "last_days": 11,
            }
            assert by_user["mover"]["trigger"]["event_id"] == "mv-2"
            log = (await user_notifications(store, settings, "notdue"))["decisions"]
            assert [(d["decision"], d.get("why")) for d in log] == [("suppressed", "not_due")]
            counts = await notification_counts(store)
            assert counts["sent:replenish:push"] == 2
            assert counts["suppressed:replenish:not_due"] == 1
            assert counts["pending"] == 0
            assert await sender.tick(now + 60) == 0
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_nothing_due_yet_moves_the_look_in_to_the_due_time(
    make_settings: Callable[..., Settings],
) -> None:
    settings = _settings(
        make_settings,
        notify_replenish=True,
        notify_replenish_seconds=2 * DAY,  # the look-in: 2 days after the order
        notify_post_purchase_seconds=30 * DAY,  # out of the way
    )
    sent: list[tuple[str, bytes]] = []

    async def publish(messages: Sequence[tuple[str, bytes]]) -> None:
        sent.extend(messages)

    async def replenish(store: Store, user: str) -> list[dict[str, Any]]:
        pending = (await user_notifications(store, settings, user))["pending"]
        return [p for p in pending if p["reason"] == "replenish"]

    async def go() -> None:
        store = await Store.open(settings)
        try:
            now = time.time()
            bought = now - 2 * DAY
            engine = Engine(store, settings)
            await engine.process(_shop(now - 80 * DAY))
            mine = [
                _order("cf-1", "coffee", bought, "coffee"),  # due at day 8 (0.8 x 10 days)
                _order("cm-1", "camera", bought, "camera"),  # a durable: never due
            ]
            late = [_order("g-1", None, now - 60, "camera")]  # the state's clock: now - 60
            await engine.process([*mine, *late])
            await Scheduler(store, settings).schedule([*mine, *late], now)
            (first,) = await replenish(store, "coffee")

            sender = Sender(engine, publish)
            assert await sender.tick(now) == 2
            assert sent == []
            (moved,) = await replenish(store, "coffee")
            assert moved["notification_id"] == first["notification_id"]
            due = _epoch(moved["send_at"])
            assert abs(due - (bought + 8 * DAY)) < 120  # the wait, on the state's clock
            assert abs(_epoch(moved["expires_at"]) - (due + 5 * DAY)) < 1  # a fresh expiry
            log = (await user_notifications(store, settings, "coffee"))["decisions"]
            assert [(d["decision"], d.get("why")) for d in log] == [("deferred", "not_due_yet")]
            assert log[0]["send_at"] == moved["send_at"]
            log = (await user_notifications(store, settings, "camera"))["decisions"]
            assert [(d["decision"], d.get("why")) for d in log] == [("suppressed", "not_due")]
            assert await replenish(store, "camera") == []
            counts = await notification_counts(store)
            assert counts["deferred:replenish:not_due_yet"] == 1
            assert counts["suppressed:replenish:not_due"] == 1
            assert await sender.tick(now + DAY) == 0  # not yet

            await engine.process([_order("g-2", None, due, "camera")])  # the clock reaches it
            assert await sender.tick(due + 1) == 1
            (message,) = [json.loads(v) for _, v in sent]
            jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(message)
            assert (message["user_id"], message["reason"]) == ("coffee", "replenish")
            assert message["notification_id"] == first["notification_id"]
            assert [(o["item_id"], o["kind"]) for o in message["items"]] == [("coffee", "rebuy")]
            assert message["items"][0]["because"]["rebuy"] == {"every_days": 10, "last_days": 8}
            assert (await notification_counts(store))["sent:replenish:push"] == 1
            assert await replenish(store, "coffee") == []
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())


def test_off_by_default_nothing_is_scheduled(make_settings: Callable[..., Settings]) -> None:
    settings = _settings(make_settings)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            now = time.time()
            order = _order("me-1", "me", now - 60, "coffee")
            await Engine(store, settings).process([order])
            await Scheduler(store, settings).schedule([order], now)
            pending = (await user_notifications(store, settings, "me"))["pending"]
            assert [p["reason"] for p in pending] == ["post_purchase"]
            assert "scheduled:replenish" not in await notification_counts(store)
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())
