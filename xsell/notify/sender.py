"""The due loop: claim the notifications that are due, decide, rank, publish, record.

One :meth:`Sender.tick` of a worker:

1. claims up to ``limit`` due notifications of every schedule shard (NOTIFY_CLAIM: their due
   time moves to the end of a lease of XSELL_NOTIFY_LEASE_SECONDS, with this claim's token);
2. reads each user's profile, sends, repeats, cart and purchases (one round trip) and asks the
   policy (:func:`xsell.models.notify_policy.decide`): expired, purchased since, no consent, quiet
   hours, caps;
3. ranks the ones to send through :meth:`xsell.engine.Engine.rank` (the live model, the usual
   rules), the cart as it is now or the order's items, minus the items notified to the user
   within the repeat window; nothing left = ``suppressed`` / ``empty``; a cart_abandoned also
   lists the user's recently viewed items that are not in the cart (one more round trip); a
   replenish offers the user's due rebuys instead (xsell/notify/replenish.py; none due yet =
   ``deferred`` / ``not_due_yet`` to when one is, none ever = ``suppressed`` / ``not_due``);
4. stores each message (NOTIFY_PREPARE, only while the lease is ours), publishes them and waits
   for Kafka's acknowledgement, then records the sends (caps, repeats, log) and finishes them
   (NOTIFY_FINISH); defers and drops are written the same way.

A worker killed anywhere in between leaves its claims to expire; another worker then claims
them again, and one that was prepared is published again as it was (same id, same bytes).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from xsell.engine import Engine
from xsell.models.experiments import CONTROL, variant_of
from xsell.models.notify_policy import (
    CART_ABANDONED,
    POST_PURCHASE,
    REPLENISH,
    SendDecision,
    decide,
    expires_at,
    recently_notified,
    window_items,
)
from xsell.models.ranking import Offer, RankRequest
from xsell.models.segments import Segment
from xsell.notify import metrics
from xsell.notify.messages import as_offer, decision_entry, notification_message
from xsell.notify.replenish import NOT_DUE_YET, Refill, refill_offers, replenish_params
from xsell.store import Claimed, Job, NotificationWrites

log = logging.getLogger(__name__)
Publish = Callable[[Sequence[tuple[str, bytes]]], Awaitable[None]]
CLAIM_LIMIT = 200  # per shard and tick


@dataclass(slots=True)
class Ready:
    """A notification about to be published."""

    claimed: Claimed
    channel: str
    payload: str
    items: list[str]


def _cart_items(cart: dict[str, float]) -> list[str]:
    """The cart's items (item -> added at), most recent first."""
    return [i for i, _ in sorted(cart.items(), key=lambda p: (-p[1], p[0]))]


class Sender:
    """Publishes the due notifications of one namespace (any number of workers at once)."""

    def __init__(self, engine: Engine, publish: Publish) -> None:
        self.engine = engine
        self.store = engine.store
        self.settings = engine.settings
        self.policy = self.settings.notify.policy
        self.publish = publish
        self.worker = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.claims = itertools.count()
        caps = [c.seconds for c in self.policy.caps.values()]
        self.keep_sends = max(caps, default=0.0)

    async def tick(self, now: float | None = None, limit: int = CLAIM_LIMIT) -> int:
        """Handle what is due now; returns how many were claimed."""
        if not self.policy.channels:
            return 0
        now = time.time() if now is None else now
        token = f"{self.worker}:{next(self.claims)}"
        lease = self.settings.notify.lease_seconds
        claimed = await self.store.notifications.claim_due(now, lease, limit, token)
        if claimed:
            await self._handle(claimed, token, now)
        return len(claimed)

    async def _handle(self, claimed: list[Claimed], token: str, now: float) -> None:
        ready = [_again(c) for c in claimed if c.prepared]
        fresh = [c for c in claimed if not c.prepared]
        writes = self.store.notifications.writes()
        decided = await self._decide(fresh, now)
        sending: list[tuple[Claimed, SendDecision, RankRequest]] = []
        refilling: list[tuple[Claimed, SendDecision, Refill]] = []
        for claim, (decision, request) in zip(fresh, decided, strict=True):
            if decision.kind == "send" and isinstance(request, Refill):
                refilling.append((claim, decision, request))
            elif decision.kind == "send" and isinstance(request, RankRequest):
                sending.append((claim, decision, request))
            elif decision.kind == "send":
                self._drop(writes, claim, token, now, "empty")
            elif decision.kind == "defer":
                self._defer(writes, claim, token, now, decision)
            else:
                self._drop(writes, claim, token, now, decision.why or "expired")
        variants = [variant_of(self.engine.experiment, c.job.user_id) for c, _, _ in sending]
        ranked, segments = await self.engine.rank_variants([r for _, _, r in sending], variants)
        viewed = await self._recently_viewed([(c.job, r) for c, _, r in sending])
        prepares: list[Ready] = []
        for (claim, decision, request), offers, variant, seen in zip(
            sending, ranked, variants, viewed, strict=True
        ):
            if variant == CONTROL:  # the holdout gets no offers, so no notification
                self._drop(writes, claim, token, now, "holdout")
                continue
            offers = [o for o in offers if o.item_id not in request.exclude]
            if not offers:
                self._drop(writes, claim, token, now, "empty")
                continue
            job = _with_items(claim.job, request)
            prepares.append(self._ready(claim, job, decision, offers, now, variant, segments, seen))
        params = replenish_params(self.engine.current_params.rebuy, self.settings)
        wait = self.settings.notify.replenish_max_wait_seconds
        refills = await refill_offers(self.store, params, [r for _, _, r in refilling], now, wait)
        for (claim, decision, _), got in zip(refilling, refills, strict=True):
            variant = variant_of(self.engine.experiment, claim.job.user_id)
            if variant != CONTROL and got.at is not None:  # nothing due yet: look in then
                self._defer(writes, claim, token, now, SendDecision("defer", got.why, at=got.at))
            elif variant == CONTROL or got.why is not None:  # the holdout: no notification
                why = "holdout" if variant == CONTROL else got.why or ""
                self._drop(writes, claim, token, now, why)
            else:
                prepares.append(
                    self._ready(claim, claim.job, decision, got.offers, now, variant, {})
                )
        stored = [(r.claimed, r.payload) for r in prepares]
        ok = await self.store.notifications.prepare(stored, token)
        ready += [r for r, kept in zip(prepares, ok, strict=True) if kept]
        if ready:
            await self.publish([(r.claimed.job.user_id, r.payload.encode()) for r in ready])
            await self._record_offers(ready)
        for r in ready:
            self._sent(writes, r, token, now)
        await self.store.notifications.commit(writes)

    def _ready(
        self,
        claim: Claimed,
        job: Job,
        decision: SendDecision,
        offers: Sequence[Offer],
        now: float,
        variant: str,
        segments: dict[str, Segment],
        seen: list[str] | None = None,
    ) -> Ready:
        """The message of a notification to send with these offers."""
        message = notification_message(
            job,
            decision.channel or "",
            offers,
            now,
            variant,
            self.engine.steering.version,
            segments.get(job.user_id),
            recently_viewed=seen,
        )
        payload = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        return Ready(claim, decision.channel or "", payload, [o.item_id for o in offers])

    async def _recently_viewed(
        self, sending: Sequence[tuple[Job, RankRequest]]
    ) -> list[list[str] | None]:
        """Each cart_abandoned's recently viewed items not in the cart, newest first (at most
        XSELL_NOTIFY_RECENTLY_VIEWED; one round trip); None for the other reasons."""
        wanted = self.settings.notify.recently_viewed
        users = [job.user_id for job, _ in sending if job.reason == CART_ABANDONED]
        if not users:
            return [None for _ in sending]
        lists = iter(await self.store.views.recent(users, self.settings.learning.views_max_items))
        out: list[list[str] | None] = []
        for job, request in sending:
            if job.reason != CART_ABANDONED:
                out.append(None)
                continue
            cart = set(request.anchors)
            out.append([i for i in next(lists) if i not in cart][:wanted])
        return out

    async def _record_offers(self, ready: Sequence[Ready]) -> None:
        """The sent notifications' offers into the users' ledgers and the day's counters,
        as suggestions' (implicit attribution credits the latest offer, notification or
        suggestion), placement ``notification:REASON``, dated at their due time."""
        if not self.store.attribution.enabled:
            return
        messages = [as_offer(json.loads(r.payload)) for r in ready]
        await self.store.attribution.record_offers(messages, [r.claimed.job.send_at for r in ready])

    async def _decide(
        self, fresh: Sequence[Claimed], now: float
    ) -> list[tuple[SendDecision, RankRequest | Refill | None]]:
        """The policy's decision for each claim, and the ranking request of those to send
        (None when there is nothing to offer: an emptied cart; a replenish: its Refill)."""
        if not fresh:
            return []
        read_clock, inputs = await self.store.notifications.decision_inputs(
            [c.job.user_id for c in fresh]
        )
        clock = read_clock if read_clock is not None else now
        out: list[tuple[SendDecision, RankRequest | Refill | None]] = []
        for c, given in zip(fresh, inputs, strict=True):
            job, state = c.job, given.state
            decision = decide(
                job.reason,
                job.ts,
                job.expires_at,
                state.profile,
                state.sends,
                given.bought,
                now,
                self.policy,
            )
            recent = recently_notified(state.repeats, now, self.policy.repeat_seconds)
            if job.reason == REPLENISH:
                out.append((decision, Refill(job.user_id, given.bought, frozenset(recent), clock)))
                continue
            if job.reason == CART_ABANDONED:
                anchors = _cart_items(given.cart)
            else:  # every order since the trigger joined it (one pending per user)
                anchors = window_items(job.trigger["item_ids"], given.bought, job.ts)[::-1]
            request = None
            if anchors:
                request = RankRequest(
                    anchors, frozenset(anchors) | recent, clock, job.user_id, placement=job.reason
                )
            out.append((decision, request))
        return out

    def _sent(self, writes: NotificationWrites, r: Ready, token: str, now: float) -> None:
        job = r.claimed.job
        metrics.SENT.labels(job.reason, r.channel).inc()
        entry = decision_entry(
            now, job.notification_id, job.reason, "sent", channel=r.channel, items=r.items
        )
        writes.record_sent(
            job, r.channel, now, self.keep_sends, self.policy.repeat_seconds, entry, r.items
        )
        writes.finish(r.claimed, token, now, f"sent:{job.reason}:{r.channel}")

    def _defer(
        self,
        writes: NotificationWrites,
        claim: Claimed,
        token: str,
        now: float,
        decision: SendDecision,
    ) -> None:
        job = claim.job
        why, until = decision.why or "cap", decision.at or now
        metrics.DEFERRED.labels(job.reason, why).inc()
        moved = replace(job, send_at=until)
        if why == NOT_DUE_YET:  # a new look-in, not a held message: expires after it
            moved = replace(moved, expires_at=expires_at(until, self.policy))
        entry = decision_entry(now, job.notification_id, job.reason, "deferred", why, until=until)
        writes.defer(claim, token, moved, f"deferred:{job.reason}:{why}")
        writes.log(job.user_id, entry, self.policy.repeat_seconds)

    def _drop(
        self, writes: NotificationWrites, claim: Claimed, token: str, now: float, why: str
    ) -> None:
        job = claim.job
        metrics.SUPPRESSED.labels(job.reason, why).inc()
        entry = decision_entry(now, job.notification_id, job.reason, "suppressed", why)
        writes.finish(claim, token, now, f"suppressed:{job.reason}:{why}")
        writes.log(job.user_id, entry, self.policy.repeat_seconds)


def _with_items(job: Job, request: RankRequest) -> Job:
    """A post-purchase job whose trigger lists the items of every order it covers (oldest
    first); other jobs as they are."""
    if job.reason != POST_PURCHASE:
        return job
    return replace(job, trigger={**job.trigger, "item_ids": list(request.anchors)[::-1]})


def _again(claim: Claimed) -> Ready:
    """A notification prepared (and maybe published) by a worker that did not finish it:
    published again exactly as it was."""
    payload = claim.prepared or ""
    message: dict[str, Any] = json.loads(payload)
    items = [o["item_id"] for o in message["items"]]
    return Ready(claim, str(message["channel"]), payload, items)
