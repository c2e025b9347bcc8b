"""``xsell notifications USER_ID`` and the notification counters of ``xsell status``."""

from __future__ import annotations

import json
import time
from typing import Any

from config.settings import Settings
from models.notify_policy import choose_channel, consented
from xsell.notify.messages import rfc3339
from xsell.store.backend.client import Call
from xsell.store.core.apply import Store
from xsell.store.notifications.calls import LOG_KEEP, Job, NotifyCalls, profile_of, sends_of


async def user_notifications(
    store: Store, settings: Settings, user: str, now: float | None = None
) -> dict[str, Any]:
    """The user's pending notifications (soonest first; ``channel``: the one it would go on
    now, null when none is consented or uncapped) and recent decisions (newest first)."""
    now = time.time() if now is None else now
    policy = settings.notify_policy
    calls = NotifyCalls(settings.key_namespace)
    shard, keys = calls.keys.shard_for(user), calls.keys.user(user)
    (listed,) = await store.runner.run([("HGET", shard.users, user)])
    ids = str(listed).split() if listed else []
    reads: list[Call] = [("HMGET", shard.jobs, *ids)] if ids else []
    reads += [*calls.read_user(user), ("LRANGE", keys.log, 0, LOG_KEEP - 1)]
    replies = await store.runner.run(reads)
    jobs = [Job.from_json(j) for j in (replies[0] if ids else []) if j]
    profile, sends, _, entries = replies[-4:]
    channels = consented(policy, profile_of(profile))
    channel, _ = choose_channel(policy, channels, sends_of(sends), now)
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
    shards = NotifyCalls(store.settings.key_namespace).keys.shards()
    replies = await store.runner.run(
        [c for s in shards for c in (("HGETALL", s.stats), ("HLEN", s.jobs))]
    )
    counts: dict[str, int] = {"pending": 0}
    for stats, pending in zip(replies[::2], replies[1::2], strict=True):
        counts["pending"] += int(pending)
        for name, value in stats.items():
            counts[name] = counts.get(name, 0) + int(value)
    return dict(sorted(counts.items()))


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
