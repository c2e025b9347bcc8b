"""Redis connection and resilient pipelined execution.

``Runner.run(calls)`` sends a list of commands in one round trip (per node on a cluster) and
returns their results. It is the only place that talks to Redis for the store:

- scripts are called by SHA and loaded once; after a Redis restart (NOSCRIPT) they are loaded
  again and the round trip repeated (every script is idempotent, so repeating is safe);
- connection errors and timeouts are retried with capped exponential backoff, logging what it
  is waiting for, for ``redis_retry_seconds`` (0 = forever). Effects are never acknowledged
  upstream before Redis has answered.

On a Redis Cluster (``redis_cluster``) the same code runs on redis-py's ``RedisCluster``:
SCRIPT LOAD goes to every primary, a pipeline is split per node (one round trip each, in
parallel) and every EVALSHA is routed by its keys' slot; the store keeps each call's keys in one
slot (hash tags, one APPLY_PAIRS call per item), so CROSSSLOT cannot happen. ``scan_iter``
visits every primary. Tested on three masters (tests/integration/test_cluster.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry  # the asyncio one: the sync one warns on every client
from redis.backoff import ExponentialBackoff
from redis.exceptions import (
    ClusterDownError,
    NoScriptError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from xsell.config.settings import Settings, mask_url
from xsell.models.errors import StoreUnavailable, XsellError
from xsell.retrying import Backoff, Failure, RetryPolicy, retry_async
from xsell.store.backend.scripts import LuaScript, registered_scripts

log = logging.getLogger(__name__)

# Waited for, never raised to the handler (which would dead-letter the events): a lost
# connection, a timeout, and a Redis Cluster that is down (CLUSTERDOWN from the surviving
# masters while one has no reachable replica, MASTERDOWN), resharding (TRYAGAIN) or has a
# slot without a node. Test: tests/integration/test_cluster.py (a master killed).
TRANSIENT = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    ClusterDownError,
    TryAgainError,
    SlotNotCoveredError,
)

Call = tuple[Any, ...]  # ("cmd", *args) or (LuaScript, keys, args)
RedisClient = aioredis.Redis | RedisCluster
SLOW_SECONDS = 5.0  # a round trip slower than this (+ SLOW_PER_COMMAND each) is logged
SLOW_PER_COMMAND = 0.005  # big pipelines (backfill: ~1,500 scripts) legitimately take seconds


@dataclass
class RoundTrips:
    """What this process's stores sent to Redis: pipelined round trips and the commands in
    them (a script call counts once). Read by ``xsell bench``; two additions per round trip."""

    round_trips: int = 0
    commands: int = 0


ROUND_TRIPS = RoundTrips()


def client_options(settings: Settings) -> dict[str, Any]:
    """redis-py keyword options from the settings: timeouts, credentials, TLS files.

    ``redis_password`` / ``redis_username`` override the URL's; TLS is on with a
    ``rediss://`` URL (certificates verified, host name checked).
    """
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": 10.0,
        "socket_connect_timeout": 5.0,
        "health_check_interval": 30,
    }
    if settings.redis.password is not None:
        options["password"] = settings.redis.password.get_secret_value()
    if settings.redis.username:
        options["username"] = settings.redis.username
    if settings.redis.tls_ca_file:
        options["ssl_ca_certs"] = settings.redis.tls_ca_file
    if settings.redis.tls_cert_file:
        options["ssl_certfile"] = settings.redis.tls_cert_file
        options["ssl_keyfile"] = settings.redis.tls_key_file
    return options


class _HiredisPacking:
    """Packs commands with hiredis' C packer (``hiredis.pack_command``) instead of redis-py's
    asyncio pure-Python one. Why: the worker sends ~20,000 arguments per micro-batch (item keys
    and ids of the pair scripts), and the pure-Python packer was the largest single cost of the
    worker (docs/benchmarks.md). redis-py's synchronous client already does this; the bytes
    are identical (tests/unit/test_client_packing.py)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str):
            args = (*args[0].encode().split(), *args[1:])
        return [hiredis.pack_command(args)]


class HiredisConnection(_HiredisPacking, aioredis.Connection):
    pass


class HiredisSSLConnection(_HiredisPacking, aioredis.SSLConnection):
    pass


class HiredisUnixConnection(_HiredisPacking, aioredis.UnixDomainSocketConnection):
    pass


def connection_class(url: str) -> type[aioredis.Connection | aioredis.UnixDomainSocketConnection]:
    """The hiredis-packing connection class for a redis://, rediss:// or unix:// URL."""
    scheme = url.split("://", 1)[0].lower()
    if scheme == "rediss":
        return HiredisSSLConnection
    if scheme == "unix":
        return HiredisUnixConnection
    return HiredisConnection


def connect(settings: Settings) -> RedisClient:
    """A client for ``settings.redis.url`` (cluster client when ``redis_cluster``).

    On a cluster the client discovers every primary from the URL's node, routes each command
    and EVALSHA by its keys' slot and follows MOVED/ASK redirections itself.
    """
    options = client_options(settings)
    if settings.redis.cluster:
        return RedisCluster.from_url(
            settings.redis.url,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
            **options,
        )
    return aioredis.Redis.from_url(
        settings.redis.url,
        connection_class=connection_class(settings.redis.url),
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        **options,
    )


async def ping_redis(settings: Settings, timeout: float) -> None:
    """PING the settings' Redis once (a fresh client, closed after); raises the client's
    error, or TimeoutError after ``timeout`` seconds."""
    client = connect(settings)
    try:
        await asyncio.wait_for(client.ping(), timeout)
    finally:
        await client.aclose()


async def require_redis(settings: Settings, timeout: float) -> None:
    """Raise XsellError (one line) unless Redis answers a PING within ``timeout``: what a
    command or the API says at start instead of the client's traceback."""
    try:
        await ping_redis(settings, timeout)
    except Exception as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else str(exc) or repr(exc)
        raise XsellError(
            f"Redis unreachable at {mask_url(settings.redis.url)}: {reason} (XSELL_REDIS_URL)"
        ) from None


class Runner:
    """Executes pipelined calls with script loading and retry (see module doc)."""

    def __init__(self, client: RedisClient, settings: Settings) -> None:
        self.client = client
        self.retry_seconds = settings.redis.retry_seconds
        # capped exponential backoff; 0 seconds of patience means: wait forever
        self.policy = RetryPolicy(TRANSIENT, Backoff(0.05, 2.0), self.retry_seconds or None)
        self.where = mask_url(settings.redis.url)

    async def load_scripts(self) -> None:
        """SCRIPT LOAD every script, retrying like :meth:`run` while Redis is unreachable."""
        await self._retrying(self._load_scripts_once, len(registered_scripts()))

    async def _load_scripts_once(self) -> list[Any]:
        for script in registered_scripts():
            await self.client.script_load(script.source)
        return []

    async def run(self, calls: Sequence[Call]) -> list[Any]:
        """Run ``calls`` in one pipelined round trip; results in call order."""
        if not calls:
            return []
        return await self._retrying(lambda: self._run_once(calls), len(calls))

    async def _retrying(self, once: Callable[[], Awaitable[list[Any]]], n: int) -> list[Any]:
        """``once()`` until it succeeds: scripts reloaded after NOSCRIPT (inside the retry, so
        a Redis that goes away again while loading is waited for too), connection errors and
        timeouts retried by xsell's one retry policy (xsell/retrying.py; see module doc)."""
        reload = False

        async def attempt() -> list[Any]:
            nonlocal reload
            while True:  # NOSCRIPT is no outage: load the scripts and repeat at once
                try:
                    if reload:
                        await self._load_scripts_once()
                        reload = False
                    return await self._watched(once, n)
                except NoScriptError:
                    log.warning("Redis lost the Lua scripts (restarted?); loading them again")
                    reload = True

        def waiting(failure: Failure) -> None:
            log.warning(
                "waiting for Redis at %s (attempt %d, %.1fs so far): %s",
                self.where,
                failure.failures,
                failure.elapsed,
                failure.error,
            )

        try:
            outcome = await retry_async(attempt, self.policy, waiting)
        except TRANSIENT as exc:
            raise StoreUnavailable(f"Redis at {self.where}: {exc}") from exc
        if outcome.failures:
            log.warning(
                "Redis at %s answers again after %.1fs (%d attempts)",
                self.where,
                outcome.elapsed,
                outcome.failures + 1,
            )
        return outcome.value

    async def _watched(self, once: Callable[[], Awaitable[list[Any]]], n: int) -> list[Any]:
        """``once()`` (``n`` commands), logging while Redis does not answer (a hung server:
        the socket timeout alone would stay silent until it fires). A timer on the loop says
        so every ``patience`` seconds; no extra task per round trip (the API makes thousands
        of them a second)."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        patience = SLOW_SECONDS + SLOW_PER_COMMAND * n

        timer: asyncio.TimerHandle | None = None

        def warn() -> None:
            nonlocal timer
            log.warning(
                "waiting for Redis at %s: a round trip of %d command(s) unanswered "
                "for %.0fs (Redis hung or overloaded?)",
                self.where,
                n,
                time.monotonic() - started,
            )
            timer = loop.call_later(patience, warn)

        timer = loop.call_later(patience, warn)
        try:
            return await once()
        finally:
            assert timer is not None
            timer.cancel()

    async def _run_once(self, calls: Sequence[Call]) -> list[Any]:
        ROUND_TRIPS.round_trips += 1
        ROUND_TRIPS.commands += len(calls)
        pipe = self.client.pipeline(transaction=False)
        for call in calls:
            if isinstance(call[0], LuaScript):
                script, keys, args = call
                # execute_command, not pipe.evalsha(): redis-py's ClusterPipeline blocks the
                # evalsha() method but routes a raw EVALSHA by its keys' slot
                pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            else:
                pipe.execute_command(*call)
        results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, NoScriptError):
                raise result
            if isinstance(result, ResponseError) and "NOSCRIPT" in str(result):
                raise NoScriptError(str(result))
            if isinstance(result, TRANSIENT):
                raise result
            if isinstance(result, Exception):
                raise result
        return list(results)
