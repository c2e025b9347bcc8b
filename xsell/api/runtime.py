"""What the API's routes share, opened once per process (the app's lifespan): the store and
the engine (ranking), the rank batcher, a Kafka producer (event ingestion), the suggestion hub
(live push), the key checks and the limits on failures and public keys' events."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from aiokafka import AIOKafkaProducer
from fastapi import HTTPException, Request

from xsell.api.auth import Authenticator
from xsell.api.batcher import RankBatcher, Ranked, RankQuery
from xsell.api.deadline import redis_patience
from xsell.api.guard import Guard
from xsell.api.hub import SuggestionHub
from xsell.api.metrics import REDIS_ERRORS
from xsell.config.settings import Settings
from xsell.engine import Engine
from xsell.engine.bundles import Bundler
from xsell.kafka_clients import aiokafka_security
from xsell.models.errors import StoreUnavailable
from xsell.models.experiments import variant_of
from xsell.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class ApiRuntime:
    settings: Settings
    auth: Authenticator
    store: Store
    engine: Engine
    batcher: RankBatcher
    producer: AIOKafkaProducer
    hub: SuggestionHub
    guard: Guard
    # (query, merchant rules' version) -> (expiry, offers): a rule change is a new key
    cache: dict[tuple[RankQuery, int], tuple[float, Ranked]] = field(default_factory=dict)

    @classmethod
    async def open(cls, settings: Settings) -> ApiRuntime:
        # a request must not wait for Redis forever, as the worker does: 503 after a while
        store = await Store.open(
            settings.model_copy(update={"redis_retry_seconds": redis_patience(settings)})
        )
        engine = Engine(store, settings)
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka.broker_list,
            acks="all",
            enable_idempotence=False,  # event ids, not the producer, make effects exactly-once
            linger_ms=2,
            client_id=f"{settings.kafka.app_id}-api",
            **aiokafka_security(settings),
        )
        await producer.start()
        hub = SuggestionHub(settings)
        await hub.start()
        auth = Authenticator(settings)
        guard = Guard(settings, store)
        return cls(
            settings,
            auth,
            store,
            engine,
            RankBatcher(engine, settings.api.rank_batch_size),
            producer,
            hub,
            guard,
        )

    @cached_property
    def bundler(self) -> Bundler:
        """Bundles (xsell/engine/bundles.py); merchant rules plug in as its ``hide``."""
        return Bundler(self.store, self.settings)

    async def close(self) -> None:
        await self.hub.stop()
        await self.producer.stop()
        await self.store.close()

    async def redis(self, read: Awaitable[T]) -> T:
        """Await a store ``read``; a Redis that stays away becomes a 503, not a hang or a 500."""
        try:
            return await read
        except StoreUnavailable as exc:
            REDIS_ERRORS.inc()
            raise HTTPException(503, f"Redis unavailable: {exc}") from None

    def variant(self, user_id: str | None) -> str:
        """The experiment variant of a request's user (anonymous: the first variant)."""
        return variant_of(self.engine.experiment, user_id)

    async def rules_version(self) -> int:
        """The merchant rules' version in use, checked at most every
        XSELL_RULES_REFRESH_SECONDS (docs/rules.md)."""
        rules = await self.redis(self.engine.steering.refresh())
        return rules.version

    async def rank(self, query: RankQuery) -> Ranked:
        """Offers through the batcher; anonymous single-item queries (product pages: the same
        for every visitor) are reused for ``XSELL_API_CACHE_SECONDS``, keyed by the merchant
        rules' version too, so a rule change is obeyed at once."""
        cacheable = query.user_id is None and len(query.anchors) == 1
        key = (query, await self.rules_version())
        if cacheable and self.settings.api.cache_seconds > 0:
            hit = self.cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        ranked = await self._rank(query)
        if cacheable and self.settings.api.cache_seconds > 0:
            if len(self.cache) >= self.settings.api.cache_entries:
                self.cache.clear()  # simple and bounded: a full cache starts over
            self.cache[key] = (time.monotonic() + self.settings.api.cache_seconds, ranked)
        return ranked

    async def _rank(self, query: RankQuery) -> Ranked:
        try:
            return await self.batcher.rank(query)
        except StoreUnavailable as exc:
            REDIS_ERRORS.inc()
            raise HTTPException(503, f"Redis unavailable: {exc}") from None


def runtime(request: Request) -> ApiRuntime:
    rt: ApiRuntime = request.app.state.runtime
    return rt
