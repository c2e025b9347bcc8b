"""xsell's state in Redis, behind one :class:`Store` with a room per feature
(:mod:`xsell.store.facade`). The names below are what the rest of xsell may use."""

from models.inputs import scaled
from xsell.store.attribution.store import BatchFigures
from xsell.store.backend.client import ping_redis
from xsell.store.core.apply import Effect, epoch_text
from xsell.store.core.keys import Stream
from xsell.store.core.latest import Published
from xsell.store.core.reader import StateClock, state_clock
from xsell.store.facade import Store
from xsell.store.notifications.calls import Claimed, Job
from xsell.store.notifications.store import (
    NotificationWrites,
    Scheduled,
    Scheduling,
    UserPolicyState,
)
from xsell.store.ops.redis_config import check_listpack_setting

__all__ = [
    "BatchFigures",
    "Claimed",
    "Effect",
    "Job",
    "NotificationWrites",
    "Published",
    "Scheduled",
    "Scheduling",
    "StateClock",
    "Store",
    "Stream",
    "UserPolicyState",
    "check_listpack_setting",
    "epoch_text",
    "ping_redis",
    "scaled",
    "state_clock",
]
