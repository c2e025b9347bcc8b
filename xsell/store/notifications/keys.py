"""Redis keys of the notification scheduler, designed for Redis Cluster like keys.py.

The schedule is split into ``SHARDS`` shards by a hash of the user id; one shard's keys share
the hash tag ``{n:S}``, so every schedule script touches one slot, and the shards spread over
the cluster's nodes. A user's policy state shares the user's tag ``{u:USER}`` with the cart.

==========================  ==================================  ==================================
key                         type                                what
==========================  ==================================  ==================================
NS:{n:S}:nq                 zset  notification id -> due ms     the schedule; a claim moves the
                                                                due time to the lease's end
NS:{n:S}:nj                 hash  id -> job JSON                pending notifications
NS:{n:S}:nt                 hash  id -> claim token             who holds the lease
NS:{n:S}:nm                 hash  id -> message JSON            prepared, maybe published
NS:{n:S}:nc                 hash  user -> "id|ts"               the user's pending cart_abandoned
NS:{n:S}:nu                 hash  user -> "id id ..."           the user's pending notifications
NS:{n:S}:nf                 zset  id -> finished ms             sent, dropped or merged (30 days)
NS:{n:S}:ns                 hash  counter -> n                  scheduled, sent ... (status)
NS:{u:USER}:np              hash  tz, push, email, sms, zalo    profile: time zone and consent
NS:{u:USER}:nh              zset  "channel|id" -> sent ms       sends in the caps' windows
NS:{u:USER}:nr              hash  item -> notified ms           items notified (repeat window)
NS:{u:USER}:nl              list  decision JSON, newest first   recent decisions
==========================  ==================================  ==================================
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from xsell.store.core.keys import NOTIFY_SHARD_SUFFIXES, NOTIFY_USER_SUFFIXES, escape

SHARDS = 8  # persisted layout: never changes (a user's shard is crc32(user id) % SHARDS)


def shard_of(user_id: str) -> int:
    """The schedule shard of a user (stable: crc32 of the id's UTF-8 bytes)."""
    return zlib.crc32(user_id.encode()) % SHARDS


@dataclass(frozen=True, slots=True)
class ShardKeys:
    """KEYS[1..8] of every shard script, in this order."""

    due: str
    jobs: str
    claims: str
    prepared: str
    carts: str
    users: str
    finished: str
    stats: str

    def all(self) -> list[str]:
        return [
            self.due,
            self.jobs,
            self.claims,
            self.prepared,
            self.carts,
            self.users,
            self.finished,
            self.stats,
        ]


@dataclass(frozen=True, slots=True)
class UserNotifyKeys:
    profile: str
    sent: str
    repeats: str
    log: str

    def all(self) -> list[str]:
        return [self.profile, self.sent, self.repeats, self.log]


@dataclass(frozen=True, slots=True)
class NotifyKeys:
    ns: str = "xs"

    def shard(self, index: int) -> ShardKeys:
        base = f"{self.ns}:{{n:{index}}}"
        return ShardKeys(*(base + suffix for suffix in NOTIFY_SHARD_SUFFIXES))

    def shard_for(self, user_id: str) -> ShardKeys:
        return self.shard(shard_of(user_id))

    def shards(self) -> list[ShardKeys]:
        return [self.shard(i) for i in range(SHARDS)]

    def user(self, user_id: str) -> UserNotifyKeys:
        base = f"{self.ns}:{{u:{escape(user_id)}}}"
        return UserNotifyKeys(*(base + suffix for suffix in NOTIFY_USER_SUFFIXES))
