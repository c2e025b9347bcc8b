"""The notification scheduler on a Redis Cluster of three masters: every script keeps to one
slot (a schedule shard or a user), so scheduling, claiming, sending, cancelling, forgetting and
`xsell notifications` work there as on a single Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import pytest
from redis.cluster import key_slot

from tests.helpers import run
from xsell.config.settings import load_settings
from xsell.devenv.redis_cluster import LocalRedisCluster
from xsell.engine import Engine
from xsell.models.events import CartEvent, OrderLine, PurchaseEvent
from xsell.notify.scheduler import Scheduler, forget
from xsell.notify.sender import Sender
from xsell.notify.views import notification_counts, user_notifications
from xsell.store import Store
from xsell.store.notifications.calls import NotifyCalls
from xsell.store.notifications.keys import NotifyKeys

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRedisCluster]:
    with LocalRedisCluster() as started:
        yield started


def test_shard_and_user_keys_share_their_slot() -> None:
    keys = NotifyKeys("xs")
    for shard in keys.shards():
        assert len({key_slot(k.encode()) for k in shard.all()}) == 1
    user = keys.user("a{b}%c")
    assert len({key_slot(k.encode()) for k in [*user.all(), "xs:{u:a%7Bb%7D%25c}:cart"]}) == 1
    assert len({key_slot(s.due.encode()) for s in keys.shards()}) == len(keys.shards())


def test_the_scheduler_on_a_cluster(cluster: LocalRedisCluster) -> None:
    settings = load_settings(
        redis_url=cluster.url,
        redis_cluster=True,
        key_namespace="ncl",
        half_life_days=0,
        notify_quiet_hours="",
        notify_caps="",
    )
    sent: list[tuple[str, bytes]] = []

    async def publish(messages: Sequence[tuple[str, bytes]]) -> None:
        sent.extend(messages)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            engine = Engine(store, settings)
            history = [
                PurchaseEvent(f"h{n}", f"h{n}", f"b{n}", 1e9 + n, (OrderLine("a"), OrderLine("b")))
                for n in range(5)
            ]
            await engine.process(history)
            calls = NotifyCalls(settings.redis.key_namespace)
            users = [f"user{n}" for n in range(24)]
            await store.runner.run(
                [c for u in users for c in calls.profile_update(u, "Europe/Paris", {"push": True})]
            )
            past = time.time() - settings.notify.abandon_seconds - 5
            carts = [CartEvent(f"c{u}", "add_to_cart", u, "a", past) for u in users]
            await engine.process(carts)
            scheduler = Scheduler(store, settings)
            await scheduler.schedule(carts)
            pending = await user_notifications(store, settings, "user0")
            assert [p["reason"] for p in pending["pending"]] == ["cart_abandoned"]
            order = PurchaseEvent("o1", "o1", "user1", past + 1, (OrderLine("z"),))
            await engine.process([order])
            await scheduler.schedule([order])  # cancels user1's, schedules post_purchase
            assert await forget(store, settings, "user2") == 1
            sender = Sender(engine, publish)
            assert await sender.tick() == 22
            assert {k for k, _ in sent} == set(users) - {"user1", "user2"}
            assert all(b'"item_id":"b"' in v for _, v in sent)
            counts = await notification_counts(store)
            assert counts["sent:cart_abandoned:push"] == 22
            assert counts["suppressed:cart_abandoned:purchased"] == 1
            assert counts["pending"] == 1  # user1's post_purchase, due tomorrow
            log = (await user_notifications(store, settings, "user2"))["decisions"]
            assert [(d["decision"], d["why"]) for d in log] == [("suppressed", "forgotten")]
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())


def test_a_replenishment_on_a_cluster(cluster: LocalRedisCluster) -> None:
    day = 86400.0
    settings = load_settings(
        redis_url=cluster.url,
        redis_cluster=True,
        key_namespace="ncr",
        half_life_days=0,
        followed_window_days=30,
        self_tuning=False,
        notify_quiet_hours="",
        notify_caps="",
        notify_default_consent="push",
        notify_ttl_seconds=5 * day,
        notify_replenish=True,
        notify_replenish_seconds=11 * day,
    )
    sent: list[tuple[str, bytes]] = []

    async def publish(messages: Sequence[tuple[str, bytes]]) -> None:
        sent.extend(messages)

    async def go() -> None:
        store = await Store.open(settings)
        try:
            now = time.time()
            engine = Engine(store, settings)
            t0 = now - 80 * day
            await engine.process(
                [
                    PurchaseEvent(f"s{u}{v}", f"s{u}{v}", f"s{u}", t0 + v * 10 * day + u, lines)
                    for u in range(12)
                    for v, lines in enumerate([(OrderLine("tea"),)] * 4)
                ]
            )
            mine = [
                PurchaseEvent("m1", "m1", "me", now - 12 * day, (OrderLine("tea"),)),
                PurchaseEvent("m2", "m2", "you", now - 12 * day, (OrderLine("cup"),)),
                PurchaseEvent("g1", "g1", None, now - 60, (OrderLine("cup"),)),
            ]
            await engine.process(mine)
            await Scheduler(store, settings).schedule(mine, now)
            assert await Sender(engine, publish).tick(now) == 2
            assert [k for k, _ in sent] == ["me"]
            assert b'"reason":"replenish"' in sent[0][1] and b'"kind":"rebuy"' in sent[0][1]
            counts = await notification_counts(store)
            assert counts["suppressed:replenish:not_due"] == 1
        finally:
            await store.flush_namespace()
            await store.close()

    run(go())
