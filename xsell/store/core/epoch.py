"""The state's epoch (meta 'created'): how a store notices that the Redis state it wrote is gone
(Redis restarted without persistence, flushed, failed over to an empty replica).

While a loss is recorded and not rebuilt (meta ``lost_at`` after ``rebuilt_at``), an apply
learns no followed-by (nor buy-again, which rides on it): what a purchase follows depends on
the user's earlier orders, which the lost state no longer holds and the rebuild applies only
later. ``xsell rebuild`` learns it afterwards for every order it replayed, in order
(:meth:`EpochWatch.learn_follow_ups`), before it marks the state rebuilt."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from xsell.config.settings import Settings
from xsell.models.events import PurchaseEvent
from xsell.store.backend.client import Runner
from xsell.store.core.followed import learn_follow_ups
from xsell.store.core.keys import Keys

log = logging.getLogger(__name__)


class EpochWatch:
    """The epoch checks of :class:`xsell.store.core.apply.EventStore` (its attributes)."""

    runner: Runner
    keys: Keys
    settings: Settings
    epoch: str | None
    state_losses: int
    lost: bool

    async def read_epoch(self) -> str | None:
        """The state's epoch: meta 'created' (ms), written by the first purchase applied."""
        (epoch,) = await self.runner.run([("HGET", self.keys.meta, "created")])
        return None if epoch is None else str(epoch)

    async def learn_follow_ups(self, orders: Sequence[PurchaseEvent]) -> int:
        """The followed-by state of ``orders`` (in time order), which the applies leave out
        while the state is lost: what a rebuild replayed, learnt in one pass after it
        (xsell/store/core/followed.py). Returns the follow-up calls sent."""
        now_ms = int(time.time() * 1000)
        return await learn_follow_ups(self.runner, self.keys, self.settings, orders, now_ms)

    async def state_lost(self) -> bool:
        """True while a recorded loss has not been rebuilt (``xsell status``: lost)."""
        (marks,) = await self.runner.run([("HMGET", self.keys.meta, "lost_at", "rebuilt_at")])
        return unrepaired(*marks)

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


def unrepaired(lost_at: str | None, rebuilt_at: str | None) -> bool:
    """True when a loss was recorded (meta ``lost_at``) and no rebuild finished since."""
    return lost_at is not None and (rebuilt_at is None or int(rebuilt_at) < int(lost_at))


# meta fields that are bookkeeping (state epochs, an unfinished bulk load), not model state
META_BOOKKEEPING = ("created", "lost_at", "lost_epoch", "rebuilt_at", "bulk_started")


def epoch_text(epoch: str | float | None) -> str:
    """An epoch (ms since 1970) as RFC 3339 UTC, for logs and ``xsell status``."""
    if epoch is None:
        return "never"
    when = datetime.fromtimestamp(float(epoch) / 1000, UTC)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")
