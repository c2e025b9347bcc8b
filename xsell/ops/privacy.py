"""Forgetting a user on request (``xsell forget-user ID``; docs/security.md).

Deletes the user's cart and purchase history from Redis through the store (the same effect as
a ``forget_user`` event on the orders topic) and sends a tombstone (key = user id, value =
null) to the suggestions topic, which removes the user's suggestions from a compacted topic.
Co-purchase counts hold no user ids and stay.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from xsell.config.settings import Settings
from xsell.kafka_clients import send_tombstone
from xsell.models.events import ForgetUser
from xsell.models.validate import parse_record
from xsell.notify.scheduler import forget as forget_notifications
from xsell.store import Store


def forget_event(settings: Settings, user_id: str, now: float | None = None) -> ForgetUser:
    """A validated forget_user event for ``user_id`` (rejects ids the worker would reject)."""
    now = time.time() if now is None else now
    digest = hashlib.sha256(f"{user_id}\x00{now!r}".encode()).hexdigest()[:24]
    raw = json.dumps(
        {"event_id": f"forget-{digest}", "type": "forget_user", "user_id": user_id, "ts": now}
    )
    limits = settings.limits
    event = parse_record("orders", raw.encode(), limits)
    assert isinstance(event, ForgetUser)
    return event


async def forget_in_redis(store: Store, event: ForgetUser) -> int:
    """Apply ``event``; returns how many of the user's keys existed before."""
    existed = await store.privacy.held_records(event.user_id)
    await store.apply([event])
    await forget_notifications(store, store.settings, event.user_id)  # pending + policy state
    return existed


def forget_user(settings: Settings, user_id: str, *, tombstone: bool = True) -> dict[str, Any]:
    """Forget ``user_id`` in Redis, then (unless ``tombstone`` is False) on the suggestions
    topic. Returns what was done."""
    event = forget_event(settings, user_id)

    async def run() -> int:
        store = await Store.open(settings)
        try:
            return await forget_in_redis(store, event)
        finally:
            await store.close()

    deleted = asyncio.run(run())
    partition = send_tombstone(settings, event.user_id) if tombstone else None
    return {
        "user_id": event.user_id,
        "event_id": event.event_id,
        "deleted_keys": deleted,
        "tombstone_topic": settings.topic("suggestions") if tombstone else None,
        "tombstone_partition": partition,
    }
