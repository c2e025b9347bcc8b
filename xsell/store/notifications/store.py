"""The notification scheduler's room in the store: a typed interface over its keys and scripts
(:mod:`xsell.store.notifications.keys`, :mod:`~xsell.store.notifications.lua`,
:mod:`~xsell.store.notifications.calls`).

Writes that the scheduler or the sender decides for many notifications go into a
:class:`NotificationWrites` batch, named by what they do, and are sent in one round trip by
:meth:`NotificationStore.commit`, so a tick costs what it cost before the store had rooms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xsell.models.notify_policy import Profile
from xsell.store.backend.client import Call, Runner
from xsell.store.core.keys import Keys
from xsell.store.core.segments import attribute_call
from xsell.store.notifications.calls import (
    LOG_KEEP,
    Claimed,
    Job,
    NotifyCalls,
    claimed_of,
    profile_of,
    repeats_of,
    sends_of,
)


@dataclass(frozen=True, slots=True)
class Scheduling:
    """One notification to schedule: a post-purchase (``op`` "purchase"), a replenishment
    (``op`` "replenish") or the abandonment of a cart after its last activity (``op``
    "activity", or "empty" for an emptied cart)."""

    job: Job
    op: str


@dataclass(frozen=True, slots=True)
class Scheduled:
    """What scheduling did: ``outcome`` (scheduled, merged, empty, stale, older, same, done) and the
    id of the pending notification it cancelled or moved (None: none; a replenish: moved)."""

    outcome: str
    cancelled: str | None


@dataclass(frozen=True, slots=True)
class UserPolicyState:
    """What the policy needs of a user: profile, recent sends per channel, recent repeats."""

    profile: Profile
    sends: dict[str, list[float]]
    repeats: dict[str, float]


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """A user's policy state, cart (item -> added at) and purchases (item -> bought at)."""

    state: UserPolicyState
    cart: dict[str, float]
    bought: dict[str, float]


@dataclass(frozen=True, slots=True)
class UserNotifications:
    """``xsell notifications USER``: pending jobs, policy state and recent decisions."""

    pending: list[Job]
    state: UserPolicyState
    decisions: list[str]  # JSON entries, newest first


class NotificationWrites:
    """Writes of one round trip, each named by what it does."""

    def __init__(self, calls: NotifyCalls, keys: Keys) -> None:
        self._calls = calls
        self._keys = keys
        self._pending: list[Call] = []

    def __len__(self) -> int:
        return len(self._pending)

    def log(self, user: str, entry: Mapping[str, Any], repeat_seconds: float) -> None:
        """Add a decision to the user's log (kept ``LOG_KEEP`` deep)."""
        self._pending += self._calls.log(user, entry, repeat_seconds)

    def count(self, user: str, counter: str) -> None:
        """Add one to a counter of the user's schedule shard (``xsell status``)."""
        self._pending.append(("HINCRBY", self._calls.keys.shard_for(user).stats, counter, 1))

    def defer(self, claim: Claimed, token: str, moved: Job, counter: str) -> None:
        """Move a claimed notification to a later send time (while the lease is ours)."""
        self._pending.append(self._calls.defer(claim, token, moved, counter))

    def finish(self, claim: Claimed, token: str, now: float, counter: str) -> None:
        """Take a claimed notification off the schedule, sent or dropped."""
        self._pending.append(self._calls.finish(claim, token, now, counter))

    def record_sent(
        self,
        job: Job,
        channel: str,
        now: float,
        keep_seconds: float,
        repeat_seconds: float,
        entry: Mapping[str, Any],
        items: Sequence[str],
    ) -> None:
        """Count a send against the caps, remember its items (no repeats) and log it."""
        self._pending.append(
            self._calls.record_sent(job, channel, now, keep_seconds, repeat_seconds, entry, items)
        )

    def erase_user(self, user: str) -> None:
        """Delete the user's policy state (profile, sends, repeats, decisions)."""
        self._pending.append(self._calls.erase_user(user))

    def update_profile(
        self,
        user: str,
        timezone: str | None,
        consent: Mapping[str, bool],
        attributes: Mapping[str, str | None] | None = None,
    ) -> None:
        """Set the user's time zone, per-channel consent and profile attributes (fields given
        only; an attribute None is removed). Attributes live with the user's segment
        (xsell/store/core/segments.py), which ranking reads anyway."""
        self._pending += self._calls.profile_update(user, timezone, consent)
        self._pending += attribute_call(self._keys, user, attributes or {})

    def calls(self) -> list[Call]:
        return list(self._pending)


class NotificationStore:
    """The schedule (sharded, leased), the users' policy state and the counters."""

    def __init__(self, runner: Runner, keys: Keys, finished_retention_days: float) -> None:
        self._runner = runner
        self._keys = keys
        self._calls = NotifyCalls(keys.ns, finished_retention_days)

    def writes(self) -> NotificationWrites:
        """An empty batch of writes."""
        return NotificationWrites(self._calls, self._keys)

    async def commit(self, writes: NotificationWrites) -> None:
        """Send a batch of writes in one round trip (none when it is empty)."""
        await self._runner.run(writes.calls())

    async def schedule(self, entries: Sequence[Scheduling], now: float) -> list[Scheduled]:
        """Schedule, move or cancel for each entry, in order, in one round trip."""
        calls: list[Call] = []
        for e in entries:
            if e.op == "purchase":
                calls.append(self._calls.purchase(e.job.user_id, e.job.ts, e.job, now))
            elif e.op == "replenish":
                calls.append(self._calls.replenish(e.job.user_id, e.job.ts, e.job, now))
            else:
                calls.append(self._calls.cart(e.job.user_id, e.job.ts, e.op, e.job, now))
        replies = await self._runner.run(calls)
        return [Scheduled(str(o), c or None) for o, c in replies]

    async def claim_due(self, now: float, lease: float, limit: int, token: str) -> list[Claimed]:
        """Claim up to ``limit`` due notifications of every shard for ``lease`` seconds."""
        shards = self._calls.keys.shards()
        replies = await self._runner.run(
            [self._calls.claim(s, now, lease, limit, token) for s in shards]
        )
        return [c for s, r in zip(shards, replies, strict=True) for c in claimed_of(s, r)]

    async def prepare(self, claimed: Sequence[tuple[Claimed, str]], token: str) -> list[bool]:
        """Store each message before it is published, only where the lease is still ours;
        True where it was stored."""
        ok = await self._runner.run([self._calls.prepare(c, token, p) for c, p in claimed])
        return [bool(int(kept)) for kept in ok]

    async def decision_inputs(
        self, users: Sequence[str]
    ) -> tuple[float | None, list[DecisionInput]]:
        """What deciding on each user's due notification needs, in one round trip: the
        state's clock (None: no event yet) and each user's policy state, cart (item -> added
        at) and purchases (item -> last bought at)."""
        keys = self._keys
        calls: list[Call] = [("HGET", keys.meta, "T")]
        for user in users:
            calls += self._calls.read_user(user)
            calls += [("HGETALL", keys.cart(user)), ("HGETALL", keys.history(user))]
        replies = await self._runner.run(calls)
        clock = float(replies[0]) if replies[0] is not None else None
        out = []
        for i in range(len(users)):
            profile, sends, repeats, cart, history = replies[1 + 5 * i : 6 + 5 * i]
            state = UserPolicyState(profile_of(profile), sends_of(sends), repeats_of(repeats))
            added = {item: float(v.split("|", 1)[0]) for item, v in (cart or {}).items()}
            bought = {item: float(ts) for item, ts in (history or {}).items()}
            out.append(DecisionInput(state, added, bought))
        return clock, out

    async def cancel_all(self, user: str) -> list[tuple[str, Job]]:
        """Take every pending notification of ``user`` off the schedule: (id, job) each."""
        (reply,) = await self._runner.run([self._calls.forget(user)])
        return [(str(reply[i]), Job.from_json(reply[i + 1])) for i in range(0, len(reply), 2)]

    async def of_user(self, user: str) -> UserNotifications:
        """The user's pending jobs, policy state and recent decisions (newest first)."""
        shard, keys = self._calls.keys.shard_for(user), self._calls.keys.user(user)
        (listed,) = await self._runner.run([("HGET", shard.users, user)])
        ids = str(listed).split() if listed else []
        reads: list[Call] = [("HMGET", shard.jobs, *ids)] if ids else []
        reads += [*self._calls.read_user(user), ("LRANGE", keys.log, 0, LOG_KEEP - 1)]
        replies = await self._runner.run(reads)
        jobs = [Job.from_json(j) for j in (replies[0] if ids else []) if j]
        profile, sends, repeats, entries = replies[-4:]
        state = UserPolicyState(profile_of(profile), sends_of(sends), repeats_of(repeats))
        return UserNotifications(jobs, state, [str(e) for e in entries])

    async def counts(self) -> dict[str, int]:
        """Counters summed over the shards, and ``pending``."""
        shards = self._calls.keys.shards()
        replies = await self._runner.run(
            [c for s in shards for c in (("HGETALL", s.stats), ("HLEN", s.jobs))]
        )
        counts: dict[str, int] = {"pending": 0}
        for stats, pending in zip(replies[::2], replies[1::2], strict=True):
            counts["pending"] += int(pending)
            for name, value in stats.items():
                counts[name] = counts.get(name, 0) + int(value)
        return dict(sorted(counts.items()))
