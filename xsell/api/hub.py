"""Live push: every API instance reads the whole suggestions topic and hands each message to
the streams open for its user.

How many instances see every user's messages: all of them. Each instance's consumer has no
consumer group; it is assigned every partition of the topic and starts at the end, so API
instances scale out behind any load balancer without sticky sessions, and a stream may be
opened on any of them. Reading the whole topic costs each instance one consumer; a message
is decoded only when someone is connected for its user.

Reconnects: the stream route first sends the user's latest message (from Redis, written by
the worker) unless the browser's ``Last-Event-ID`` already names it, then everything new. So a
page that reconnects after a network drop gets the current offers at once; suggestions are
state (the latest wins), not a log to replay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from xsell.config.settings import Settings
from xsell.kafka_clients import aiokafka_security

log = logging.getLogger(__name__)


class SuggestionHub:
    """The suggestions topic, fanned out to per-user queues."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic("suggestions")
        self.subscribers: dict[str, set[asyncio.Queue[bytes | None]]] = {}
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None
        self.errors = 0
        self.received = 0

    async def start(self) -> None:
        """Join the topic's partitions at their ends, and start forwarding."""
        s = self.settings
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka.broker_list,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=s.kafka.fetch_max_wait_ms,
            client_id=f"{s.kafka.app_id}-api",
            **aiokafka_security(s),
        )
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self.topic)
        if not partitions:
            await self.consumer.stop()
            raise RuntimeError(f"topic {self.topic} does not exist (xsell topics create)")
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        self.task = asyncio.create_task(self._forward(), name="suggestion-hub")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.consumer is not None:
            await self.consumer.stop()

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def open_streams(self) -> int:
        return sum(len(queues) for queues in self.subscribers.values())

    @contextmanager
    def subscribe(self, user_id: str) -> Iterator[asyncio.Queue[bytes | None]]:
        """A queue of the user's messages (None: a tombstone) while the block runs."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(
            self.settings.api.stream_queue_size  # a slower page loses the oldest
        )
        self.subscribers.setdefault(user_id, set()).add(queue)
        try:
            yield queue
        finally:
            queues = self.subscribers.get(user_id, set())
            queues.discard(queue)
            if not queues:
                self.subscribers.pop(user_id, None)

    async def _forward(self) -> None:
        assert self.consumer is not None
        while True:
            try:
                batches = await self.consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the consumer reconnects itself; say so, go on
                self.errors += 1
                log.warning("suggestions topic: %r; retrying", exc)
                await asyncio.sleep(1.0)
                continue
            for records in batches.values():
                for record in records:
                    self.received += 1
                    self._deliver(record)

    def _deliver(self, record: Any) -> None:
        if record.key is None:
            return
        queues = self.subscribers.get(record.key.decode("utf-8", "replace"))
        for queue in queues or ():
            if queue.full():
                queue.get_nowait()  # the page is behind: the newest offers matter most
            queue.put_nowait(record.value)
