"""The Redis setting that decides what pair updates cost, checked when a worker starts."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from xsell.store.core.apply import EventStore

log = logging.getLogger(__name__)

LISTPACK_WARN_ABOVE = 32


async def check_listpack_setting(store: EventStore) -> int | None:
    """Warn when Redis keeps mid-sized sorted sets as listpacks (``zset-max-listpack-entries``
    above 32), which makes pair updates ~4x dearer (xsell's private servers use 16). Returns
    the value, or None where CONFIG GET is not allowed (managed Redis, ACL): then it is only
    logged."""
    if store.settings.redis.cluster:  # CONFIG has no key to route by; check each node by hand
        log.info(
            "Redis Cluster: zset-max-listpack-entries not checked; 16 is recommended on "
            "every node (docs/benchmarks.md)"
        )
        return None
    try:
        (reply,) = await store.runner.run([("CONFIG", "GET", "zset-max-listpack-entries")])
        flat = next(iter(reply.items())) if isinstance(reply, dict) else reply
        value = int(flat[1])
    except (RedisError, ValueError, IndexError, TypeError, StopIteration) as exc:
        log.info(
            "could not read Redis zset-max-listpack-entries (%s); 16 is recommended "
            "(docs/benchmarks.md)",
            exc,
        )
        return None
    if value > LISTPACK_WARN_ABOVE:
        log.warning(
            "Redis at %s has zset-max-listpack-entries %d: pair updates cost ~4x more "
            "Redis CPU than with 16 (CONFIG SET zset-max-listpack-entries 16, or "
            "--zset-max-listpack-entries 16; docs/benchmarks.md)",
            store.where,
            value,
        )
    return value
