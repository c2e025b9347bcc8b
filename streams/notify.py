"""The worker's part of the notification triggers (xsell/notify/): the profiles agent, the due
loop task and the scheduling hook that the cart and orders agents call after each batch.

- ``xsell.profiles`` agent: each record of the profiles topic updates the user's time zone and
  consent (absent fields keep their value); an invalid one goes to the dead letter.
- ``notify_due`` task: every XSELL_NOTIFY_POLL_SECONDS (at once again while there is more),
  :meth:`xsell.notify.sender.Sender.tick`; its notifications go to the notifications topic,
  keyed by user id, and are acknowledged by Kafka before they count as sent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import Any

import faust

from xsell.config.settings import Settings
from xsell.config.topics import topic_spec
from xsell.models.errors import InvalidEvent
from xsell.models.events import Event
from xsell.models.profile import parse_profile
from xsell.notify.scheduler import Scheduler
from xsell.notify.sender import CLAIM_LIMIT, Sender
from xsell.streams.batch_agent import record_of
from xsell.streams.handler import Record, dead_letter, encode
from xsell.streams.resilience import deliver
from xsell.streams.topics import Topics

log = logging.getLogger(__name__)


class Notify:
    """The scheduler and the sender of a worker, opened with its engine."""

    def __init__(self, settings: Settings, runtime: Any, topics: Topics) -> None:
        self.settings = settings
        self.runtime = runtime
        self.dead = topics.dead_letter
        self.notifications = topics.notifications
        self.profiles = topics.profiles
        self._scheduler: Scheduler | None = None
        self._sender: Sender | None = None

    async def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            engine = await self.runtime.engine()
            self._scheduler = Scheduler(engine.store, self.settings)
        return self._scheduler

    async def sender(self) -> Sender:
        if self._sender is None:
            self._sender = Sender(await self.runtime.engine(), self.publish)
        return self._sender

    async def observe(self, stream: str, events: Sequence[Event]) -> None:
        """The scheduling hook of the cart and orders agents (after the batch is applied),
        given the batch's valid events as the handler parsed them."""
        scheduler = await self.scheduler()
        await scheduler.observe(stream, events)

    async def publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        async def send() -> None:
            futures = [
                await self.notifications.send(key=user.encode(), value=value)
                for user, value in messages
            ]
            await asyncio.gather(*futures)

        await deliver(send, f"{len(messages)} notification(s)", self.settings.kafka.servers)

    async def profiles_batch(self, records: Sequence[Record]) -> None:
        store = (await self.scheduler()).store
        writes = store.notifications.writes()
        dead = []
        for record in records:
            try:
                update = parse_profile(record.value, self.settings.limits)
            except InvalidEvent as exc:
                dead.append(dead_letter(record, exc.reason, self.settings.limits))
                continue
            writes.update_profile(
                update.user_id, update.timezone, update.consent, update.attributes
            )
        await store.notifications.commit(writes)
        if dead:
            send = functools.partial(self._dead_letters, dead)
            await deliver(
                send, f"{len(dead)} dead letter(s) of profiles", self.settings.kafka.servers
            )

    async def _dead_letters(self, dead: list[dict[str, Any]]) -> None:
        await asyncio.gather(*[await self.dead.send(value=encode(d)) for d in dead])

    async def due_loop(self) -> None:
        sender = await self.sender()
        while True:
            try:
                claimed = await sender.tick()
            except Exception as exc:  # never let the loop die: the next tick tries again
                log.error("notification tick failed: %r", exc, exc_info=exc)
                claimed = 0
            if claimed < CLAIM_LIMIT:
                await asyncio.sleep(self.settings.notify.poll_seconds)


def install(app: faust.App, settings: Settings, notify: Notify) -> None:
    """Add the profiles agent and the due loop of ``notify`` to the worker's app."""

    @app.agent(notify.profiles, name=topic_spec("profiles").agent)
    async def profile_agent(stream: Any) -> None:
        async for events in stream.take_events(
            settings.worker.batch_size, settings.worker.batch_window
        ):
            await notify.profiles_batch([record_of(e) for e in events])

    @app.task
    async def notify_due() -> None:
        if settings.notify.policy.channels:
            await notify.due_loop()
