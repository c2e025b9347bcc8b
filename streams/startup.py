"""What a worker checks when it starts: the Redis tuning, and whether the state it finds is the
one the consumer group's committed offsets imply (a state lost while no worker ran)."""

from __future__ import annotations

import asyncio
import logging

from xsell.kafka_clients import group_committed_orders
from xsell.store import Store, check_listpack_setting, epoch_text, state_clock

log = logging.getLogger(__name__)


async def announce_state(store: Store) -> str | None:
    """At worker start: remember the state epoch and say what Redis holds. No state while the
    consumer group has committed offsets on the orders topic means orders were applied before
    and the state is gone: the loss is logged and recorded like one seen mid-stream."""
    settings = store.settings
    await check_listpack_setting(store)
    committed = await asyncio.to_thread(group_committed_orders, settings)  # before the epoch
    epoch = await store.read_epoch()
    await store.check_epoch(epoch)
    ns = settings.redis.key_namespace
    if epoch is not None:
        clock = await state_clock(store)
        log.info(
            "Redis state of namespace %r: created %s, %.1f orders (decayed to the latest "
            "event, %s)",
            ns,
            epoch_text(epoch),
            clock.orders_now,
            epoch_text(clock.latest * 1000),
        )
    elif committed:
        store.state_losses += 1
        log.error(
            "Redis state lost: namespace %r at %s holds no state, but consumer group %r "
            "has committed offsets on the orders topic, so orders were applied before. "
            "Suggestions fall back to popular items until it is rebuilt: `xsell "
            "rebuild` or `xsell rebuild --file ORDERS` (docs/reliability.md)",
            ns,
            store.where,
            settings.kafka.app_id,
        )
        await store.mark_lost("unknown")
    else:
        log.warning(
            "Redis at %s holds no xsell state for namespace %r yet (no purchase "
            "applied): a new deployment",
            store.where,
            ns,
        )
    return epoch
