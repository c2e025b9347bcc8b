"""The Redis calls of the notification scheduler: which script, keys and arguments, and the
readings of what they return. Pure builders, as calls.py: the scheduler decides when to send
them (xsell/notify/)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from xsell.models.notify_policy import CHANNELS, Profile
from xsell.store.backend.client import Call
from xsell.store.backend.scripts import LuaScript, number_arg
from xsell.store.notifications.keys import NotifyKeys, ShardKeys
from xsell.store.notifications.lua import (
    NOTIFY_CART,
    NOTIFY_CLAIM,
    NOTIFY_DEFER,
    NOTIFY_FINISH,
    NOTIFY_FORGET,
    NOTIFY_PREPARE,
    NOTIFY_PURCHASE,
    NOTIFY_RECORD_SENT,
)
from xsell.store.notifications.replenish_lua import NOTIFY_REPLENISH

LOG_KEEP = 50  # decisions kept per user
LOG_MIN_SECONDS = 86400  # the decisions list lives at least this long after its last entry


def ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True, slots=True)
class Job:
    """A scheduled notification, as the schedule keeps it (times in epoch seconds)."""

    notification_id: str
    user_id: str
    reason: str
    trigger: dict[str, Any]
    ts: float  # the trigger's event time
    send_at: float  # due time; moved by deferrals
    expires_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Job:
        return cls(**json.loads(text))


@dataclass(frozen=True, slots=True)
class Claimed:
    job: Job
    shard: ShardKeys
    prepared: str | None  # the message stored before an earlier publish, if any


class NotifyCalls:
    """Builds the scheduler's calls for one key namespace."""

    def __init__(self, namespace: str, finished_retention_days: float = 30.0) -> None:
        self.keys = NotifyKeys(namespace)
        # ids of sent or dropped ones are kept this long, like idempotency keys
        self.finished_retention_ms = int(finished_retention_days * 86400 * 1000)

    def cart(self, user: str, ts: float, op: str, job: Job, now: float) -> Call:
        args = [user, number_arg(ts), op, job.notification_id, ms(job.send_at)]
        args += [ms(job.expires_at), ms(now), job.to_json()]
        return (NOTIFY_CART, self.keys.shard_for(user).all(), args)

    def purchase(
        self, user: str, ts: float, job: Job, now: float, script: LuaScript = NOTIFY_PURCHASE
    ) -> Call:
        """NOTIFY_PURCHASE (post_purchase), or ``script`` with the same arguments
        (NOTIFY_REPLENISH)."""
        args = [user, number_arg(ts), job.notification_id, ms(job.send_at)]
        args += [ms(job.expires_at), ms(now), job.to_json()]
        return (script, self.keys.shard_for(user).all(), args)

    def replenish(self, user: str, ts: float, job: Job, now: float) -> Call:
        return self.purchase(user, ts, job, now, NOTIFY_REPLENISH)

    def claim(self, shard: ShardKeys, now: float, lease: float, limit: int, token: str) -> Call:
        return (NOTIFY_CLAIM, shard.all(), [ms(now), ms(lease), limit, token])

    def prepare(self, claimed: Claimed, token: str, message: str) -> Call:
        return (NOTIFY_PREPARE, claimed.shard.all(), [claimed.job.notification_id, token, message])

    def defer(self, claimed: Claimed, token: str, job: Job, counter: str) -> Call:
        args = [job.notification_id, token, ms(job.send_at), job.to_json(), counter]
        return (NOTIFY_DEFER, claimed.shard.all(), args)

    def finish(self, claimed: Claimed, token: str, now: float, counter: str) -> Call:
        job = claimed.job
        args = [
            job.notification_id,
            token,
            job.user_id,
            ms(now),
            self.finished_retention_ms,
            counter,
        ]
        return (NOTIFY_FINISH, claimed.shard.all(), args)

    def forget(self, user: str) -> Call:
        return (NOTIFY_FORGET, self.keys.shard_for(user).all(), [user])

    def erase_user(self, user: str) -> Call:
        return ("DEL", *self.keys.user(user).all())

    def record_sent(
        self,
        job: Job,
        channel: str,
        now: float,
        keep_seconds: float,
        repeat_seconds: float,
        entry: Mapping[str, Any],
        items: Sequence[str],
    ) -> Call:
        k = self.keys.user(job.user_id)
        args: list[Any] = [f"{channel}|{job.notification_id}", ms(now), max(ms(keep_seconds), 1)]
        args += [ms(repeat_seconds), _entry(entry), LOG_KEEP, self.log_ttl(repeat_seconds)]
        return (NOTIFY_RECORD_SENT, [k.sent, k.repeats, k.log], [*args, *items])

    def log(self, user: str, entry: Mapping[str, Any], repeat_seconds: float) -> list[Call]:
        key = self.keys.user(user).log
        return [
            ("LPUSH", key, _entry(entry)),
            ("LTRIM", key, 0, LOG_KEEP - 1),
            ("EXPIRE", key, self.log_ttl(repeat_seconds)),
        ]

    @staticmethod
    def log_ttl(repeat_seconds: float) -> int:
        return max(int(repeat_seconds), LOG_MIN_SECONDS)

    def read_user(self, user: str) -> list[Call]:
        """Profile, sends, repeats: three results (see :func:`profile_of`, :func:`sends_of`)."""
        k = self.keys.user(user)
        return [
            ("HGETALL", k.profile),
            ("ZRANGE", k.sent, 0, -1, "WITHSCORES"),
            ("HGETALL", k.repeats),
        ]

    def profile_update(
        self, user: str, timezone: str | None, consent: Mapping[str, bool]
    ) -> list[Call]:
        fields: list[str] = []
        if timezone is not None:
            fields += ["tz", timezone]
        for channel, given in consent.items():
            fields += [channel, "1" if given else "0"]
        return [("HSET", self.keys.user(user).profile, *fields)] if fields else []


def claimed_of(shard: ShardKeys, reply: Sequence[Any]) -> list[Claimed]:
    """The claims of a NOTIFY_CLAIM reply."""
    return [
        Claimed(Job.from_json(reply[i + 1]), shard, reply[i + 2]) for i in range(0, len(reply), 3)
    ]


def profile_of(fields: Mapping[str, str]) -> Profile:
    consent = {c: fields[c] == "1" for c in CHANNELS if c in fields}
    return Profile(timezone=fields.get("tz"), consent=consent)


def sends_of(flat: Sequence[Any]) -> dict[str, list[float]]:
    """ZRANGE WITHSCORES of the sends zset -> channel -> send times (s). redis-py gives
    (member, score) pairs for WITHSCORES."""
    out: dict[str, list[float]] = {}
    for member, score in _pairs(flat):
        out.setdefault(str(member).split("|", 1)[0], []).append(float(score) / 1000)
    return out


def repeats_of(fields: Mapping[str, str]) -> dict[str, float]:
    return {item: float(v) / 1000 for item, v in fields.items()}


def _pairs(flat: Sequence[Any]) -> Iterable[tuple[Any, Any]]:
    if flat and isinstance(flat[0], list | tuple):
        return [(m, s) for m, s in flat]
    return list(zip(flat[::2], flat[1::2], strict=True))


def _entry(entry: Mapping[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
