"""xsell's state in Redis, behind one :class:`Store` with a room per feature
(:mod:`xsell.store.facade`). The names below are what the rest of xsell may use."""

from xsell.models.inputs import scaled
from xsell.store.access.store import key_id
from xsell.store.attribution.figures import LATENCY_BUCKETS_MS, minute_of
from xsell.store.attribution.ledger import RULE_PREFIX, SEP, day_of
from xsell.store.attribution.segment_rows import SEGMENT_PREFIX, SPEND_PREFIX
from xsell.store.attribution.store import BatchFigures
from xsell.store.backend.client import (
    ROUND_TRIPS,
    RoundTrips,
    client_options,
    ping_redis,
    require_redis,
)
from xsell.store.core.apply import Effect
from xsell.store.core.bulk import NamespaceNotEmpty, bulk_load, is_bulk_loadable
from xsell.store.core.epoch import epoch_text, unrepaired
from xsell.store.core.guards import Position
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
from xsell.store.rules.store import RuleSet, RulesFull
from xsell.store.tuning.store import TuningStore

__all__ = [
    "LATENCY_BUCKETS_MS",
    "ROUND_TRIPS",
    "RULE_PREFIX",
    "SEGMENT_PREFIX",
    "SEP",
    "SPEND_PREFIX",
    "BatchFigures",
    "Claimed",
    "Effect",
    "Job",
    "NamespaceNotEmpty",
    "NotificationWrites",
    "Position",
    "Published",
    "RoundTrips",
    "RuleSet",
    "RulesFull",
    "Scheduled",
    "Scheduling",
    "StateClock",
    "Store",
    "Stream",
    "TuningStore",
    "UserPolicyState",
    "bulk_load",
    "check_listpack_setting",
    "client_options",
    "day_of",
    "epoch_text",
    "is_bulk_loadable",
    "key_id",
    "minute_of",
    "ping_redis",
    "require_redis",
    "scaled",
    "state_clock",
    "unrepaired",
]
