"""``xsell notifications USER_ID`` and the notification counters of ``xsell status``."""

from __future__ import annotations

import json
import time
from typing import Any

from xsell.config.settings import Settings
from xsell.models.notify_policy import choose_channel, consented
from xsell.notify.messages import rfc3339
from xsell.store import Store


async def user_notifications(
    store: Store, settings: Settings, user: str, now: float | None = None
) -> dict[str, Any]:
    """The user's pending notifications (soonest first; ``channel``: the one it would go on
    now, null when none is consented or uncapped) and recent decisions (newest first)."""
    now = time.time() if now is None else now
    policy = settings.notify.policy
    held = await store.notifications.of_user(user)
    jobs, entries = held.pending, held.decisions
    channels = consented(policy, held.state.profile)
    channel, _ = choose_channel(policy, channels, held.state.sends, now)
    pending = [
        {
            "notification_id": job.notification_id,
            "reason": job.reason,
            "channel": channel,
            "send_at": rfc3339(job.send_at),
            "expires_at": rfc3339(job.expires_at),
            "trigger": job.trigger,
        }
        for job in sorted(jobs, key=lambda j: (j.send_at, j.notification_id))
    ]
    return {"user_id": user, "pending": pending, "decisions": [json.loads(e) for e in entries]}


async def notification_counts(store: Store) -> dict[str, int]:
    """Counters summed over the schedule shards (``scheduled:REASON``, ``sent:REASON:CHANNEL``,
    ``deferred:REASON:WHY``, ``suppressed:REASON:WHY``, ``stale:REASON``) and ``pending``."""
    return await store.notifications.counts()


def decision_text(entry: dict[str, Any]) -> str:
    """One decision for people."""
    parts = [entry["at"], entry["notification_id"], entry["reason"], entry["decision"]]
    if entry.get("why"):
        parts.append(entry["why"])
    if entry.get("channel"):
        parts.append(f"on {entry['channel']}")
    if entry.get("send_at"):
        parts.append(f"until {entry['send_at']}")
    if entry.get("items"):
        parts.append("items " + ",".join(entry["items"]))
    return "  " + " ".join(parts)
