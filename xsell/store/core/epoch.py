"""The state's epoch (meta 'created'): how a store notices that the Redis state it wrote is gone
(Redis restarted without persistence, flushed, failed over to an empty replica)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from xsell.config.settings import Settings
from xsell.store.backend.client import Runner
from xsell.store.core.keys import Keys

log = logging.getLogger(__name__)


class EpochWatch:
    """The epoch checks of :class:`xsell.store.core.apply.EventStore` (its attributes)."""

    runner: Runner
    keys: Keys
    settings: Settings
    epoch: str | None
    state_losses: int

    async def read_epoch(self) -> str | None:
        """The state's epoch: meta 'created' (ms), written by the first purchase applied."""
        (epoch,) = await self.runner.run([("HGET", self.keys.meta, "created")])
        return None if epoch is None else str(epoch)

    async def check_epoch(self, epoch: str | None) -> bool:
        """Remember ``epoch``. When a state seen before is gone or replaced (Redis restarted
        without persistence, flushed, failed over to an empty replica), log an ERROR and
        record the loss in the meta hash (``xsell status`` reports it until ``xsell
        rebuild``); returns True then."""
        previous, self.epoch = self.epoch, epoch
        if previous is None or epoch == previous:
            return False
        self.state_losses += 1
        log.error(
            "Redis state lost: namespace %r at %s had state created %s, now %s. Redis "
            "restarted without persistence, was flushed or failed over to an empty replica? "
            "Suggestions fall back to popular items until it is rebuilt: `xsell rebuild` "
            "(replays the Kafka topics) or `xsell rebuild --file ORDERS` "
            "(docs/reliability.md)",
            self.settings.redis.key_namespace,
            self.runner.where,
            epoch_text(previous),
            epoch_text(epoch) if epoch else "no state",
        )
        await self.mark_lost(previous)
        return True

    async def mark_lost(self, previous: str) -> None:
        """Record (once per lost epoch) that the state of epoch ``previous`` was lost."""
        (known,) = await self.runner.run([("HGET", self.keys.meta, "lost_epoch")])
        if known != previous or previous == "unknown":
            await self.runner.run(
                [
                    (
                        "HSET",
                        self.keys.meta,
                        "lost_at",
                        int(time.time() * 1000),
                        "lost_epoch",
                        previous,
                    )
                ]
            )


# meta fields that are bookkeeping (state epochs, an unfinished bulk load), not model state
META_BOOKKEEPING = ("created", "lost_at", "lost_epoch", "rebuilt_at", "bulk_started")


def epoch_text(epoch: str | float | None) -> str:
    """An epoch (ms since 1970) as RFC 3339 UTC, for logs and ``xsell status``."""
    if epoch is None:
        return "never"
    when = datetime.fromtimestamp(float(epoch) / 1000, UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")
