"""Redis connection and resilient pipelined execution.

``Runner.run(calls)`` sends a list of commands in one round trip (per node on a cluster) and
returns their results. It is the only place that talks to Redis for the store:

- scripts are called by SHA and loaded once; after a Redis restart (NOSCRIPT) they are loaded
  again and the round trip repeated (every script is idempotent, so repeating is safe);
- connection errors and timeouts are retried with capped exponential backoff, logging what it
  is waiting for, for ``redis_retry_seconds`` (0 = forever). Effects are never acknowledged
  upstream before Redis has answered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from config.settings import Settings, mask_url
from models.errors import StoreUnavailable
from xsell.store.lua import ALL_SCRIPTS, LuaScript

log = logging.getLogger(__name__)

Call = tuple[Any, ...]  # ("cmd", *args) or (LuaScript, keys, args)
RedisClient = aioredis.Redis | RedisCluster


def connect(settings: Settings) -> RedisClient:
    """A client for ``settings.redis_url`` (cluster client when ``redis_cluster``)."""
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": 10.0,
        "socket_connect_timeout": 5.0,
        "health_check_interval": 30,
    }
    if password is not None:
        options["password"] = password
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_url, **options)
    return aioredis.Redis.from_url(
        settings.redis_url,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        **options,
    )


class Runner:
    """Executes pipelined calls with script loading and retry (see module doc)."""

    def __init__(self, client: RedisClient, settings: Settings) -> None:
        self.client = client
        self.retry_seconds = settings.redis_retry_seconds
        self.where = mask_url(settings.redis_url)

    async def load_scripts(self) -> None:
        for script in ALL_SCRIPTS:
            await self.client.script_load(script.source)

    async def run(self, calls: Sequence[Call]) -> list[Any]:
        """Run ``calls`` in one pipelined round trip; results in call order."""
        if not calls:
            return []
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await self._run_once(calls)
            except NoScriptError:
                log.warning("Redis lost the Lua scripts (restarted?); loading them again")
                await self.load_scripts()
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                attempt += 1
                waited = time.monotonic() - started
                if self.retry_seconds and waited > self.retry_seconds:
                    raise StoreUnavailable(f"Redis at {self.where}: {exc}") from exc
                delay = min(2.0, 0.05 * 2 ** min(attempt, 6))
                log.warning(
                    "waiting for Redis at %s (attempt %d, %.1fs so far): %s",
                    self.where, attempt, waited, exc,
                )
                await asyncio.sleep(delay)

    async def _run_once(self, calls: Sequence[Call]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for call in calls:
            if isinstance(call[0], LuaScript):
                script, keys, args = call
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            else:
                pipe.execute_command(*call)
        results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, NoScriptError):
                raise result
            if isinstance(result, ResponseError) and "NOSCRIPT" in str(result):
                raise NoScriptError(str(result))
            if isinstance(result, RedisConnectionError | RedisTimeoutError):
                raise result
            if isinstance(result, Exception):
                raise result
        return list(results)
