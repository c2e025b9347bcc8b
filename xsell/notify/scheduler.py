"""Scheduling: cart events and purchases -> the notification schedule (xsell/store/notify_*).

The worker hands every micro-batch of the cart-events and orders topics here after the engine
applied it (so the carts read here are the carts after the batch) and before Kafka is
acknowledged (so a crash redelivers the batch and scheduling happens again; the scripts are
idempotent per notification id):

- cart activity (add or remove; a view is none) schedules the user's ``cart_abandoned`` at
  the activity's time + XSELL_NOTIFY_ABANDON_SECONDS, replacing the pending one (moved); a
  remove that leaves the cart empty cancels it (``suppressed`` / ``empty``);
- a purchase cancels the pending ``cart_abandoned`` of earlier activity (``suppressed`` /
  ``purchased``) and schedules ``post_purchase`` at the order's time +
  XSELL_NOTIFY_POST_PURCHASE_SECONDS, unless the user already has one pending: then the
  order joins it (``merged``), and the sender offers for every order since its trigger;
- with XSELL_NOTIFY_REPLENISH, a known user's purchase also schedules their ``replenish`` at
  the order's time + XSELL_NOTIFY_REPLENISH_SECONDS, moving the pending one (one per user):
  the sender then offers the user's due rebuys, if any (xsell/notify/replenish.py);
- ``forget_user`` cancels everything pending of the user and erases their policy state;
- a trigger whose notification would already have expired is counted (``stale``) and
  schedules nothing: replaying history sends nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from xsell.config.settings import Settings
from xsell.models.events import CartEvent, Event, ForgetUser, PurchaseEvent, is_view
from xsell.models.notify_policy import (
    CART_ABANDONED,
    POST_PURCHASE,
    REPLENISH,
    due_at,
    expires_at,
    notification_id,
)
from xsell.notify import metrics
from xsell.notify.messages import decision_entry
from xsell.store import Job, Scheduled, Scheduling, Store, Stream

log = logging.getLogger(__name__)
STREAMS = ("cart-events", "orders")


def cart_job(event: CartEvent, settings: Settings) -> Job:
    """The cart_abandoned notification of a cart activity (its trigger)."""
    policy = settings.notify.policy
    due = due_at(CART_ABANDONED, event.ts, policy)
    return Job(
        notification_id(CART_ABANDONED, Stream.CART, event.event_id),
        event.user_id,
        CART_ABANDONED,
        {"type": event.type, "event_id": event.event_id, "item_ids": [event.item_id]},
        event.ts,
        due,
        expires_at(due, policy),
    )


def purchase_job(
    event: PurchaseEvent, user: str, settings: Settings, reason: str = POST_PURCHASE
) -> Job:
    """The post_purchase (or ``reason``: replenish) notification of an order."""
    policy = settings.notify.policy
    due = due_at(reason, event.ts, policy)
    trigger = {"type": "purchase", "event_id": event.event_id, "item_ids": event.distinct_items()}
    return Job(
        notification_id(reason, Stream.ORDERS, event.event_id),
        user,
        reason,
        trigger,
        event.ts,
        due,
        expires_at(due, policy),
    )


def cancel_reason(reason: str, outcome: str) -> str | None:
    """Why the pending cart_abandoned that a trigger cancelled was dropped: a purchase, an
    emptied cart, later activity whose own notification had already expired; None when it
    was only moved (a replenish only ever moves another replenish)."""
    if reason == REPLENISH:
        return None
    if reason == POST_PURCHASE:
        return "purchased"
    return {"empty": "empty", "stale": "expired"}.get(outcome)


class Scheduler:
    """Keeps the schedule of one namespace from the worker's batches."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.policy = settings.notify.policy
        self.enabled = bool(self.policy.channels)
        self.replenish = settings.notify.replenish

    async def observe(self, stream: str, events: Sequence[Event]) -> None:
        """Schedule from the valid events of one applied micro-batch of ``stream``, as the
        worker's handler parsed them: a record is parsed once per event, not again here
        (invalid records went to the dead letter and are not among them)."""
        if not self.enabled or stream not in STREAMS:
            return
        await self.schedule(events)

    async def schedule(self, events: Sequence[Event], now: float | None = None) -> None:
        """Schedule, move or cancel for ``events`` (in topic order)."""
        if not self.enabled:
            return
        now = time.time() if now is None else now
        segment: list[Event] = []
        for event in events:
            if isinstance(event, ForgetUser):
                await self._segment(segment, now)
                segment = []
                await forget(self.store, self.settings, event.user_id)
            else:
                segment.append(event)
        await self._segment(segment, now)

    async def _segment(self, events: Sequence[Event], now: float) -> None:
        last: dict[str, CartEvent] = {}  # a user's last cart activity of the batch decides
        entries: list[Scheduling] = []
        for event in events:
            if is_view(event):
                continue  # a view is no cart activity: it moves no cart_abandoned
            if isinstance(event, CartEvent):
                last.pop(event.user_id, None)
                last[event.user_id] = event
            elif isinstance(event, PurchaseEvent) and event.user_id is not None:
                entries.append(
                    Scheduling(purchase_job(event, event.user_id, self.settings), "purchase")
                )
                if self.replenish:
                    job = purchase_job(event, event.user_id, self.settings, REPLENISH)
                    entries.append(Scheduling(job, "replenish"))
        removes = [u for u, e in last.items() if e.type == "remove_from_cart"]
        sizes = await self.store.shoppers.cart_sizes(removes)
        emptied = {u for u, n in zip(removes, sizes, strict=True) if n == 0}
        for user, event in last.items():
            op = "empty" if user in emptied else "activity"
            entries.append(Scheduling(cart_job(event, self.settings), op))
        outcomes = await self.store.notifications.schedule(entries, now)
        await self._account([e.job for e in entries], outcomes, now)

    async def _account(
        self, jobs: Sequence[Job], outcomes: Sequence[Scheduled], now: float
    ) -> None:
        """Metrics, and a decision in the user's log for each cancelled notification."""
        writes = self.store.notifications.writes()
        for job, done in zip(jobs, outcomes, strict=True):
            if done.outcome == "scheduled":
                metrics.SCHEDULED.labels(job.reason).inc()
            elif done.outcome == "stale":
                metrics.STALE.labels(job.reason).inc()
            elif done.outcome == "merged":
                metrics.MERGED.labels(job.reason).inc()
            why = cancel_reason(job.reason, done.outcome) if done.cancelled else None
            if why is None or done.cancelled is None:
                continue  # nothing cancelled, or moved by later activity
            metrics.SUPPRESSED.labels(CART_ABANDONED, why).inc()
            entry = decision_entry(now, done.cancelled, CART_ABANDONED, "suppressed", why)
            writes.log(job.user_id, entry, self.policy.repeat_seconds)
            writes.count(job.user_id, f"suppressed:{CART_ABANDONED}:{why}")
        await self.store.notifications.commit(writes)


async def forget(store: Store, settings: Settings, user: str, now: float | None = None) -> int:
    """Cancel everything pending of ``user`` and erase their policy state (profile, sends,
    repeats, decisions); the cancellations are then the only decisions left (``suppressed``
    / ``forgotten``, ids and reasons only). Returns how many were cancelled."""
    now = time.time() if now is None else now
    cancelled = await store.notifications.cancel_all(user)
    writes = store.notifications.writes()
    writes.erase_user(user)
    repeat = settings.notify.repeat_days * 86400.0
    for nid, job in cancelled:
        metrics.SUPPRESSED.labels(job.reason, "forgotten").inc()
        writes.log(user, decision_entry(now, nid, job.reason, "suppressed", "forgotten"), repeat)
    await store.notifications.commit(writes)
    return len(cancelled)
